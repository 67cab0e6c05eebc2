/**
 * `fleetpki ca init|sign|revoke|release` — the CA in a directory, through the same store and
 * Authority as `fleetpki serve` (ca-dir.ts has the layout; `serve --data DIR` runs the same CA):
 *
 *   DIR/root.crt, DIR/intermediate.crt      PEM certificates (0644)
 *   DIR/root.key, DIR/intermediate.key      encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256,
 *                                           600 000 iterations, + AES-256-CBC), 0600
 *   DIR/fleetpki.db                         the store: every certificate, revocation, CRL number
 *                                           and the audit log (or `--db URL`, e.g. PostgreSQL)
 *   DIR/config.yaml                         the CA configuration ca init wrote
 *
 * The passphrase comes from --passphrase-file FILE, FLEETPKI_PASSPHRASE, DIR/secrets/passphrase
 * (when `serve` generated it) or a prompt; a new one has at least MIN_NEW_PASSPHRASE (8)
 * characters, and DIR must be writable before it is asked. `ca sign` runs the Authority's issuance
 * pipeline (proof of possession, the profile's policy, lint, serial reserved in the store, signed,
 * stored with its audit record) and writes the certificate only once it is stored; profiles come
 * from the configuration (`device`, `server`, … — ca/profiles.ts). `--profile intermediate` is
 * signed by the root (pathLenConstraint 0; ca-subordinate.ts). The CSR may be PEM or DER. The
 * issued serial is printed: in the summary with --out (or --json), on stderr when the PEM goes to
 * stdout. Commands on one directory may run at the same time (each is a store transaction), and a
 * CA directory made by an earlier fleetpki (ca.json) is migrated on first use (ca-migrate.ts).
 *
 * `ca init --crl-url URL --ocsp-url URL` (each repeatable) records where relying parties find the
 * CRLs and OCSP responder (config.yaml `urls`); `ca sign` puts them into every end-entity
 * certificate as cRLDistributionPoints and authorityInfoAccess (RFC 5280 §4.2.1.13, §4.2.2.1).
 *
 * Exit codes: 0 done, 2 bad input (unreadable/invalid CSR, refused by policy, unknown serial, wrong
 * passphrase, a CA already in DIR…), 70 the store failed.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { parseConfig } from '../ca/config.js';
import { initHierarchy } from '../ca/init.js';
import { KeyStore } from '../ca/keys.js';
import { silentLogger } from '../ca/logger.js';
import type { Store } from '../ca/store/types.js';
import type { KeyType } from '../crypto/algorithms.js';
import { isCrlReason } from '../issue/crl-extensions.js';
import { revocationUriProblem } from '../issue/revocation-info.js';
import { serialFromInput } from '../issue/serial.js';
import { serialKey } from '../revocation/status-source.js';
import type { Certificate } from '../x509/certificate.js';
import { CRL_REASONS } from '../x509/extensions/reason-code.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { generalNameToString } from '../x509/general-name.js';
import {
  CaDir,
  caCliError,
  caFiles,
  cliRequester,
  configYaml,
  describeExisting,
  dirConfig,
  openCliStore,
  storeUrl,
} from './ca-dir.js';
import { signSubordinate } from './ca-subordinate.js';
import { CliError } from './errors.js';
import { keyTypeOption, parseKeyType } from './key.js';
import {
  checkOutputs,
  checkWritableDir,
  getPassphrase,
  PUBLIC_MODE,
  readInput,
  writeFileAtomic,
  writeFilesAtomic,
} from './pki-files.js';

export { caFiles } from './ca-dir.js';

/** Serial as lower-case hex without separators (what we store and compare). */
export function normalizeSerial(s: string): string {
  const b = serialFromInput(s);
  if (!b) throw new CliError(`"${s}" is not a serial number (hex, colons allowed)`);
  return serialKey(b);
}

const print = (json: boolean | undefined, data: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : text);

interface InitOptions {
  dir: string;
  db?: string;
  type: string;
  rootSubject: string;
  intermediateSubject: string;
  passphraseFile?: string;
  crlUrl?: string[];
  ocspUrl?: string[];
  json?: boolean;
}

function checkUrls(flag: string, urls: readonly string[]): string[] {
  for (const u of urls) {
    const why = revocationUriProblem(u);
    if (why) throw new CliError(`${flag}: ${why}`);
  }
  return [...urls];
}

/** The intermediate's id in a directory made by `ca init` (the configuration's default lineage). */
const INTERMEDIATE_ID = 'issuing';

async function init(o: InitOptions): Promise<void> {
  const type = parseKeyType(o.type);
  const crlUrls = checkUrls('--crl-url', o.crlUrl ?? []);
  const ocspUrls = checkUrls('--ocsp-url', o.ocspUrl ?? []);
  const f = caFiles(o.dir);
  const existing = describeExisting(o.dir, o.db);
  if (existing) throw new CliError(`${existing} already exists; refusing to overwrite a CA`);
  // Before the passphrase prompt: an unwritable --dir must not cost the user a passphrase.
  checkWritableDir(o.dir, `--dir ${o.dir}`);
  checkOutputs([f.rootCert, f.intCert, f.config].map((path) => ({ path })));
  const settings = initSettings(o, type, crlUrls, ocspUrls);
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(settings);
  } catch (e) {
    throw caCliError(e, 'ca init');
  }
  const passphrase = await getPassphrase({
    passphraseFile: o.passphraseFile,
    confirm: true,
    purpose: 'the CA keys',
  });
  try {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError(
      `cannot create --dir ${o.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const dir = resolve(o.dir);
  let store: Store | undefined;
  let keys: KeyStore | undefined;
  let ca: CaDir;
  try {
    store = await openCliStore(storeUrl(dir, o.db));
    keys = await KeyStore.open({ dataDir: dir, passphrase });
    // The store decides: of concurrent inits on one directory exactly one creates the CA; the
    // others remove the key files they wrote and stop here, before writing any file of their own.
    const created = await initHierarchy({
      store,
      keys,
      config,
      now: Date.now,
      logger: silentLogger,
      actor: cliRequester(),
    });
    if (!created)
      throw new CliError(`${o.dir} already holds a CA (another ca init created it first); nothing changed`);
    writeFileAtomic(f.config, configYaml(settings), PUBLIC_MODE);
    ca = await CaDir.adopt(dir, store, keys, config);
    await ca.ensureFiles();
  } catch (e) {
    keys?.close();
    await store?.close().catch(() => undefined);
    throw caCliError(e, 'ca init');
  }
  const root = ca.root;
  const int = ca.intermediate;
  await ca.close();
  print(
    o.json,
    {
      dir: o.dir,
      keyType: type,
      root: { file: f.rootCert, key: f.rootKey, subject: root.subject.toString(), serial: root.serialHex },
      intermediate: {
        file: f.intCert,
        key: f.intKey,
        subject: int.subject.toString(),
        serial: int.serialHex,
      },
      store: storeUrl(o.dir, o.db),
      config: f.config,
      crlUrls,
      ocspUrls,
    },
    `initialised ${type} CA in ${o.dir}\n` +
      `  root:         ${f.rootCert} (${root.subject.toString()}), key ${f.rootKey} (encrypted, 0600)\n` +
      `  intermediate: ${f.intCert} (${int.subject.toString()}), key ${f.intKey} (encrypted, 0600)\n` +
      `  store:        ${storeUrl(o.dir, o.db)}   config: ${f.config}\n` +
      (crlUrls.length ? `  CRL URLs:     ${crlUrls.join(' ')}\n` : '') +
      (ocspUrls.length ? `  OCSP URLs:    ${ocspUrls.join(' ')}\n` : '') +
      `  the same directory serves over HTTPS with: fleetpki serve --data ${o.dir}\n`,
  );
}

/** What `ca init`'s options put into config.yaml. */
function initSettings(
  o: InitOptions,
  type: KeyType,
  crlUrls: string[],
  ocspUrls: string[],
): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    hierarchy: {
      root: { id: 'root', subject: o.rootSubject, keyType: type },
      intermediates: [{ id: INTERMEDIATE_ID, subject: o.intermediateSubject, keyType: type }],
    },
  };
  if (crlUrls.length || ocspUrls.length) settings.urls = { crl: crlUrls, ocsp: ocspUrls };
  return settings;
}

interface SignOptions {
  dir: string;
  db?: string;
  csr: string;
  profile: string;
  out?: string;
  days?: string;
  passphraseFile?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

async function sign(o: SignOptions): Promise<void> {
  const profile = o.profile;
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(profile)) throw new CliError(`unknown profile "${profile}"`);
  const out = o.out === '-' ? undefined : o.out;
  if (o.json && !out)
    throw new CliError('--json needs --out FILE (the certificate itself would go to stdout)');
  if (out) checkOutputs([{ path: out }]);
  let days: number | undefined;
  if (o.days !== undefined) {
    days = Number(o.days);
    if (!Number.isInteger(days) || days < 1 || days > 36500)
      throw new CliError(`--days must be a whole number 1..36500, got "${o.days}"`);
  }
  // Before the passphrase prompt: the profiles are in DIR/config.yaml.
  let profiles: string[];
  try {
    profiles = [...Object.keys(dirConfig(o.dir).profiles), 'intermediate'];
  } catch (e) {
    throw caCliError(e, 'config');
  }
  if (!profiles.includes(profile))
    throw new CliError(`unknown profile "${profile}" (${profiles.join(', ')})`);
  const csr = new Uint8Array(readInput(o.csr, 'CSR'));
  const ca = await CaDir.open({ dir: o.dir, db: o.db, passphraseFile: o.passphraseFile });
  let cert: Certificate;
  let serial: string;
  let clamped = false;
  try {
    if (profile === 'intermediate') {
      const r = await signSubordinate(ca, csr, { days, csrName: o.csr });
      cert = r.certificate;
      serial = r.serialHex;
      clamped = r.clamped;
    } else {
      const started = Date.now();
      const r = await ca.authority.issue(csr, { profile, requester: ca.requester, validityDays: days });
      if (r.status === 'pending') {
        process.stdout.write(
          `request ${r.pendingId} for profile ${r.profile} is held for approval (nothing issued yet)\n`,
        );
        return;
      }
      cert = r.certificate;
      serial = r.serialHex;
      // The Authority keeps a certificate inside its issuer's validity (RFC 5280 §6.1.3).
      clamped = days !== undefined && r.notAfter < started + days * DAY_MS - 10 * 60_000;
    }
  } catch (e) {
    throw caCliError(e, profile === 'intermediate' ? 'ca sign' : o.csr);
  } finally {
    await ca.close();
  }
  // Written only now: the certificate is in the store, so whatever holds this file holds a
  // certificate the CA knows (and can revoke).
  if (out) writeFilesAtomic([{ path: out, data: cert.toPem(), mode: PUBLIC_MODE }]);
  if (!out) {
    process.stdout.write(cert.toPem());
    // stdout carries only the certificate (pipes stay clean); the serial is for the operator.
    process.stderr.write(`issued ${profile} certificate, serial ${serial}, for ${cert.subject.toString()}\n`);
    return;
  }
  const san = cert.subjectAltName?.map(generalNameToString) ?? [];
  print(
    o.json,
    {
      file: out,
      serial,
      subject: cert.subject.toString(),
      subjectAltName: san,
      profile,
      issuer: cert.issuer.toString(),
      notBefore: new Date(cert.notBefore).toISOString(),
      notAfter: new Date(cert.notAfter).toISOString(),
      clamped,
    },
    `wrote ${profile} certificate, serial ${serial}, for ${cert.subject.toString()} to ${out}\n` +
      `  issuer ${cert.issuer.toString()}, valid ${new Date(cert.notBefore).toISOString()} .. ${new Date(cert.notAfter).toISOString()}` +
      `${clamped ? ' (shortened to the issuer’s validity)' : ''}\n`,
  );
}

interface RevokeOptions {
  dir: string;
  db?: string;
  reason: string;
  passphraseFile?: string;
  json?: boolean;
}

async function revoke(serialArg: string, o: RevokeOptions): Promise<void> {
  if (!isCrlReason(o.reason) || o.reason === 'removeFromCRL')
    throw new CliError(
      `unknown reason "${o.reason}" (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise)`,
    );
  const serial = normalizeSerial(serialArg);
  const reason = o.reason as CRLReason;
  const ca = await CaDir.open({ dir: o.dir, db: o.db, passphraseFile: o.passphraseFile });
  let rec: Awaited<ReturnType<CaDir['authority']['get']>>;
  let role: 'root' | 'intermediate';
  let revokedAt: number;
  try {
    rec = await ca.authority.get(serial);
    if (rec?.state !== 'issued') throw new CliError(`serial ${serial} was not issued by the CA in ${o.dir}`);
    role = rec.issuerId === ca.issuerId('root') ? 'root' : 'intermediate';
    revokedAt = (
      await ca.authority.revoke(serial, reason, { requester: ca.requester, issuerId: rec.issuerId })
    ).revocationTime;
  } catch (e) {
    throw caCliError(e, `revoke ${serial}`);
  } finally {
    await ca.close();
  }
  const crlHint = `run fleetpki crl create --dir ${o.dir}${role === 'root' ? ' --issuer root' : ''} to publish it`;
  print(
    o.json,
    {
      serial,
      issuer: role,
      issuerId: rec.issuerId,
      reason,
      revokedAt: new Date(revokedAt).toISOString(),
      subject: rec.subject,
    },
    `revoked ${serial} (${rec.subject}), reason ${reason}; recorded in the store of ${o.dir}\n${crlHint}\n`,
  );
}

async function release(serialArg: string, o: Omit<RevokeOptions, 'reason'>): Promise<void> {
  const serial = normalizeSerial(serialArg);
  const ca = await CaDir.open({ dir: o.dir, db: o.db, passphraseFile: o.passphraseFile });
  let subject: string;
  try {
    const rec = await ca.authority.get(serial);
    if (rec?.state !== 'issued') throw new CliError(`serial ${serial} was not issued by the CA in ${o.dir}`);
    subject = rec.subject;
    await ca.authority.releaseHold(serial, { requester: ca.requester, issuerId: rec.issuerId });
  } catch (e) {
    throw caCliError(e, `release ${serial}`);
  } finally {
    await ca.close();
  }
  print(
    o.json,
    { serial, subject, released: true },
    `released the hold on ${serial} (${subject}): it is valid again; the next CRL no longer lists it\n`,
  );
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerCa(program: Command): void {
  const ca = program
    .command('ca')
    .description('the CA in a directory (the same CA `fleetpki serve --data DIR` runs)');
  const dbOption = () =>
    new Option(
      '--db <url>',
      'store URL: sqlite:PATH or postgres://… (default DATABASE_URL, else DIR/fleetpki.db)',
    );
  ca.command('init')
    .description('create a root and an intermediate CA in DIR (keys encrypted, records in its store)')
    .requiredOption('--dir <dir>', 'CA directory (created if missing)')
    .addOption(keyTypeOption('ec-p256'))
    .option('--root-subject <dn>', 'root subject (RFC 4514)', 'CN=fleetpki Root CA')
    .option('--intermediate-subject <dn>', 'intermediate subject (RFC 4514)', 'CN=fleetpki Issuing CA')
    .option(
      '--passphrase-file <file>',
      'passphrase for the CA keys, at least 8 characters (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .option(
      '--crl-url <url>',
      'CRL URL put into issued certificates (repeatable; {issuer} = issuer id)',
      collect,
      [],
    )
    .option('--ocsp-url <url>', 'OCSP responder URL put into issued certificates (repeatable)', collect, [])
    .addOption(dbOption())
    .option('--json', 'print a JSON summary')
    .action(init);
  ca.command('sign')
    .description('issue a certificate for a CSR')
    .requiredOption('--dir <dir>', 'CA directory')
    .requiredOption('--csr <file>', 'PKCS#10 request (PEM or DER)')
    .requiredOption(
      '--profile <profile>',
      'issuance profile: device, server, … (config.yaml), or intermediate',
    )
    .option('--out <file>', 'write the certificate to FILE instead of stdout ("-" is stdout)')
    .option('--days <n>', 'validity in days (default: the profile’s; at most its maximum)')
    .option('--passphrase-file <file>', 'passphrase for the CA key (else FLEETPKI_PASSPHRASE or a prompt)')
    .addOption(dbOption())
    .option('--json', 'print a JSON summary (with --out)')
    .action(sign);
  ca.command('revoke')
    .description(
      'revoke a certificate (publish the CRL with fleetpki crl create; serve instances answer it by OCSP within their poll interval)',
    )
    .argument('<serial>', 'serial number (hex, colons allowed)')
    .requiredOption('--dir <dir>', 'CA directory')
    .addOption(
      new Option('--reason <reason>', 'CRL reason (RFC 5280 §5.3.1)')
        .choices(CRL_REASONS.filter((r) => r !== 'removeFromCRL'))
        .makeOptionMandatory(),
    )
    .option('--passphrase-file <file>', 'passphrase for the CA keys (else FLEETPKI_PASSPHRASE or a prompt)')
    .addOption(dbOption())
    .option('--json', 'print a JSON summary')
    .action(revoke);
  ca.command('release')
    .description('release a certificateHold: the certificate is valid again (RFC 5280 §5.3.1)')
    .argument('<serial>', 'serial number (hex, colons allowed)')
    .requiredOption('--dir <dir>', 'CA directory')
    .option('--passphrase-file <file>', 'passphrase for the CA keys (else FLEETPKI_PASSPHRASE or a prompt)')
    .addOption(dbOption())
    .option('--json', 'print a JSON summary')
    .action(release);
}
