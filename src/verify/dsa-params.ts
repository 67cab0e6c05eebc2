import { OID } from '../der/oid-names.js';
import { encodeDer } from '../der/writer.js';
import type { Certificate } from '../x509/certificate.js';

/**
 * RFC 5280 §6.1.4 (d)–(f) and RFC 3279 §2.3.2: a DSA subjectPublicKeyInfo may omit its domain
 * parameters and inherit the working_public_key_parameters of the certificate above it. That is
 * only knowable on a complete path, so path building defers signatures made with such a key and
 * `validatePath` checks them with the rebuilt key (PKITS 4.1.5).
 */
export function needsInheritedParams(cert: Certificate): boolean {
  const spki = cert.subjectPublicKeyInfo;
  return spki.keyAlgorithm.kind === 'dsa' && spki.algorithm.parameters === undefined;
}

/** The working parameters after `cert` (§6.1.4 (e)/(f)): its own, inherited, or none. */
export function nextWorkingParams(
  cert: Certificate,
  working: Uint8Array | undefined,
): Uint8Array | undefined {
  const spki = cert.subjectPublicKeyInfo;
  if (spki.keyAlgorithm.kind !== 'dsa') return undefined;
  return spki.algorithm.parameters ?? working;
}

/** The issuer's SPKI with inherited parameters filled in, or undefined when none apply. */
export function spkiWithParams(cert: Certificate, params: Uint8Array | undefined): Uint8Array | undefined {
  if (!params || !needsInheritedParams(cert)) return undefined;
  return encodeDer((w) =>
    w.sequence((w) => {
      w.sequence((w) => w.oid(OID.dsa).raw(params));
      w.bitString(cert.subjectPublicKeyInfo.publicKey);
    }),
  );
}
