import { OID } from '../der/oid-names.js';
import { makeExtension } from '../x509/encode.js';
import { encodeBasicConstraints } from '../x509/extensions/basic-constraints.js';
import { encodeExtKeyUsage } from '../x509/extensions/ext-key-usage.js';
import { encodeKeyUsage, keyUsage } from '../x509/extensions/key-usage.js';
import type { BasicConstraints, Extension, KeyUsage } from '../x509/extensions/types.js';
import type { PublicKeyAlgorithm } from '../x509/spki.js';

/**
 * Issuance profiles: what each kind of certificate carries unless the caller overrides it.
 *
 * | profile      | basicConstraints (critical) | keyUsage (critical)                 | extKeyUsage  | default validity |
 * |--------------|-----------------------------|-------------------------------------|--------------|------------------|
 * | root         | cA TRUE                     | keyCertSign, cRLSign                | —            | 20 years         |
 * | intermediate | cA TRUE, pathLen 0          | keyCertSign, cRLSign                | — (optional) | 10 years         |
 * | device       | cA FALSE                    | digitalSignature (+keyEncipherment) | clientAuth   | 1 year           |
 * | server       | cA FALSE                    | digitalSignature (+keyEncipherment) | serverAuth   | 90 days          |
 *
 * End-entity keyUsage: digitalSignature for every key type — that is all TLS 1.3 and ECDHE
 * suites need. RSA keys also get keyEncipherment, for TLS 1.2 RSA key transport that small
 * embedded stacks still negotiate. EC keys do *not* get keyAgreement: static ECDH suites are
 * obsolete (RFC 8422 deprecates them), and an unused bit only widens what a stolen key can do.
 * Ed25519/Ed448 keys can only sign (RFC 8410 §5). CA certificates carry no EKU by default: Go
 * requires a leaf's purpose to appear in every CA's EKU when one is present (RECIPES §3).
 * The server profile requires a subjectAltName (RFC 9525 §6.3: names come only from the SAN).
 */
export type IssuanceProfileName = 'root' | 'intermediate' | 'device' | 'server';
export const ISSUANCE_PROFILE_NAMES: readonly IssuanceProfileName[] = [
  'root',
  'intermediate',
  'device',
  'server',
];

export interface IssuanceProfile {
  name: IssuanceProfileName;
  ca: boolean;
  defaultDays: number;
  /** Default extKeyUsage (OIDs) or none. */
  extKeyUsage?: readonly string[];
  /** Default pathLenConstraint for a CA profile. */
  pathLenConstraint?: number;
  requireSubjectAltName: boolean;
}

export const ISSUANCE_PROFILES: Readonly<Record<IssuanceProfileName, IssuanceProfile>> = {
  root: { name: 'root', ca: true, defaultDays: 7300, requireSubjectAltName: false },
  intermediate: {
    name: 'intermediate',
    ca: true,
    defaultDays: 3650,
    pathLenConstraint: 0,
    requireSubjectAltName: false,
  },
  device: {
    name: 'device',
    ca: false,
    defaultDays: 365,
    extKeyUsage: Object.freeze([OID.clientAuth]),
    requireSubjectAltName: false,
  },
  server: {
    name: 'server',
    ca: false,
    defaultDays: 90,
    extKeyUsage: Object.freeze([OID.serverAuth]),
    requireSubjectAltName: true,
  },
};

/** An extension together with the typed value it was made from (so the linter needs no decoding). */
export interface TypedExtension<T> {
  ext: Extension;
  value: T;
}

function typed<T>(oid: string, critical: boolean, value: T, encode: (v: T) => Uint8Array): TypedExtension<T> {
  return { ext: makeExtension(oid, critical, encode(value)), value };
}

// Constant extensions, encoded once per process.
export const KU_CA = typed(OID.keyUsage, true, keyUsage('keyCertSign', 'cRLSign'), encodeKeyUsage);
const KU_SIGN = typed(OID.keyUsage, true, keyUsage('digitalSignature'), encodeKeyUsage);
const KU_SIGN_ENCIPHER = typed(
  OID.keyUsage,
  true,
  keyUsage('digitalSignature', 'keyEncipherment'),
  encodeKeyUsage,
);
const BC_END_ENTITY = typed(OID.basicConstraints, true, { cA: false }, encodeBasicConstraints);
const BC_CA = new Map<number | undefined, TypedExtension<BasicConstraints>>();
const EKU = new Map<string, TypedExtension<string[]>>();

export function basicConstraintsExtension(
  ca: boolean,
  pathLenConstraint?: number,
): TypedExtension<BasicConstraints> {
  if (!ca) return BC_END_ENTITY;
  let e = BC_CA.get(pathLenConstraint);
  if (!e) {
    const v: BasicConstraints =
      pathLenConstraint === undefined ? { cA: true } : { cA: true, pathLenConstraint };
    e = typed(OID.basicConstraints, true, v, encodeBasicConstraints);
    if (BC_CA.size < 32) BC_CA.set(pathLenConstraint, e);
  }
  return e;
}

/** The profile's keyUsage for a key (see the table above). */
export function keyUsageExtension(
  profile: IssuanceProfile,
  key: PublicKeyAlgorithm,
): TypedExtension<KeyUsage> {
  if (profile.ca) return KU_CA;
  return key.kind === 'rsa' || key.kind === 'rsa-pss' ? KU_SIGN_ENCIPHER : KU_SIGN;
}

export function keyUsageExtensionOf(v: KeyUsage, critical = true): TypedExtension<KeyUsage> {
  return typed(OID.keyUsage, critical, v, encodeKeyUsage);
}

// The profile's own array comes back for every certificate: remember the last one by identity.
let lastEkuOids: readonly string[] | undefined;
let lastEkuCritical = false;
let lastEku: TypedExtension<string[]> | undefined;

export function extKeyUsageExtension(oids: readonly string[], critical = false): TypedExtension<string[]> {
  if (oids === lastEkuOids && critical === lastEkuCritical && Object.isFrozen(oids)) return lastEku!;
  const id = `${critical ? '!' : ''}${oids.join(',')}`;
  let e = EKU.get(id);
  if (!e) {
    e = typed(OID.extKeyUsage, critical, [...oids], encodeExtKeyUsage);
    if (EKU.size < 64) EKU.set(id, e);
  }
  lastEkuOids = oids;
  lastEkuCritical = critical;
  lastEku = e;
  return e;
}
