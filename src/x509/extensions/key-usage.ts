import { Tag } from '../../der/tags.js';
import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, maskBits, parseValue, readNamedBits } from './common.js';
import type { KeyUsage } from './types.js';

/**
 * RFC 5280 §4.2.1.3 keyUsage (2.5.29.15):
 *   KeyUsage ::= BIT STRING { digitalSignature(0), nonRepudiation(1), keyEncipherment(2),
 *     dataEncipherment(3), keyAgreement(4), keyCertSign(5), cRLSign(6), encipherOnly(7), decipherOnly(8) }
 *
 * Strict: at least one bit must be set (§4.2.1.3: "at least one of the bits MUST be set to 1")
 * → `X509Error('bad-extension')`; bits past decipherOnly → `bad-extension`.
 * Tolerated: trailing zero bits not removed (see `readNamedBits`).
 */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const satisfies readonly (keyof KeyUsage)[];

export function keyUsageFromMask(mask: number): KeyUsage {
  return {
    digitalSignature: (mask & 1) !== 0,
    nonRepudiation: (mask & 2) !== 0,
    keyEncipherment: (mask & 4) !== 0,
    dataEncipherment: (mask & 8) !== 0,
    keyAgreement: (mask & 16) !== 0,
    keyCertSign: (mask & 32) !== 0,
    cRLSign: (mask & 64) !== 0,
    encipherOnly: (mask & 128) !== 0,
    decipherOnly: (mask & 256) !== 0,
  };
}

/** Bit i set ⇔ `KEY_USAGE_BITS[i]` asserted. Named reads: a loop over the names is ~10× slower. */
export function keyUsageMask(v: KeyUsage): number {
  return (
    (v.digitalSignature ? 1 : 0) |
    (v.nonRepudiation ? 2 : 0) |
    (v.keyEncipherment ? 4 : 0) |
    (v.dataEncipherment ? 8 : 0) |
    (v.keyAgreement ? 16 : 0) |
    (v.keyCertSign ? 32 : 0) |
    (v.cRLSign ? 64 : 0) |
    (v.encipherOnly ? 128 : 0) |
    (v.decipherOnly ? 256 : 0)
  );
}

/**
 * A KeyUsage with the listed bits set, e.g. `keyUsage('keyCertSign', 'cRLSign')`. Bit 1 may be
 * named `contentCommitment`, its current X.509 name (RFC 5280 §4.2.1.3), or `nonRepudiation`.
 */
export function keyUsage(...bits: ((typeof KEY_USAGE_BITS)[number] | 'contentCommitment')[]): KeyUsage {
  const v = keyUsageFromMask(0);
  for (const b of bits) v[b === 'contentCommitment' ? 'nonRepudiation' : b] = true;
  return v;
}

export function parseKeyUsage(value: Uint8Array, offset = 0): KeyUsage {
  return parseValue(value, offset, (r) => {
    const mask = readNamedBits(r, Tag.BIT_STRING, 'KeyUsage', 9);
    if (mask === 0) fail(r, 'bad-extension', 'KeyUsage has no bit set (RFC 5280 §4.2.1.3)', 0);
    return keyUsageFromMask(mask);
  });
}

export function encodeKeyUsage(v: KeyUsage): Uint8Array {
  const mask = keyUsageMask(v);
  if (mask === 0) throw new X509Error('cannot-encode', 'KeyUsage needs at least one bit (RFC 5280 §4.2.1.3)');
  return encodeDer((w) => w.namedBits(maskBits(mask)), 8);
}
