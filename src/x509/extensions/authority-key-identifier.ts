import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { writeGeneralName } from '../general-name.js';
import {
  addressNamesContent,
  checkAddressNamesForEncoding,
  parseValue,
  readImplicitInteger,
} from './common.js';
import type { AuthorityKeyIdentifier } from './types.js';

/**
 * RFC 5280 §4.2.1.1 authorityKeyIdentifier (2.5.29.35):
 *   SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL,
 *              authorityCertIssuer [1] IMPLICIT GeneralNames OPTIONAL,
 *              authorityCertSerialNumber [2] IMPLICIT INTEGER OPTIONAL }
 * The RFC requires [1] and [2] together or not at all: that is a rule for issuers, so both are
 * decoded independently and the pairing is left to the linter/verifier.
 * The serial is kept as INTEGER content bytes (sign octet included), minimal form checked; a
 * negative serial is kept, as certificate serials are (RFC 5280 §4.1.2.2 tolerance).
 */
export function parseAuthorityKeyIdentifier(value: Uint8Array, offset = 0): AuthorityKeyIdentifier {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('AuthorityKeyIdentifier');
    const out: AuthorityKeyIdentifier = {};
    if (s.peekTag() === 0x80) out.keyIdentifier = s.readValue(0x80, 'keyIdentifier');
    if (s.peekTag() === 0xa1) {
      const off = s.pos;
      out.authorityCertIssuer = addressNamesContent(s.readConstructed(0xa1, 'authorityCertIssuer'), off);
    }
    if (s.peekTag() === 0x82)
      out.authorityCertSerialNumber = readImplicitInteger(s, 0x82, 'authorityCertSerialNumber');
    s.finish();
    return out;
  });
}

export function encodeAuthorityKeyIdentifier(v: AuthorityKeyIdentifier): Uint8Array {
  if (v.authorityCertIssuer) checkAddressNamesForEncoding(v.authorityCertIssuer, 'authorityCertIssuer');
  if (v.authorityCertSerialNumber && v.authorityCertSerialNumber.length === 0)
    throw new X509Error('cannot-encode', 'authorityCertSerialNumber is empty');
  return encodeDer((w) =>
    w.sequence((w) => {
      if (v.keyIdentifier) w.tlv(0x80, v.keyIdentifier);
      if (v.authorityCertIssuer)
        w.constructed(0xa1, (w) => {
          for (const g of v.authorityCertIssuer!) writeGeneralName(w, g);
        });
      if (v.authorityCertSerialNumber) w.integer(v.authorityCertSerialNumber, 0x82);
    }),
  );
}
