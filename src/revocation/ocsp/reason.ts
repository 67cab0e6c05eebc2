import { crlReasonCode, crlReasonFromCode } from '../../x509/extensions/reason-code.js';
import type { CRLReason } from '../../x509/extensions/types.js';

/**
 * RFC 6960 §4.2.1: OCSP's RevokedInfo reuses RFC 5280 §5.3.1 CRLReason; the table lives with the
 * reasonCode codec in x509/extensions.
 */
export const CRL_REASON_BY_CODE: readonly (CRLReason | undefined)[] = Array.from({ length: 11 }, (_, i) =>
  crlReasonFromCode(i),
);

export const CRL_REASON_CODE: Readonly<Record<CRLReason, number>> = Object.fromEntries(
  CRL_REASON_BY_CODE.flatMap((r) => (r ? [[r, crlReasonCode(r)]] : [])),
) as Record<CRLReason, number>;
