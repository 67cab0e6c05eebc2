import { createHash } from 'node:crypto';
import type { Signer } from '../crypto/signer.js';
import { CertificateBuilder } from '../issue/certificate.js';
import { Issuer } from '../issue/issuer.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { NameConstraints } from '../x509/extensions/types.js';
import { generalNameToString } from '../x509/general-name.js';
import { CaError } from './errors.js';
import type { IssuerRecord, IssuerStatus, Store } from './store/types.js';

/**
 * The CA hierarchy as the Authority holds it: a root and its issuing intermediates, read from the
 * store (`listIssuers`) and indexed.
 *
 * Ids and rotation: an intermediate's id names its *lineage* (`issuing`, `devices`); rotating it
 * adds a new generation `<lineage>-g2`, `-g3`, … (a new key and certificate, a subject with ` G2`
 * appended so every relying party can tell the two CA certificates apart) and sets the old one
 * `retiring`. Profiles name the lineage; issuance uses its newest `active` generation. A
 * `retiring` issuer issues nothing new but keeps its CRL published and its OCSP answered, so the
 * certificates it issued stay verifiable until they expire; then it becomes `retired`.
 */
export class LoadedIssuer {
  readonly lineage: string;
  readonly generation: number;

  constructor(
    readonly record: IssuerRecord,
    readonly certificate: Certificate,
    /** The certificates above this one, nearest first, ending with the root (empty for a root). */
    readonly chain: readonly Certificate[],
  ) {
    const m = /^(.*)-g([0-9]+)$/.exec(record.id);
    this.lineage = m ? m[1]! : record.id;
    this.generation = m ? Number(m[2]) : 1;
  }

  get id(): string {
    return this.record.id;
  }
  get status(): IssuerStatus {
    return this.record.status;
  }
  get role(): 'root' | 'intermediate' {
    return this.record.role;
  }
}

/** What the admin API and dashboard show about an issuer. */
export interface IssuerInfo {
  id: string;
  lineage: string;
  role: 'root' | 'intermediate';
  parentId?: string;
  status: IssuerStatus;
  /** The issuer the profiles of this lineage use and `/ca/chain.pem` serves first. */
  isDefault: boolean;
  subject: string;
  serialHex: string;
  notBefore: number;
  notAfter: number;
  /** e.g. `EC P-256`. */
  keyAlgorithm: string;
  keyStorage: 'file' | 'pkcs11';
  /** SHA-256 of the certificate DER, lower-case hex. */
  fingerprint: string;
  pathLenConstraint?: number;
  nameConstraints?: { permitted: string[]; excluded: string[] };
  createdAt: number;
  /** PEM of the CA certificate. */
  certificatePem: string;
}

/** SHA-256 of DER, lower-case hex (certificate fingerprints, as the store keeps them). */
export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Every stored issuer, linked to its parents, with lookups by id and lineage. */
export class Hierarchy {
  private constructor(
    readonly byId: ReadonlyMap<string, LoadedIssuer>,
    readonly defaultLineage: string,
  ) {}

  /** Reads every issuer from the store and links each to its parents. */
  static async load(store: Store, defaultLineage: string): Promise<Hierarchy> {
    const records = await store.listIssuers();
    const certs = new Map<string, Certificate>();
    for (const r of records) {
      try {
        certs.set(r.id, parseCertificate(r.certificate));
      } catch (e) {
        throw new CaError('bad-issuer', `stored issuer ${r.id}: ${(e as Error).message}`, { issuerId: r.id });
      }
    }
    const byId = new Map<string, LoadedIssuer>();
    for (const r of records) {
      const chain: Certificate[] = [];
      let p = r.parentId;
      // Bounded walk: a hierarchy has a handful of levels; a loop in stored data stops here.
      for (let depth = 0; p !== undefined && depth < 16; depth++) {
        const parent = records.find((x) => x.id === p);
        if (!parent)
          throw new CaError('bad-issuer', `issuer ${r.id}: parent ${p} is not stored`, { issuerId: r.id });
        chain.push(certs.get(parent.id)!);
        p = parent.parentId;
      }
      byId.set(r.id, new LoadedIssuer(r, certs.get(r.id)!, chain));
    }
    return new Hierarchy(byId, defaultLineage);
  }

  get isEmpty(): boolean {
    return this.byId.size === 0;
  }

  get(id: string): LoadedIssuer | undefined {
    return this.byId.get(id);
  }

  /** The root (the issuer without parent that others descend from). */
  get root(): LoadedIssuer | undefined {
    for (const i of this.byId.values()) if (i.role === 'root' && i.status !== 'retired') return i;
    return undefined;
  }

  /** The newest active generation of a lineage (the issuer profiles of that lineage use). */
  active(lineage: string): LoadedIssuer | undefined {
    let best: LoadedIssuer | undefined;
    for (const i of this.byId.values())
      if (i.role === 'intermediate' && i.lineage === lineage && i.status === 'active')
        if (!best || i.generation > best.generation) best = i;
    return best;
  }

  /** Issuers that still sign CRLs and OCSP answers (active and retiring). */
  serving(): LoadedIssuer[] {
    return [...this.byId.values()].filter((i) => i.status !== 'retired');
  }

  all(): LoadedIssuer[] {
    return [...this.byId.values()];
  }

  /** The next generation's id of a lineage. */
  nextGenerationId(lineage: string): string {
    let n = 1;
    for (const i of this.byId.values()) if (i.lineage === lineage) n = Math.max(n, i.generation);
    return `${lineage}-g${n + 1}`;
  }

  info(i: LoadedIssuer): IssuerInfo {
    const c = i.certificate;
    const nc = c.nameConstraints;
    return {
      id: i.id,
      lineage: i.lineage,
      role: i.role,
      parentId: i.record.parentId,
      status: i.status,
      isDefault: i.role === 'intermediate' && this.active(this.defaultLineage) === i,
      subject: c.subject.toString(),
      serialHex: c.serialHex,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      keyAlgorithm: c.subjectPublicKeyInfo.describe(),
      keyStorage: i.record.key.kind,
      fingerprint: sha256Hex(c.der),
      pathLenConstraint: c.basicConstraints?.pathLenConstraint,
      nameConstraints: nc
        ? {
            permitted: (nc.permittedSubtrees ?? []).map((s) => generalNameToString(s.base)),
            excluded: (nc.excludedSubtrees ?? []).map((s) => generalNameToString(s.base)),
          }
        : undefined,
      createdAt: i.record.createdAt,
      certificatePem: c.toPem(),
    };
  }
}

/** A self-signed root CA certificate (RFC 5280 §4.2.1.9 cA, keyCertSign + cRLSign). */
export async function makeRootCertificate(
  signer: Signer,
  o: { subject: string; validityDays: number; now: number },
): Promise<Certificate> {
  try {
    const b = new CertificateBuilder('root', { now: () => o.now, selfCheck: 'signature' })
      .subject(o.subject)
      .days(o.validityDays);
    return (await b.sign(signer)).certificate;
  } catch (e) {
    throw new CaError('bad-config', `cannot make the root certificate: ${(e as Error).message}`, {
      path: 'hierarchy.root',
    });
  }
}

/**
 * An intermediate CA certificate signed by `parent` (the root): pathLenConstraint, optional
 * nameConstraints (RFC 5280 §4.2.1.10, critical), and the parent's CRL as cRLDistributionPoints.
 */
export async function makeIntermediateCertificate(
  parent: { certificate: Certificate; signer: Signer },
  o: {
    subject: string;
    publicKey: Uint8Array;
    validityDays: number;
    pathLenConstraint: number;
    nameConstraints?: NameConstraints;
    crlUrls: readonly string[];
    now: number;
  },
): Promise<Certificate> {
  const issuer = Issuer.fromCertificate(parent.certificate, parent.signer, {
    crlDistributionPoints: o.crlUrls.length ? o.crlUrls : undefined,
  });
  const b = new CertificateBuilder('intermediate', { now: () => o.now, selfCheck: 'signature' })
    .subject(o.subject)
    .publicKey(o.publicKey)
    .issuer(issuer)
    .days(o.validityDays)
    .pathLenConstraint(o.pathLenConstraint);
  if (o.nameConstraints && (o.nameConstraints.permittedSubtrees || o.nameConstraints.excludedSubtrees))
    b.nameConstraints(o.nameConstraints);
  return (await b.sign()).certificate;
}

/** `CN=Acme Devices CA,O=Acme` → `CN=Acme Devices CA G2,O=Acme` (the generation in the most specific CN). */
export function generationSubject(subject: string, generation: number): string {
  const m = /^(CN=)((?:[^,\\]|\\.)*)(.*)$/i.exec(subject);
  if (!m) return `CN=Generation ${generation},${subject}`;
  const cn = m[2]!.replace(/ G[0-9]+$/, '');
  return `${m[1]}${cn} G${generation}${m[3]}`;
}
