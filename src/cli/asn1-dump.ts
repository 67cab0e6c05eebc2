/**
 * `fleetpki inspect --asn1`: a schema-less DER tree (like `openssl asn1parse`), built on
 * `walkDer` so hostile nesting ends in a `too-deep` DerError rather than a RangeError.
 * For private keys the caller passes `redact`, and primitive contents are never shown.
 */
import { toHex } from '../der/bytes.js';
import { decodeOid } from '../der/oid.js';
import { oidName } from '../der/oid-names.js';
import { decodeString, STRING_TAGS } from '../der/strings.js';
import { Tag, tagName } from '../der/tags.js';
import { decodeGeneralizedTime, decodeUtcTime } from '../der/time.js';
import { type DerNode, walkDer } from '../der/walk.js';
import { isoTime } from './format.js';

export interface Asn1Node {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  tag: string;
  value?: string;
  children?: Asn1Node[];
}

/** Longest primitive value shown in full; longer ones are summarised by length. */
const MAX_SHOWN = 48;

function primitiveValue(tag: number, v: Uint8Array): string | undefined {
  try {
    switch (tag) {
      case Tag.OID: {
        const o = decodeOid(v);
        const n = oidName(o);
        return n ? `${o} (${n})` : o;
      }
      case Tag.BOOLEAN:
        return v.length === 1 ? (v[0] ? 'TRUE' : 'FALSE') : undefined;
      case Tag.NULL:
        return undefined;
      case Tag.UTCTime:
        return isoTime(decodeUtcTime(v));
      case Tag.GeneralizedTime:
        return isoTime(decodeGeneralizedTime(v));
      default:
        if (STRING_TAGS.has(tag)) return JSON.stringify(decodeString(tag, v));
    }
  } catch {
    // Malformed content is shown as hex below.
  }
  if (v.length === 0) return undefined;
  return v.length <= MAX_SHOWN ? toHex(v) : `${toHex(v.subarray(0, 16))}… (${v.length} bytes)`;
}

/**
 * The DER tree of `der`. `redact` hides every primitive's content (private keys); `secret` lists
 * offsets of single values to hide (a CSR's challengePassword).
 */
export function asn1Tree(
  der: Uint8Array,
  redact: boolean,
  secret: ReadonlySet<number> = new Set(),
): Asn1Node {
  const root = walkDer(der);
  const conv = (n: DerNode, depth: number): Asn1Node => {
    const out: Asn1Node = {
      offset: n.offset,
      depth,
      headerLength: n.headerLength,
      length: n.length,
      tag: tagName(n.tag),
    };
    if (n.children) out.children = n.children.map((c) => conv(c, depth + 1));
    // Key material lives in INTEGERs and OCTET/BIT STRINGs; OIDs (algorithm, curve) are public.
    else if ((redact && n.tag !== Tag.OID && n.tag !== Tag.NULL) || secret.has(n.offset))
      out.value = n.length > 0 ? '(redacted)' : undefined;
    else
      out.value = primitiveValue(
        n.tag,
        der.subarray(n.offset + n.headerLength, n.offset + n.headerLength + n.length),
      );
    return out;
  };
  return conv(root, 0);
}

/** `openssl asn1parse`-like lines: `offset:d=depth hl=.. l=.. cons|prim: TAG value`. */
export function asn1Text(root: Asn1Node): string[] {
  const out: string[] = [];
  const stack: Asn1Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const kind = n.children ? 'cons' : 'prim';
    const val = n.value !== undefined ? ` ${n.value}` : '';
    out.push(
      `${String(n.offset).padStart(5)}:d=${n.depth} hl=${n.headerLength} l=${String(n.length).padStart(4)} ${kind}: ${' '.repeat(n.depth)}${n.tag}${val}`,
    );
    if (n.children) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}
