/**
 * Migrating a CA directory made by an earlier `fleetpki ca init` (DIR/ca.json + PEM files) into
 * the store, on its first use by any `ca`/`crl` command.
 *
 * What ca.json held and where it goes:
 * - the root and intermediate (DIR/root.crt, DIR/intermediate.crt, their keys DIR/root.key and
 *   DIR/intermediate.key, encrypted with the CA passphrase) → the store's hierarchy, as issuers
 *   `root` and `issuing` whose key references are those very files (nothing is copied or
 *   re-encrypted); the last CRL number of each → the store's CRL counters, so numbering
 *   continues (RFC 5280 §5.2.3);
 * - each issued certificate (serial, subject, profile, issuer, validity, issue time) and each
 *   revocation (reason, time) → a certificate record imported with `Store.importCertificates`.
 *   ca.json never held the certificates themselves (`ca sign` wrote them wherever --out said), so a
 *   migrated record has no DER, fingerprint or subjectAltName: it is listed, revocable, on CRLs and
 *   answered by OCSP, but `GET /api/v1/certificates/…?format=pem` cannot return it and renew/rekey
 *   (which start from the old certificate) refuse it. The intermediate's own record gets its DER
 *   from DIR/intermediate.crt;
 * - the CRL/OCSP URLs given to `ca init` → DIR/config.yaml.
 * Then ca.json is renamed to ca.json.migrated (kept: it is the only copy of the old records).
 *
 * Idempotent and crash-safe: every step either finds its result already in the store (the
 * hierarchy is created at most once — concurrent first uses race on `initHierarchy` and exactly one
 * wins; records already stored are skipped) or completes it, and ca.json is renamed last, so a
 * migration interrupted anywhere is finished by the next command. The audit log gets a `migrate`
 * record when the hierarchy is created and a `migrate-records` record per batch that imported
 * something.
 */
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordCertificate } from '../ca/records.js';
import type { ImportedCertificate, IssuerRecord, Store } from '../ca/store/types.js';
import { isCrlReason } from '../issue/crl-extensions.js';
import { serialKey } from '../revocation/status-source.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { CONFIG_FILE, caFiles, configYaml, LEGACY_STATE } from './ca-dir.js';
import { CliError } from './errors.js';
import { PUBLIC_MODE, writeFileAtomic } from './pki-files.js';

/** The issuer ids a migrated directory gets (the configuration's defaults). */
export const MIGRATED_ROOT_ID = 'root';
export const MIGRATED_INTERMEDIATE_ID = 'issuing';
/** Who the imported records name as their requester. */
export const MIGRATED_REQUESTER = 'migrated:ca.json';

/** Bounds on what is read from ca.json (a file of the user's, not trusted to be sane). */
const MAX_STATE_BYTES = 512 * 1024 * 1024;
const MAX_RECORDS = 2_000_000;
const BATCH = 2000;

interface LegacyIssued {
  serial: string;
  subject: string;
  profile: string;
  issuer: 'root' | 'intermediate';
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

interface LegacyRevoked {
  serial: string;
  issuer: 'root' | 'intermediate';
  reason: CRLReason;
  revokedAt: string;
}

interface LegacyState {
  issued: LegacyIssued[];
  revoked: LegacyRevoked[];
  crlNumber: { root: number; intermediate: number };
  revocationInfo?: { crlUrls: string[]; ocspUrls: string[] };
}

export interface MigrateOptions {
  dir: string;
  store: Store;
  requester: string;
}

export interface MigrateResult {
  /** This call created the hierarchy (false: an earlier or concurrent run did). */
  created: boolean;
  /** Records this call imported (0 when they were all stored already). */
  imported: number;
}

/** What a legacy directory holds, read and checked (nothing written). */
export interface LegacyCaDir {
  state: LegacyState;
  root: Certificate;
  intermediate: Certificate;
}

/**
 * Reads and checks DIR/ca.json and the certificates beside it (exit 2 with one line when they are
 * not a CA state); undefined when there is no ca.json (nothing to migrate).
 */
export function readLegacyCaDir(dir: string): LegacyCaDir | undefined {
  const f = caFiles(dir);
  const statePath = f.legacyState;
  let text: string;
  try {
    if (statSync(statePath).size > MAX_STATE_BYTES)
      throw new CliError(`${statePath} is larger than ${MAX_STATE_BYTES} bytes; not migrated`);
    text = readFileSync(statePath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e instanceof CliError ? e : new CliError(`cannot read ${statePath}: ${(e as Error).message}`);
  }
  const state = parseLegacyState(text, statePath);
  const root = readCert(f.rootCert);
  const intermediate = readCert(f.intCert);
  for (const k of [f.rootKey, f.intKey])
    if (!existsSync(k)) throw new CliError(`cannot migrate ${statePath}: ${k} is missing`);
  return { state, root, intermediate };
}

/** Migrates DIR/ca.json into the store (see the module comment). A no-op once ca.json is gone. */
export async function migrateLegacyCaDir(o: MigrateOptions): Promise<MigrateResult> {
  const legacy = readLegacyCaDir(o.dir);
  if (!legacy) return { created: false, imported: 0 };
  const { state, root, intermediate } = legacy;
  const f = caFiles(o.dir);
  const statePath = f.legacyState;
  const now = Date.now();

  // 1. The hierarchy, with the CRL counters where ca.json left them.
  const issuers: IssuerRecord[] = [
    {
      id: MIGRATED_ROOT_ID,
      role: 'root',
      status: 'active',
      certificate: root.der,
      key: { kind: 'file', path: 'root.key' },
      createdAt: now,
      lastCrlNumber: BigInt(state.crlNumber.root),
    },
    {
      id: MIGRATED_INTERMEDIATE_ID,
      role: 'intermediate',
      parentId: MIGRATED_ROOT_ID,
      status: 'active',
      certificate: intermediate.der,
      key: { kind: 'file', path: 'intermediate.key' },
      createdAt: now,
      lastCrlNumber: BigInt(state.crlNumber.intermediate),
    },
  ];
  const created =
    (await o.store.initHierarchy(issuers, {
      time: now,
      actor: o.requester,
      action: 'migrate',
      result: 'ok',
      issuerId: MIGRATED_ROOT_ID,
      detail: {
        from: LEGACY_STATE,
        root: root.subject.toString(),
        intermediate: intermediate.subject.toString(),
        issued: state.issued.length,
        revoked: state.revoked.length,
        crlNumber: state.crlNumber,
      },
    })) === 'created';
  const stored = await o.store.listIssuers();
  const storedRoot = stored.find((i) => i.id === MIGRATED_ROOT_ID);
  if (!storedRoot || !bytesEqual(storedRoot.certificate, root.der))
    throw new CliError(
      `cannot migrate ${statePath}: the store already holds another CA (its root is not ${f.rootCert})`,
    );

  // 2. The URLs `ca init` recorded: into config.yaml, unless one exists already.
  const configPath = join(o.dir, CONFIG_FILE);
  const info = state.revocationInfo;
  if (info && (info.crlUrls.length || info.ocspUrls.length) && !existsSync(configPath))
    writeFileAtomic(
      configPath,
      configYaml({ urls: { crl: info.crlUrls, ocsp: info.ocspUrls } }),
      PUBLIC_MODE,
    );

  // 3. The intermediate's own record (with its DER), and its revocation if the root revoked it.
  const revokedBySerial = new Map(state.revoked.map((r) => [serialKey(r.serial), r]));
  await recordCertificate(o.store, MIGRATED_ROOT_ID, intermediate, {
    profile: 'intermediate',
    requester: o.requester,
    requestId: `ca-certificate:${MIGRATED_INTERMEDIATE_ID}`,
    now,
    action: 'record-ca',
  });
  const intRevoked = revokedBySerial.get(serialKey(intermediate.serialHex));
  if (intRevoked)
    await o.store.revoke(
      MIGRATED_ROOT_ID,
      serialKey(intermediate.serialHex),
      { time: Date.parse(intRevoked.revokedAt), reason: intRevoked.reason },
      {
        time: now,
        actor: o.requester,
        action: 'revoke',
        result: 'ok',
        issuerId: MIGRATED_ROOT_ID,
        serialHex: serialKey(intermediate.serialHex),
        detail: { reason: intRevoked.reason, from: LEGACY_STATE },
      },
    );

  // 4. Every other record, in batches.
  const skip = new Set([serialKey(root.serialHex), serialKey(intermediate.serialHex)]);
  const records: ImportedCertificate[] = [];
  for (const r of state.issued) {
    const serialHex = serialKey(r.serial);
    if (skip.has(serialHex)) continue;
    const rev = revokedBySerial.get(serialHex);
    records.push({
      issuerId: r.issuer === 'root' ? MIGRATED_ROOT_ID : MIGRATED_INTERMEDIATE_ID,
      serialHex,
      profile: r.profile,
      subject: r.subject,
      sans: [],
      notBefore: Date.parse(r.notBefore),
      notAfter: Date.parse(r.notAfter),
      requester: MIGRATED_REQUESTER,
      issuedAt: Date.parse(r.issuedAt),
      revocation: rev ? { time: Date.parse(rev.revokedAt), reason: rev.reason } : undefined,
    });
  }
  let imported = 0;
  for (let i = 0; i < records.length; i += BATCH) {
    const batch = records.slice(i, i + BATCH);
    imported += await o.store.importCertificates(batch, {
      time: Date.now(),
      actor: o.requester,
      action: 'migrate-records',
      result: 'ok',
      detail: { from: LEGACY_STATE, first: i, records: batch.length, of: records.length },
    });
  }

  // 5. Done: the old state is kept under another name (the next command finds nothing to do).
  try {
    renameSync(statePath, `${statePath}.migrated`);
  } catch (e) {
    // A concurrent first use renamed it already.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(`${statePath}.migrated`)) throw e;
  }
  return { created, imported };
}

function readCert(path: string): Certificate {
  try {
    return parseCertificate(readFileSync(path));
  } catch (e) {
    throw new CliError(`cannot migrate: ${path}: ${(e as Error).message}`);
  }
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const SERIAL = /^[0-9a-fA-F]{1,64}$/;

/** Parses and checks ca.json (version 1, as written by the file-based CLI). */
export function parseLegacyState(text: string, path: string): LegacyState {
  const bad = (why: string): never => {
    throw new CliError(`cannot migrate ${path}: ${why}`);
  };
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof s !== 'object' || s === null || s.version !== 1) bad('not a version 1 CA state');
  const issued = s.issued;
  const revoked = s.revoked;
  if (!Array.isArray(issued) || !Array.isArray(revoked)) bad('issued/revoked are not lists');
  const iss = issued as unknown[];
  const rev = revoked as unknown[];
  if (iss.length > MAX_RECORDS || rev.length > MAX_RECORDS) bad(`more than ${MAX_RECORDS} records`);
  const role = (v: unknown) => v === 'root' || v === 'intermediate';
  const time = (v: unknown) => typeof v === 'string' && ISO.test(v) && Number.isFinite(Date.parse(v));
  iss.forEach((r, i) => {
    const x = r as Record<string, unknown>;
    if (
      typeof x !== 'object' ||
      x === null ||
      typeof x.serial !== 'string' ||
      !SERIAL.test(x.serial) ||
      typeof x.subject !== 'string' ||
      typeof x.profile !== 'string' ||
      !/^[a-z][a-z0-9-]{0,30}$/.test(x.profile) ||
      !role(x.issuer) ||
      !time(x.notBefore) ||
      !time(x.notAfter) ||
      !time(x.issuedAt)
    )
      bad(`issued[${i}] is not a certificate record`);
  });
  rev.forEach((r, i) => {
    const x = r as Record<string, unknown>;
    if (
      typeof x !== 'object' ||
      x === null ||
      typeof x.serial !== 'string' ||
      !SERIAL.test(x.serial) ||
      !role(x.issuer) ||
      typeof x.reason !== 'string' ||
      !isCrlReason(x.reason) ||
      x.reason === 'removeFromCRL' ||
      !time(x.revokedAt)
    )
      bad(`revoked[${i}] is not a revocation record`);
  });
  const n = s.crlNumber as Record<string, unknown> | undefined;
  const count = (v: unknown) => (v === undefined ? 0 : v);
  const crlNumber = { root: count(n?.root), intermediate: count(n?.intermediate) };
  for (const v of Object.values(crlNumber))
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad('crlNumber is not a count');
  const ri = s.revocationInfo as { crlUrls?: unknown; ocspUrls?: unknown } | undefined;
  const list = (v: unknown) => Array.isArray(v) && v.length <= 16 && v.every((x) => typeof x === 'string');
  if (ri !== undefined && (!list(ri.crlUrls) || !list(ri.ocspUrls))) bad('revocationInfo is malformed');
  return {
    issued: iss as LegacyIssued[],
    revoked: rev as LegacyRevoked[],
    crlNumber: crlNumber as { root: number; intermediate: number },
    revocationInfo: ri as LegacyState['revocationInfo'],
  };
}
