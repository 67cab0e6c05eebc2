// Acceptance 4 (issue 2), DER layer: property tests with fast-check.
// - writer → reader round trips for random trees of every value type the writer supports, and
//   re-writing what was read gives the same bytes;
// - arbitrary bytes and mutated valid encodings given to the schema-less walker and to typed
//   reads either succeed or throw DerError — never another exception, never out of range.
// FLEETPKI_FC_SEED fixes the seed (fast-check prints it with any counterexample).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DerError,
  DerReader,
  type DerWriter,
  encodeDer,
  isPrintableString,
  Tag,
  walkDer,
} from '../../src/der/index.js';
import { mutate, mutationArb } from './mutate.js';

const seed = process.env.FLEETPKI_FC_SEED ? Number(process.env.FLEETPKI_FC_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

// ---- a value tree the writer can write and the reader can read back by the same shape ----

type Node =
  | { k: 'int'; v: bigint }
  | { k: 'bool'; v: boolean }
  | { k: 'null' }
  | { k: 'oid'; v: string }
  | { k: 'octets'; v: Uint8Array }
  | { k: 'bits'; v: Uint8Array; unused: number }
  | { k: 'utf8'; v: string }
  | { k: 'printable'; v: string }
  | { k: 'ia5'; v: string }
  | { k: 'time'; v: number }
  | { k: 'seq'; v: Node[] }
  | { k: 'set'; v: Node[] }
  | { k: 'explicit'; n: number; v: Node };

const PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";

const oidArb = fc
  .tuple(
    fc.constantFrom(0, 1, 2),
    fc.nat({ max: 39 }),
    fc.array(fc.oneof(fc.nat({ max: 200 }).map(BigInt), fc.bigInt({ min: 0n, max: 1n << 140n })), {
      maxLength: 6,
    }),
  )
  .map(([a, b, rest]) => [a, a === 2 ? b * 1000 : b, ...rest].join('.'));

const bitsArb = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.nat({ max: 7 }))
  .map(([v, unused]) => {
    const b = Uint8Array.from(v);
    b[b.length - 1]! &= (0xff << unused) & 0xff; // DER: padding bits are zero
    return { k: 'bits' as const, v: b, unused };
  });

// 1950..9999: what RFC 5280 Time can carry (UTCTime to 2049, GeneralizedTime after).
const timeArb = fc
  .integer({ min: Date.UTC(1950, 0, 1) / 1000, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 })
  .map((s) => ({ k: 'time' as const, v: s * 1000 }));

const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }).map((v) => ({ k: 'int' as const, v })),
    fc.boolean().map((v) => ({ k: 'bool' as const, v })),
    fc.constant({ k: 'null' as const }),
    oidArb.map((v) => ({ k: 'oid' as const, v })),
    fc.uint8Array({ maxLength: 300 }).map((v) => ({ k: 'octets' as const, v })),
    bitsArb,
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((v) => ({ k: 'utf8' as const, v })),
    fc
      .string({ unit: fc.constantFrom(...PRINTABLE), maxLength: 40 })
      .map((v) => ({ k: 'printable' as const, v })),
    fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((v) => ({ k: 'ia5' as const, v })),
    timeArb,
    fc.array(tie('node'), { maxLength: 6 }).map((v) => ({ k: 'seq' as const, v })),
    fc.array(tie('node'), { maxLength: 6 }).map((v) => ({ k: 'set' as const, v })),
    fc.tuple(fc.nat({ max: 30 }), tie('node')).map(([n, v]) => ({ k: 'explicit' as const, n, v })),
  ),
}));

function write(w: DerWriter, n: Node): void {
  switch (n.k) {
    case 'int':
      w.integer(n.v);
      return;
    case 'bool':
      w.boolean(n.v);
      return;
    case 'null':
      w.null();
      return;
    case 'oid':
      w.oid(n.v);
      return;
    case 'octets':
      w.octetString(n.v);
      return;
    case 'bits':
      w.bitString(n.v, n.unused);
      return;
    case 'utf8':
      w.utf8String(n.v);
      return;
    case 'printable':
      w.printableString(n.v);
      return;
    case 'ia5':
      w.ia5String(n.v);
      return;
    case 'time':
      w.time(n.v);
      return;
    case 'seq':
      w.sequence((w) => {
        for (const c of n.v) write(w, c);
      });
      return;
    case 'set':
      w.setOf((w) => {
        for (const c of n.v) write(w, c);
      });
      return;
    case 'explicit':
      w.explicit(n.n, (w) => write(w, n.v));
      return;
  }
}

/** Reads one value of the shape of `n` and returns what it holds (SET elements come back sorted). */
function read(r: DerReader, n: Node): Node {
  switch (n.k) {
    case 'int':
      return { k: 'int', v: r.readBigInt('int') };
    case 'bool':
      return { k: 'bool', v: r.readBoolean('bool') };
    case 'null':
      r.readNull('null');
      return n;
    case 'oid':
      return { k: 'oid', v: r.readOid('oid') };
    case 'octets':
      return { k: 'octets', v: Uint8Array.from(r.readOctetString('octets')) };
    case 'bits': {
      const b = r.readBitString('bits');
      return { k: 'bits', v: Uint8Array.from(b.bytes), unused: b.unusedBits };
    }
    case 'utf8':
      return { k: 'utf8', v: r.readStringOf(Tag.UTF8String, 'utf8') };
    case 'printable':
      return { k: 'printable', v: r.readStringOf(Tag.PrintableString, 'printable') };
    case 'ia5':
      return { k: 'ia5', v: r.readStringOf(Tag.IA5String, 'ia5') };
    case 'time':
      return { k: 'time', v: r.readTime('time') };
    case 'seq': {
      const s = r.readSequence('seq');
      const v = n.v.map((c) => read(s, c));
      s.finish();
      return { k: 'seq', v };
    }
    case 'set': {
      // The writer sorted the elements: read them in encoding order, matching each to a shape.
      const s = r.readSetOf('set');
      const encoded = n.v.map((c) => ({ c, der: encodeDer((w) => write(w, c)) }));
      encoded.sort((a, b) => compare(a.der, b.der));
      const v = encoded.map((e) => read(s, e.c));
      s.finish();
      return { k: 'set', v };
    }
    case 'explicit': {
      const e = r.readExplicit(n.n, 'explicit');
      const v = read(e, n.v);
      e.finish();
      return { k: 'explicit', n: n.n, v };
    }
  }
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The value as the reader returns it: SET elements in DER order, times at whole seconds. */
function canonical(n: Node): Node {
  if (n.k === 'seq') return { k: 'seq', v: n.v.map(canonical) };
  if (n.k === 'explicit') return { k: 'explicit', n: n.n, v: canonical(n.v) };
  if (n.k === 'set') {
    const items = n.v.map((c) => ({ c: canonical(c), der: encodeDer((w) => write(w, c)) }));
    items.sort((a, b) => compare(a.der, b.der));
    return { k: 'set', v: items.map((i) => i.c) };
  }
  return n;
}

/** Only DerError may escape a read of hostile bytes. */
function onlyDerError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DerError))
      throw new Error(`non-DerError escaped: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
  }
}

describe('DER property tests', () => {
  it('writer → reader round trip of random trees; re-writing gives the same bytes (3 000 trees)', () => {
    fc.assert(
      fc.property(node, (n) => {
        const der = encodeDer((w) => write(w, n));
        const r = DerReader.from(der, 'tree');
        const back = read(r, n);
        r.finish();
        assert.deepEqual(back, canonical(n));
        assert.deepEqual(
          encodeDer((w) => write(w, back)),
          der,
        );
        // The schema-less walker accepts all canonical output too.
        walkDer(der);
      }),
      params(3000),
    );
  });

  it('PrintableString writer refuses exactly the strings outside the strict alphabet', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 12 }), (s) => {
        let ok = true;
        try {
          encodeDer((w) => w.printableString(s));
        } catch (e) {
          assert.ok(e instanceof DerError);
          ok = false;
        }
        assert.equal(ok, isPrintableString(s));
      }),
      params(1000),
    );
  });

  it('random bytes: walkDer and typed reads return or throw DerError (5 000 inputs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        onlyDerError(() => walkDer(b));
        onlyDerError(() => {
          const r = DerReader.from(b, 'x');
          const s = r.readSequence('s');
          while (!s.atEnd()) {
            const t = s.peekTag();
            if (t === Tag.INTEGER) s.readBigInt('i');
            else if (t === Tag.OID) s.readOid('o');
            else if (t === Tag.UTCTime || t === Tag.GeneralizedTime) s.readTime('t');
            else if (t === Tag.BIT_STRING) s.readBitString('b');
            else if (t === Tag.SET) s.readSetOf('set');
            else if (t === Tag.BOOLEAN) s.readBoolean('b');
            else s.readString('str');
          }
        });
      }),
      params(5000),
    );
  });

  it('mutated valid encodings: walkDer returns or throws DerError (3 000 inputs)', () => {
    fc.assert(
      fc.property(node, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (n, muts) => {
        let b = encodeDer((w) => write(w, n));
        for (const m of muts) b = mutate(b, m);
        onlyDerError(() => walkDer(b));
      }),
      params(3000),
    );
  });
});
