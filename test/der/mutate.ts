// Byte-level mutations for property tests and the fuzzer: bit flips, truncations, insertions and
// overwrites with the values that matter to DER (length forms, high tags, sign bits).
import fc from 'fast-check';

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'set'; at: number; v: number }
  | { op: 'delete'; at: number; n: number }
  | { op: 'duplicate'; at: number; n: number };

/** Bytes DER treats specially: 0x80 (indefinite / non-minimal), 0x81..0x84 and 0xff (length forms), 0x1f (high tag). */
export const SPECIAL_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x1f, 0x30, 0x31, 0xa0, 0xa3];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), v: fc.constantFrom(...SPECIAL_BYTES) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);

export function mutate(b: Uint8Array, m: Mutation): Uint8Array {
  if (b.length === 0) return m.op === 'insert' ? m.bytes : b;
  const at = m.at % b.length;
  switch (m.op) {
    case 'flip': {
      const out = Uint8Array.from(b);
      out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'cut':
      return b.subarray(0, at);
    case 'insert':
      return concat(b.subarray(0, at), m.bytes, b.subarray(at));
    case 'set': {
      const out = Uint8Array.from(b);
      out[at] = m.v;
      return out;
    }
    case 'delete':
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + m.n)));
    case 'duplicate':
      return concat(b.subarray(0, at + Math.min(m.n, b.length - at)), b.subarray(at));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `depth` nested SEQUENCEs with minimal lengths: 30 83 .. 30 83 .. … 30 00. */
export function nestedSequences(depth: number): Uint8Array {
  const sizes = new Array<number>(depth);
  sizes[depth - 1] = 2;
  for (let i = depth - 2; i >= 0; i--) {
    const inner = sizes[i + 1]!;
    sizes[i] = 1 + (inner < 0x80 ? 1 : inner < 0x100 ? 2 : inner < 0x10000 ? 3 : 4) + inner;
  }
  const out = new Uint8Array(sizes[0]!);
  let p = 0;
  for (let i = 0; i < depth; i++) {
    const len = i + 1 < depth ? sizes[i + 1]! : 0;
    const hdr =
      len < 0x80
        ? [0x30, len]
        : len < 0x100
          ? [0x30, 0x81, len]
          : len < 0x10000
            ? [0x30, 0x82, len >> 8, len & 0xff]
            : [0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
    out.set(hdr, p);
    p += hdr.length;
  }
  return out;
}
