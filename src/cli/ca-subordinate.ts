/**
 * `fleetpki ca sign --profile intermediate`: a subordinate CA certificate for a CSR, signed by the
 * root. The Authority's profiles issue end-entity certificates only, so this one issuance runs its
 * stages here — over the same store, in the same order as ca/pipeline.ts: verify the CSR (proof of
 * possession), build from the `intermediate` profile (pathLenConstraint 0, the CSR's subject and key
 * only), lint, reserve the serial with the TBSCertificate, sign with the root key, verify the
 * signature, then complete with its audit record. A failure after the reservation voids it, so a
 * serial that no one received never becomes `good`.
 */

import { sha256Hex } from '../ca/hierarchy.js';
import { sanEntry } from '../ca/policy.js';
import { defaultProvider } from '../crypto/default-provider.js';
import { assembleSigned } from '../issue/assemble.js';
import { CertificateBuilder, type Prepared } from '../issue/certificate.js';
import { verifyCsr } from '../issue/csr.js';
import { Issuer } from '../issue/issuer.js';
import { serialKey } from '../revocation/status-source.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CaDir } from './ca-dir.js';
import { CliError } from './errors.js';
import { asCliError } from './pki-files.js';

/** How many random serials are tried before giving up (a collision of 64+ random bits is a broken RNG). */
const MAX_SERIAL_DRAWS = 4;

export interface SubordinateResult {
  certificate: Certificate;
  serialHex: string;
  issuerId: string;
  clamped: boolean;
}

export async function signSubordinate(
  ca: CaDir,
  csrBytes: Uint8Array,
  o: { days?: number; csrName: string },
): Promise<SubordinateResult> {
  const rootId = ca.issuerId('root');
  const root = ca.root;
  const record = (await ca.store.listIssuers()).find((i) => i.id === rootId);
  if (!record) throw new CliError(`no root CA in ${ca.dir}`);
  const signer = await ca.keys.signer(record.key, root.subjectPublicKeyInfo.der);
  let builder: CertificateBuilder;
  let prepared: Prepared;
  let subject: string;
  let sans: string[];
  try {
    const csr = verifyCsr(csrBytes);
    subject = csr.subject.toString();
    sans = (csr.subjectAltName ?? []).map(sanEntry);
    builder = new CertificateBuilder('intermediate', { selfCheck: 'signature' })
      .fromCsr(csr)
      .issuer(Issuer.fromCertificate(root, signer));
    if (o.days !== undefined) builder.days(o.days);
    prepared = builder.prepare();
  } catch (e) {
    await ca.store.appendAudit([
      {
        time: Date.now(),
        actor: ca.requester,
        action: 'issue',
        result: `refused:${(e as { code?: string }).code ?? 'malformed-csr'}`,
        issuerId: rootId,
        detail: { profile: 'intermediate', reason: (e as Error).message.slice(0, 300) },
      },
    ]);
    throw asCliError(e, o.csrName);
  }

  let serialHex = '';
  for (let draw = 1; ; draw++) {
    serialHex = serialKey(prepared.serialNumber);
    const r = await ca.store.reserve({
      issuerId: rootId,
      serialHex,
      profile: 'intermediate',
      subject,
      sans,
      notBefore: prepared.notBefore,
      notAfter: prepared.notAfter,
      tbs: prepared.tbs.slice(),
      requester: ca.requester,
      reservedAt: Date.now(),
    });
    if (r === 'reserved') break;
    if (draw >= MAX_SERIAL_DRAWS) throw new CliError(`serial collided ${draw} times`, 70);
    prepared = builder.prepare();
  }

  let der: Uint8Array;
  try {
    const sig = signer.signSync ? signer.signSync(prepared.tbs) : await signer.sign(prepared.tbs);
    if (!defaultProvider().verify(signer.algorithm, root.subjectPublicKeyInfo.der, prepared.tbs, sig))
      throw new Error('the new signature does not verify with the root key');
    der = assembleSigned(prepared.assembly, prepared.issuer.signatureAlgorithm, sig).der.slice();
  } catch (e) {
    await ca.store.voidReservation(rootId, serialHex, {
      time: Date.now(),
      actor: ca.requester,
      action: 'issue',
      result: 'failed:sign-failed',
      issuerId: rootId,
      serialHex,
      detail: { profile: 'intermediate' },
    });
    throw new CliError(`signing failed: ${(e as Error).message}`, 70);
  }
  const fingerprint = sha256Hex(der);
  await ca.store.complete(
    { issuerId: rootId, serialHex, der, fingerprint, issuedAt: Date.now() },
    {
      time: Date.now(),
      actor: ca.requester,
      action: 'issue',
      result: 'ok',
      issuerId: rootId,
      serialHex,
      fingerprint,
      detail: { profile: 'intermediate', subject },
    },
  );
  return { certificate: parseCertificate(der), serialHex, issuerId: rootId, clamped: prepared.clamped };
}
