import { OID } from '../../der/oid-names.js';
import { DerReader } from '../../der/reader.js';
import { encodeDer } from '../../der/writer.js';
import { makeExtension } from '../../x509/encode.js';
import type { Extension } from '../../x509/extensions/types.js';
import { RevocationError } from '../errors.js';

/**
 * RFC 9654 §2.1 (obsoletes RFC 8954): id-pkix-ocsp-nonce, extnValue = DER of
 *   Nonce ::= OCTET STRING (SIZE(1..128))
 * Clients SHOULD send 32 octets; responders accept 1..128. The brief of the CA said 1..32 (RFC
 * 8954); RFC 9654 raised the maximum, and a responder that rejects longer nonces breaks
 * clients following the newer RFC, so 128 is the limit here.
 */
export const NONCE_MIN = 1;
export const NONCE_MAX = 128;
/** RFC 9654 §2.1: "the length of the nonce SHOULD be 32 octets". */
export const NONCE_DEFAULT_LENGTH = 32;

/** The nonce octets inside a nonce extension's extnValue; `bad-nonce` if malformed or out of range. */
export function parseNonce(extnValue: Uint8Array): Uint8Array {
  let nonce: Uint8Array;
  try {
    const r = DerReader.from(extnValue, 'Nonce');
    nonce = r.readOctetString('Nonce');
    r.finish();
  } catch (e) {
    throw new RevocationError('bad-nonce', 'nonce extension value is not a DER OCTET STRING', { cause: e });
  }
  if (nonce.length < NONCE_MIN || nonce.length > NONCE_MAX)
    throw new RevocationError(
      'bad-nonce',
      `nonce of ${nonce.length} octets (must be ${NONCE_MIN}..${NONCE_MAX})`,
    );
  return nonce;
}

export function nonceExtension(nonce: Uint8Array): Extension {
  if (nonce.length < NONCE_MIN || nonce.length > NONCE_MAX)
    throw new RevocationError(
      'bad-nonce',
      `nonce of ${nonce.length} octets (must be ${NONCE_MIN}..${NONCE_MAX})`,
    );
  return makeExtension(
    OID.ocspNonce,
    false,
    encodeDer((w) => w.octetString(nonce)),
  );
}

/** The nonce in an extension list, if any (validated). */
export function findNonce(extensions: readonly Extension[]): Uint8Array | undefined {
  for (const e of extensions) if (e.oid === OID.ocspNonce) return parseNonce(e.value);
  return undefined;
}
