import type { CRLReason } from '../../x509/extensions/types.js';

/**
 * RFC 5280 §5.3.1 CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), cACompromise (2),
 *   affiliationChanged (3), superseded (4), cessationOfOperation (5), certificateHold (6),
 *   -- value 7 is not used -- removeFromCRL (8), privilegeWithdrawn (9), aACompromise (10) }
 * OCSP's RevokedInfo reuses it (RFC 6960 §4.2.1).
 */
export const CRL_REASON_BY_CODE: readonly (CRLReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

export const CRL_REASON_CODE: Readonly<Record<CRLReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};
