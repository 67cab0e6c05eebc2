import { DerError, DerReader, encodeDer } from '../der/index.js';
import type { CurveInfo } from './algorithms.js';
import { CryptoError } from './errors.js';

/**
 * RFC 3279 §2.2.3:  Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
 * Read with the strict DER reader (so BER forms, extra bytes and non-minimal integers are
 * refused) and range-checked: 0 < r, s < n (SEC 1 v2 §4.1.4 step 1). Returns the magnitudes
 * (no sign octet), or undefined when the value is not an acceptable signature — a malformed
 * signature is simply an invalid one, never an exception.
 */
export function readEcdsaSignature(
  sig: Uint8Array,
  curve: CurveInfo,
): { r: Uint8Array; s: Uint8Array } | undefined {
  return readRsSignature(sig, curve.order);
}

/**
 * Ecdsa-Sig-Value (RFC 3279 §2.2.3) and Dss-Sig-Value (§2.2.2) share one shape,
 * SEQUENCE { r INTEGER, s INTEGER }: strict DER, and 0 < r, s < `order` (n or q).
 */
export function readRsSignature(
  sig: Uint8Array,
  order: Uint8Array,
): { r: Uint8Array; s: Uint8Array } | undefined {
  // Fast reject before building a reader: a SEQUENCE of two INTEGERs is 8..(2*(size+3)+4) bytes.
  if (sig.length < 8 || sig[0] !== 0x30) return undefined;
  try {
    const top = DerReader.from(sig, 'Ecdsa-Sig-Value');
    const seq = top.readSequence('Ecdsa-Sig-Value');
    const r = seq.readUnsignedInteger('r');
    const s = seq.readUnsignedInteger('s');
    seq.finish();
    top.finish();
    if (!inRange(r, order) || !inRange(s, order)) return undefined;
    return { r, s };
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

/** 0 < v < n for an unsigned minimal magnitude `v` (a zero is the single byte 00). */
function inRange(v: Uint8Array, n: Uint8Array): boolean {
  if (v.length === 1 && v[0] === 0) return false;
  if (v.length !== n.length) return v.length < n.length;
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== n[i]) return v[i]! < n[i]!;
  }
  return false;
}

/** Strict DER Ecdsa-Sig-Value → fixed-width r||s (IEEE P1363, what WebCrypto and PKCS#11 use). */
export function ecdsaDerToP1363(sig: Uint8Array, curve: CurveInfo): Uint8Array | undefined {
  const rs = readEcdsaSignature(sig, curve);
  if (!rs) return undefined;
  const out = new Uint8Array(2 * curve.size);
  out.set(rs.r, curve.size - rs.r.length);
  out.set(rs.s, 2 * curve.size - rs.s.length);
  return out;
}

/** Fixed-width r||s → DER Ecdsa-Sig-Value (minimal INTEGERs). */
export function ecdsaP1363ToDer(sig: Uint8Array, curve: CurveInfo): Uint8Array {
  if (sig.length !== 2 * curve.size)
    throw new CryptoError(
      'sign-failed',
      `raw ECDSA signature has ${sig.length} bytes, expected ${2 * curve.size}`,
    );
  return encodeDer(
    (w) =>
      w.sequence((w) => {
        w.unsignedInteger(sig.subarray(0, curve.size));
        w.unsignedInteger(sig.subarray(curve.size));
      }),
    2 * curve.size + 12,
  );
}
