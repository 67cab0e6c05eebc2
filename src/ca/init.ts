import type { KeyType } from '../crypto/algorithms.js';
import { defaultProvider } from '../crypto/default-provider.js';
import type { Signer } from '../crypto/signer.js';
import { bytesEqual } from '../der/bytes.js';
import { IssueError } from '../issue/errors.js';
import { Issuer } from '../issue/issuer.js';
import { parseSignatureAlgorithm } from '../x509/algorithm.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CaConfig } from './config.js';
import { nameConstraintsFromText } from './constraint-text.js';
import { CaError } from './errors.js';
import {
  generationSubject,
  type Hierarchy,
  makeIntermediateCertificate,
  makeRootCertificate,
} from './hierarchy.js';
import type { KeyStore } from './keys.js';
import type { CaLogger } from './logger.js';
import { recordCertificate } from './records.js';
import type { IssuerRecord, KeyReference, Store } from './store/types.js';

/**
 * Creating, importing and rotating CAs. Key files are always written under fresh names before the
 * store decides (keys.ts), and removed again when the store says another process won.
 */

/** A CA certificate with its key: a key file (PEM/DER, encrypted or not) or a PKCS#11 URI. */
export interface ImportedCa {
  certificate: Certificate | Uint8Array | string;
  key: KeyImport;
}

/** Where an imported CA's key is. */
export type KeyImport =
  /** Copied into DATA/keys re-encrypted with the store's passphrase; `passphrase` opens the source file. */
  | { file: string; passphrase?: string }
  /** RFC 7512 URI of a key on a token (the PIN from the environment, never stored). */
  | { pkcs11: string };

/** Options of `Authority.init` beyond `AuthorityOptions`. */
export interface InitHierarchyOptions {
  /** Import an existing root instead of generating one; the intermediates are still generated. */
  root?: ImportedCa;
  /** Audit actor; default `system`. */
  actor?: string;
}

/** Options of `Authority.importIssuer`. */
export interface ImportIssuerOptions extends ImportedCa {
  /** The new issuer's id (a lineage name: lower-case letters, digits, dashes). */
  id: string;
  requester: string;
}

/** Options of `Authority.rotate`. */
export interface RotateOptions {
  requester: string;
  /** Default: the lineage's configured key type. */
  keyType?: KeyType;
  /** Default: the current subject with ` G<N>` on its CN. */
  subject?: string;
  /** Default: the lineage's configured validity. */
  validityDays?: number;
}

interface InitContext {
  store: Store;
  keys: KeyStore;
  config: CaConfig;
  now: () => number;
  logger: CaLogger;
}

interface RunContext extends InitContext {
  hierarchy: Hierarchy;
  /** The loaded signer of an issuer. */
  signer(id: string): Signer;
}

const ID = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Creates root + configured intermediates and records them with `store.initHierarchy`. Returns
 * true when this call created the hierarchy, false when one existed (before or by a concurrent
 * winner — its own key files are then removed).
 */
export async function initHierarchy(o: InitContext & InitHierarchyOptions): Promise<boolean> {
  const { store, keys, config } = o;
  if ((await store.listIssuers()).length > 0) return false;
  const now = o.now();
  const actor = o.actor ?? 'system';
  const written: KeyReference[] = [];
  const cleanup = () => {
    for (const r of written) keys.removeKey(r);
  };
  let records: IssuerRecord[];
  let root: { certificate: Certificate; signer: Signer; ref: KeyReference };
  const rootId = config.hierarchy.root.id;
  try {
    if (o.root) {
      root = await importKey(keys, o.root, rootId, written);
      checkSelfSigned(root.certificate);
    } else {
      const k = await keys.createKeyFile(config.hierarchy.root.keyType, rootId);
      written.push(k.ref);
      const certificate = await makeRootCertificate(k.signer, {
        subject: config.hierarchy.root.subject,
        validityDays: config.hierarchy.root.validityDays,
        now,
      });
      root = { certificate, signer: k.signer, ref: k.ref };
    }
    records = [
      {
        id: rootId,
        role: 'root',
        status: 'active',
        certificate: root.certificate.der,
        key: root.ref,
        createdAt: now,
      },
    ];
    for (const ic of config.hierarchy.intermediates) {
      const k = await keys.createKeyFile(ic.keyType, ic.id);
      written.push(k.ref);
      const certificate = await makeIntermediateCertificate(root, {
        subject: ic.subject,
        publicKey: k.publicKey,
        validityDays: ic.validityDays,
        pathLenConstraint: ic.pathLenConstraint,
        nameConstraints: ic.nameConstraints ? nameConstraintsFromText(ic.nameConstraints) : undefined,
        crlUrls: crlUrlsFor(config, rootId),
        now,
      });
      records.push({
        id: ic.id,
        role: 'intermediate',
        parentId: rootId,
        status: 'active',
        certificate: certificate.der,
        key: k.ref,
        createdAt: now,
      });
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  let r: 'created' | 'exists';
  try {
    r = await store.initHierarchy(records, {
      time: now,
      actor,
      action: 'init',
      result: 'ok',
      issuerId: rootId,
      detail: {
        root: root.certificate.subject.toString(),
        imported: o.root ? 'root' : undefined,
        intermediates: records.slice(1).map((x) => x.id),
      },
    });
  } catch (e) {
    cleanup();
    throw e;
  }
  if (r === 'exists') {
    cleanup();
    o.logger.info({}, 'another process created the CA first; using it');
    return false;
  }
  for (const rec of records.slice(1))
    await recordCertificate(store, rootId, parseCertificate(rec.certificate), {
      profile: 'intermediate',
      requester: actor,
      requestId: `ca-certificate:${rec.id}`,
      now,
      action: 'record-ca',
    });
  o.logger.info({ root: rootId, intermediates: records.slice(1).map((x) => x.id) }, 'CA hierarchy created');
  return true;
}

/** Imports an intermediate whose certificate a stored issuer signed. Returns its id. */
export async function importIssuer(ctx: RunContext, o: ImportIssuerOptions): Promise<string> {
  if (!ID.test(o.id) || /-g[0-9]+$/.test(o.id))
    throw new CaError(
      'bad-issuer',
      `"${o.id}" is not a valid issuer id (lower-case, digits, dashes; no -g<N>)`,
    );
  if (ctx.hierarchy.all().some((i) => i.lineage === o.id || i.id === o.id))
    throw new CaError('bad-issuer', `an issuer ${o.id} exists already`);
  const written: KeyReference[] = [];
  try {
    const { certificate, ref } = await importKey(ctx.keys, o, o.id, written);
    if (certificate.isSelfIssued)
      throw new CaError('bad-issuer', 'a self-issued certificate cannot be imported as an intermediate');
    // Two issuers with one key would answer each other's OCSP CertIDs and sign each other's CRLs.
    const twin = ctx.hierarchy
      .all()
      .find((i) => bytesEqual(i.certificate.subjectPublicKeyInfo.der, certificate.subjectPublicKeyInfo.der));
    if (twin) throw new CaError('bad-issuer', `issuer ${twin.id} already has this key`);
    const parent = ctx.hierarchy
      .all()
      .find((p) => p.certificate.subject.equals(certificate.issuer) && signedBy(certificate, p.certificate));
    if (!parent)
      throw new CaError(
        'bad-issuer',
        `${certificate.subject.toString()} was not issued by a CA in this store`,
      );
    const now = ctx.now();
    const r = await ctx.store.addIssuer(
      {
        id: o.id,
        role: 'intermediate',
        parentId: parent.id,
        status: 'active',
        certificate: certificate.der,
        key: ref,
        createdAt: now,
      },
      {
        time: now,
        actor: o.requester,
        action: 'import-issuer',
        result: 'ok',
        issuerId: o.id,
        detail: { subject: certificate.subject.toString(), parent: parent.id, keyStorage: ref.kind },
      },
    );
    if (r === 'duplicate') throw new CaError('bad-issuer', `an issuer ${o.id} exists already`);
    written.length = 0; // stored: the key file belongs to the hierarchy now
    await recordCertificate(ctx.store, parent.id, certificate, {
      profile: 'intermediate',
      requester: o.requester,
      requestId: `ca-certificate:${o.id}`,
      now,
      action: 'record-ca',
    });
    return o.id;
  } finally {
    for (const r of written) ctx.keys.removeKey(r);
  }
}

/** Rotates a lineage: new key + certificate signed by its parent; the old generation retires. */
export async function rotateIssuer(ctx: RunContext, lineage: string, o: RotateOptions): Promise<string> {
  const current = ctx.hierarchy.active(lineage);
  if (!current) throw new CaError('issuer-unavailable', `no active issuer for ${lineage}`);
  const parentId = current.record.parentId;
  if (!parentId) throw new CaError('bad-issuer', 'a root is not rotated this way');
  const parent = ctx.hierarchy.get(parentId)!;
  const parentSigner = ctx.signer(parentId);
  const id = ctx.hierarchy.nextGenerationId(lineage);
  const generation = Number(/-g([0-9]+)$/.exec(id)![1]);
  const configured = ctx.config.hierarchy.intermediates.find((i) => i.id === lineage);
  const now = ctx.now();
  const k = await ctx.keys.createKeyFile(o.keyType ?? configured?.keyType ?? 'ec-p256', lineage);
  let stored = false;
  try {
    const old = current.certificate;
    const certificate = await makeIntermediateCertificate(
      { certificate: parent.certificate, signer: parentSigner },
      {
        subject: o.subject ?? generationSubject(old.subject.toString(), generation),
        publicKey: k.publicKey,
        validityDays: o.validityDays ?? configured?.validityDays ?? 1825,
        pathLenConstraint: old.basicConstraints?.pathLenConstraint ?? 0,
        nameConstraints: old.nameConstraints,
        crlUrls: crlUrlsFor(ctx.config, parentId),
        now,
      },
    );
    const r = await ctx.store.addIssuer(
      {
        id,
        role: 'intermediate',
        parentId,
        status: 'active',
        certificate: certificate.der,
        key: k.ref,
        createdAt: now,
      },
      {
        time: now,
        actor: o.requester,
        action: 'rotate',
        result: 'ok',
        issuerId: id,
        detail: { replaces: current.id, subject: certificate.subject.toString() },
      },
    );
    if (r === 'duplicate')
      throw new CaError('request-conflict', `${lineage} was rotated concurrently (${id} exists)`);
    stored = true;
    await ctx.store.setIssuerStatus(current.id, 'retiring', {
      time: now,
      actor: o.requester,
      action: 'rotate',
      result: 'ok',
      issuerId: current.id,
      detail: { status: 'retiring', successor: id },
    });
    await recordCertificate(ctx.store, parentId, certificate, {
      profile: 'intermediate',
      requester: o.requester,
      requestId: `ca-certificate:${id}`,
      now,
      action: 'record-ca',
    });
    ctx.logger.info({ lineage, id, retiring: current.id }, 'intermediate rotated');
    return id;
  } finally {
    if (!stored) ctx.keys.removeKey(k.ref);
  }
}

function crlUrlsFor(config: CaConfig, issuerId: string): string[] {
  return config.urls.crl.map((u) => u.replaceAll('{issuer}', issuerId));
}

async function importKey(
  keys: KeyStore,
  o: ImportedCa,
  stem: string,
  written: KeyReference[],
): Promise<{ certificate: Certificate; signer: Signer; ref: KeyReference }> {
  let certificate: Certificate;
  try {
    certificate =
      typeof o.certificate === 'string' || o.certificate instanceof Uint8Array
        ? parseCertificate(o.certificate)
        : o.certificate;
  } catch (e) {
    throw new CaError('bad-issuer', `the CA certificate does not parse: ${(e as Error).message}`);
  }
  let ref: KeyReference;
  let signer: Signer;
  if ('file' in o.key) {
    const k = await keys.importKeyFile(o.key.file, stem, o.key.passphrase);
    written.push(k.ref);
    ref = k.ref;
    signer = k.signer;
  } else {
    ref = { kind: 'pkcs11', uri: o.key.pkcs11 };
    signer = await keys.signer(ref);
  }
  try {
    Issuer.fromCertificate(certificate, signer); // a CA, and this key is its key
  } catch (e) {
    if (e instanceof IssueError) throw new CaError('bad-issuer', e.message);
    throw e;
  }
  return { certificate, signer, ref };
}

function signedBy(c: Certificate, issuer: Certificate): boolean {
  try {
    return defaultProvider().verify(
      parseSignatureAlgorithm(c.signatureAlgorithm),
      issuer.subjectPublicKeyInfo.der,
      c.tbs,
      c.signatureValue,
    );
  } catch {
    return false;
  }
}

function checkSelfSigned(c: Certificate): void {
  if (!c.isSelfIssued || !signedBy(c, c))
    throw new CaError('bad-issuer', `${c.subject.toString()} is not a self-signed root certificate`);
}
