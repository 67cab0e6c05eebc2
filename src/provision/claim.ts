// Node only: node:crypto as the default provider (the portable core would otherwise use WebCrypto).
import '../crypto/index.js';
import type { Authority } from '../ca/authority.js';
import { CaError } from '../ca/errors.js';
import { CLAIM_PROFILE, claimOf } from '../ca/provisioning-config.js';
import type { KeyType } from '../crypto/algorithms.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import { Name } from '../x509/name.js';
import { ProvisionError } from './errors.js';

/**
 * Claim certificates: what a device leaves the factory with to provision its own certificate
 * over MQTT. Each is issued by the Authority under the `claim` profile with CN `claim-<label>`
 * (the claim identity of the configuration's `provisioning.claims.<label>`, which the broker ACL
 * confines to that claim's request topics) and is revocable like any certificate: once revoked,
 * the broker's CRL refuses it at connect and the service refuses its requests.
 *
 * Several certificates of one label share the identity (and its rate limit) but not their keys, so
 * one leaked from a production line can be revoked without stopping the others.
 *
 *   const [c] = await createClaims(ca, { label: 'factory-a', requester: 'cli:ops' });
 *   // c.certPem (leaf then chain, without the root), c.keyPem (unencrypted PKCS#8)
 */
export interface CreateClaimsOptions {
  label: string;
  /** How many certificates (each with its own key). Default 1, at most 10 000. */
  count?: number;
  requester: string;
  keyType?: KeyType;
  /** Validity in days; default the configuration's `claimValidityDays`. */
  validityDays?: number;
}

export interface ClaimCredential {
  identity: string;
  serialHex: string;
  notAfter: number;
  /** The claim certificate then its CA chain below the root (PEM). */
  certPem: string;
  /** Unencrypted PKCS#8 PEM. */
  keyPem: string;
}

export async function createClaims(ca: Authority, o: CreateClaimsOptions): Promise<ClaimCredential[]> {
  const p = ca.config.provisioning;
  if (!p) throw new ProvisionError('bad-input', 'the CA configuration has no provisioning section');
  const claim = claimOf(p, `claim-${o.label}`);
  if (!claim)
    throw new ProvisionError(
      'bad-input',
      `no claim label "${o.label}" in provisioning.claims (known: ${Object.keys(p.claims).join(', ') || 'none'})`,
    );
  const count = o.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 10_000)
    throw new ProvisionError('bad-input', 'count must be 1 to 10 000');
  const out: ClaimCredential[] = [];
  for (let i = 0; i < count; i++) {
    const pair = await generateKeyPair(o.keyType ?? 'ec-p256');
    const csr = await new CsrBuilder()
      .subject(Name.fromRdns([[{ type: '2.5.4.3', value: claim.identity }]]))
      .sign(await KeySigner.create(pair.privateKey));
    const r = await ca.issue(csr.der, {
      profile: CLAIM_PROFILE,
      requester: o.requester,
      validityDays: o.validityDays ?? p.claimValidityDays,
    });
    if (r.status !== 'issued') throw new CaError('bad-config', 'the claim profile must not need approval');
    const chain = [r.certificate, ...r.chain.filter((c) => !c.subject.equals(c.issuer))];
    out.push({
      identity: claim.identity,
      serialHex: r.serialHex,
      notAfter: r.notAfter,
      certPem: chain.map((c) => c.toPem()).join(''),
      keyPem: await exportKey(pair.privateKey, { format: 'pkcs8' }),
    });
  }
  return out;
}
