import { DerError } from './errors.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from './reader.js';

/** A generic DER tree node, for dumps (`inspect --asn1`) and fuzzing the TLV layer. */
export interface DerNode {
  tag: number;
  offset: number;
  headerLength: number;
  length: number;
  children?: DerNode[];
}

/**
 * Parses arbitrary DER into a tree without a schema. Constructed values (and OCTET/BIT STRINGs
 * only if `descend` says so) are walked with an explicit stack bounded by `limits.maxDepth`,
 * so deeply nested hostile input ends in `too-deep`, never in a RangeError.
 */
export function walkDer(
  bytes: Uint8Array,
  limits: Readonly<DerLimits> = DEFAULT_LIMITS,
  maxNodes = 1_000_000,
): DerNode {
  let nodes = 0;
  const visit = (r: DerReader, name: string): DerNode => {
    if (++nodes > maxNodes) throw new DerError('too-many-elements', 'too many DER nodes', r.pos, r.path());
    const t = r.readAny(name);
    const headerLength = t.der.length - t.value.length;
    const node: DerNode = { tag: t.tag, offset: t.offset, headerLength, length: t.value.length };
    if (t.tag & 0x20) {
      if (r.depth + 1 > limits.maxDepth)
        r.fail('too-deep', `nesting deeper than ${limits.maxDepth}`, t.offset);
      const child = new DerReader(
        r.bytes,
        t.offset + headerLength,
        t.offset + t.der.length,
        r.depth + 1,
        name,
        r,
        limits,
      );
      node.children = [];
      while (!child.atEnd()) node.children.push(visit(child, `[${node.children.length}]`));
    }
    return node;
  };
  const r = DerReader.from(bytes, 'DER', limits);
  const root = visit(r, 'value');
  r.finish();
  return root;
}
