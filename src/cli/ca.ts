/**
 * `fleetpki ca init|sign|revoke` — a file-based two-level CA (root → intermediate) in DIR:
 *
 *   DIR/root.crt, DIR/intermediate.crt      PEM certificates (0644)
 *   DIR/root.key, DIR/intermediate.key      encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256,
 *                                           600 000 iterations, + AES-256-CBC), 0600
 *   DIR/ca.json                             state (0600): key type, issued certificates, revocations,
 *                                           last CRL number per issuer — rewritten atomically
 *
 * The passphrase comes from --passphrase-file FILE, FLEETPKI_PASSPHRASE, or a prompt; a new one
 * has at least MIN_NEW_PASSPHRASE (8) characters, and DIR must be writable before it is asked. Every
 * command writes temp files and renames them into place, so bad input or a crash leaves DIR as
 * it was. `ca sign` checks the CSR's proof of possession, takes only subject, key and SAN from
 * it (the profile decides everything else), lints and re-verifies the signature before writing.
 * `--profile intermediate` is signed by the root (the intermediate has pathLenConstraint 0);
 * device and server certificates by the intermediate. The CSR may be PEM or DER. The issued
 * serial is printed: in the summary with --out (or --json), on stderr when the PEM goes to stdout.
 *
 * `ca init --crl-url URL --ocsp-url URL` (each repeatable) records where relying parties find the
 * intermediate's CRL and OCSP responder; `ca sign` puts them into every device/server certificate
 * as cRLDistributionPoints and authorityInfoAccess (RFC 5280 §4.2.1.13, §4.2.2.1).
 *
 * Exit codes: 0 done, 2 bad input (unreadable/invalid CSR, unknown serial, wrong passphrase…).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { exportKey, generateKeyPair, type PrivateKey } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { toHex } from '../der/bytes.js';
import { CertificateBuilder } from '../issue/certificate.js';
import { isCrlReason } from '../issue/crl-extensions.js';
import { verifyCsr } from '../issue/csr.js';
import { Issuer } from '../issue/issuer.js';
import { ISSUANCE_PROFILE_NAMES, type IssuanceProfileName } from '../issue/profiles.js';
import { revocationUriProblem } from '../issue/revocation-info.js';
import { serialFromInput } from '../issue/serial.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { CRL_REASONS } from '../x509/extensions/reason-code.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { generalNameToString } from '../x509/general-name.js';
import { CliError } from './errors.js';
import { keyTypeOption, parseKeyType } from './key.js';
import {
  asCliError,
  checkOutputs,
  checkWritableDir,
  getPassphrase,
  loadPrivateKey,
  type PendingFile,
  PUBLIC_MODE,
  readInput,
  SECRET_MODE,
  writeFileAtomic,
  writeFilesAtomic,
} from './pki-files.js';

export type IssuerRole = 'root' | 'intermediate';

export interface IssuedRecord {
  serial: string;
  subject: string;
  profile: IssuanceProfileName;
  issuer: IssuerRole;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

export interface RevokedRecord {
  serial: string;
  issuer: IssuerRole;
  reason: CRLReason;
  revokedAt: string;
}

export interface CaState {
  version: 1;
  keyType: string;
  issued: IssuedRecord[];
  revoked: RevokedRecord[];
  /** Last CRL number used, per issuer (RFC 5280 §5.2.3: monotonically increasing). */
  crlNumber: Record<IssuerRole, number>;
  /** URLs put into the certificates the intermediate issues (absent in CAs made without them). */
  revocationInfo?: { crlUrls: string[]; ocspUrls: string[] };
}

export const caFiles = (dir: string) => ({
  rootCert: join(dir, 'root.crt'),
  rootKey: join(dir, 'root.key'),
  intCert: join(dir, 'intermediate.crt'),
  intKey: join(dir, 'intermediate.key'),
  state: join(dir, 'ca.json'),
});

export function loadState(dir: string): CaState {
  const f = caFiles(dir).state;
  if (!existsSync(f))
    throw new CliError(
      `${dir} is not a fleetpki CA directory (no ca.json; run fleetpki ca init --dir ${dir})`,
    );
  let s: CaState;
  try {
    s = JSON.parse(readFileSync(f, 'utf8')) as CaState;
  } catch (e) {
    throw new CliError(`cannot read ${f}: ${(e as Error).message}`);
  }
  const ri = s.revocationInfo;
  if (
    s.version !== 1 ||
    !Array.isArray(s.issued) ||
    !Array.isArray(s.revoked) ||
    typeof s.crlNumber !== 'object' ||
    (ri !== undefined && (!isStringList(ri.crlUrls) || !isStringList(ri.ocspUrls)))
  )
    throw new CliError(`${f}: unsupported or corrupted CA state`);
  return s;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

export function stateFile(dir: string, s: CaState): PendingFile {
  return { path: caFiles(dir).state, data: `${JSON.stringify(s, null, 2)}\n`, mode: SECRET_MODE };
}

export function loadCertificate(path: string): Certificate {
  try {
    return parseCertificate(new Uint8Array(readInput(path, 'certificate')));
  } catch (e) {
    throw asCliError(e, path);
  }
}

/** An Issuer for `role` from DIR: its certificate and decrypted key (passphrase asked once). */
export async function loadIssuer(
  dir: string,
  role: IssuerRole,
  passphraseFile?: string,
  info: CaState['revocationInfo'] = undefined,
): Promise<Issuer> {
  const f = caFiles(dir);
  const cert = loadCertificate(role === 'root' ? f.rootCert : f.intCert);
  const key = await loadPrivateKey(role === 'root' ? f.rootKey : f.intKey, {
    passphraseFile,
    purpose: `the ${role} key in ${dir}`,
  });
  try {
    return Issuer.fromCertificate(cert, await KeySigner.create(key), {
      crlDistributionPoints: info?.crlUrls.length ? info.crlUrls : undefined,
      authorityInfoAccess: info?.ocspUrls.length ? { ocsp: info.ocspUrls } : undefined,
    });
  } catch (e) {
    throw asCliError(e, `${role} CA`);
  }
}

/** Serial as lower-case hex without separators (what we store and compare). */
export function normalizeSerial(s: string): string {
  const b = serialFromInput(s);
  if (!b) throw new CliError(`"${s}" is not a serial number (hex, colons allowed)`);
  return toHex(b);
}

const print = (json: boolean | undefined, data: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : text);

interface InitOptions {
  dir: string;
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

async function init(o: InitOptions): Promise<void> {
  const type = parseKeyType(o.type);
  const crlUrls = checkUrls('--crl-url', o.crlUrl ?? []);
  const ocspUrls = checkUrls('--ocsp-url', o.ocspUrl ?? []);
  const f = caFiles(o.dir);
  for (const p of [f.rootKey, f.intKey, f.state])
    if (existsSync(p)) throw new CliError(`${p} already exists; refusing to overwrite a CA`);
  // Before the passphrase prompt: an unwritable --dir must not cost the user a passphrase.
  checkWritableDir(o.dir, `--dir ${o.dir}`);
  checkOutputs([f.rootCert, f.intCert].map((path) => ({ path })));
  const passphrase = await getPassphrase({
    passphraseFile: o.passphraseFile,
    confirm: true,
    purpose: 'the CA keys',
  });
  let files: PendingFile[];
  let root: Certificate;
  let int: Certificate;
  try {
    const [rk, ik] = await Promise.all([generateKeyPair(type), generateKeyPair(type)]);
    const rootSigner = await KeySigner.create(rk.privateKey);
    const opts = { selfCheck: 'signature' } as const;
    root = (await new CertificateBuilder('root', opts).subject(o.rootSubject).sign(rootSigner)).certificate;
    int = (
      await new CertificateBuilder('intermediate', opts)
        .subject(o.intermediateSubject)
        .publicKey(ik.publicKey)
        .issuer(Issuer.fromCertificate(root, rootSigner))
        .sign()
    ).certificate;
    const enc = (k: PrivateKey) => exportKey(k, { format: 'pkcs8', passphrase });
    const [rootPem, intPem] = await Promise.all([enc(rk.privateKey), enc(ik.privateKey)]);
    const now = new Date().toISOString();
    const state: CaState = {
      version: 1,
      keyType: type,
      issued: [record(root, 'root', 'root', now), record(int, 'intermediate', 'root', now)],
      revoked: [],
      crlNumber: { root: 0, intermediate: 0 },
    };
    if (crlUrls.length || ocspUrls.length) state.revocationInfo = { crlUrls, ocspUrls };
    files = [
      { path: f.rootCert, data: root.toPem(), mode: PUBLIC_MODE },
      { path: f.intCert, data: int.toPem(), mode: PUBLIC_MODE },
      { path: f.rootKey, data: rootPem, mode: SECRET_MODE },
      { path: f.intKey, data: intPem, mode: SECRET_MODE },
      stateFile(o.dir, state),
    ];
  } catch (e) {
    throw asCliError(e, 'ca init');
  }
  try {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError(
      `cannot create --dir ${o.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  writeFilesAtomic(files);
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
      state: f.state,
      crlUrls,
      ocspUrls,
    },
    `initialised ${type} CA in ${o.dir}\n` +
      `  root:         ${f.rootCert} (${root.subject.toString()}), key ${f.rootKey} (encrypted, 0600)\n` +
      `  intermediate: ${f.intCert} (${int.subject.toString()}), key ${f.intKey} (encrypted, 0600)\n` +
      `  state:        ${f.state}\n` +
      (crlUrls.length ? `  CRL URLs:     ${crlUrls.join(' ')}\n` : '') +
      (ocspUrls.length ? `  OCSP URLs:    ${ocspUrls.join(' ')}\n` : ''),
  );
}

function record(
  c: Certificate,
  profile: IssuanceProfileName,
  issuer: IssuerRole,
  issuedAt: string,
): IssuedRecord {
  return {
    serial: c.serialHex.toLowerCase(),
    subject: c.subject.toString(),
    profile,
    issuer,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    issuedAt,
  };
}

interface SignOptions {
  dir: string;
  csr: string;
  profile: string;
  out?: string;
  days?: string;
  passphraseFile?: string;
  json?: boolean;
}

/** Profiles `ca sign` issues with (the root is made only by `ca init`). */
const SIGN_PROFILES = ISSUANCE_PROFILE_NAMES.filter((p) => p !== 'root');

async function sign(o: SignOptions): Promise<void> {
  if (!(SIGN_PROFILES as readonly string[]).includes(o.profile))
    throw new CliError(`unknown profile "${o.profile}" (${SIGN_PROFILES.join(', ')})`);
  const profile = o.profile as IssuanceProfileName;
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
  const state = loadState(o.dir);
  let csr: ReturnType<typeof verifyCsr>;
  try {
    // PEM or DER: parseCsr tells them apart.
    csr = verifyCsr(new Uint8Array(readInput(o.csr, 'CSR')));
  } catch (e) {
    throw asCliError(e, o.csr);
  }
  const role: IssuerRole = profile === 'intermediate' ? 'root' : 'intermediate';
  // The recorded URLs locate the intermediate's CRL and OCSP responder: only what it signs gets them.
  const issuer = await loadIssuer(
    o.dir,
    role,
    o.passphraseFile,
    role === 'intermediate' ? state.revocationInfo : undefined,
  );
  let cert: Certificate;
  let clamped: boolean;
  try {
    const b = new CertificateBuilder(profile, { selfCheck: 'signature' }).fromCsr(csr).issuer(issuer);
    if (days !== undefined) b.days(days);
    const issued = await b.sign();
    cert = issued.certificate;
    clamped = issued.clamped;
  } catch (e) {
    throw asCliError(e, 'ca sign');
  }
  state.issued.push(record(cert, profile, role, new Date().toISOString()));
  const files: PendingFile[] = [stateFile(o.dir, state)];
  if (out) files.unshift({ path: out, data: cert.toPem(), mode: PUBLIC_MODE });
  writeFilesAtomic(files);
  const serial = cert.serialHex.toLowerCase();
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
  reason: string;
  json?: boolean;
}

function revoke(serialArg: string, o: RevokeOptions): void {
  if (!isCrlReason(o.reason) || o.reason === 'removeFromCRL')
    throw new CliError(
      `unknown reason "${o.reason}" (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise)`,
    );
  const state = loadState(o.dir);
  const serial = normalizeSerial(serialArg);
  const issued = state.issued.find((r) => r.serial === serial);
  if (!issued) throw new CliError(`serial ${serial} was not issued by the CA in ${o.dir}`);
  if (issued.profile === 'root') throw new CliError('the root certificate cannot be revoked by its own CRL');
  if (state.revoked.some((r) => r.serial === serial))
    throw new CliError(`serial ${serial} is already revoked`);
  const rec: RevokedRecord = {
    serial,
    issuer: issued.issuer,
    reason: o.reason,
    revokedAt: new Date().toISOString(),
  };
  state.revoked.push(rec);
  writeFileAtomic(caFiles(o.dir).state, `${JSON.stringify(state, null, 2)}\n`, SECRET_MODE);
  print(
    o.json,
    { ...rec, subject: issued.subject, state: caFiles(o.dir).state },
    `revoked ${serial} (${issued.subject}), reason ${o.reason}; recorded in ${caFiles(o.dir).state}\n` +
      `run fleetpki crl create --dir ${o.dir}${issued.issuer === 'root' ? ' --issuer root' : ''} to publish it\n`,
  );
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerCa(program: Command): void {
  const ca = program.command('ca').description('a file-based root + intermediate CA');
  ca.command('init')
    .description('create a root and an intermediate CA in DIR (keys encrypted)')
    .requiredOption('--dir <dir>', 'CA directory (created if missing)')
    .addOption(keyTypeOption('ec-p256'))
    .option('--root-subject <dn>', 'root subject (RFC 4514)', 'CN=fleetpki Root CA')
    .option('--intermediate-subject <dn>', 'intermediate subject (RFC 4514)', 'CN=fleetpki Issuing CA')
    .option(
      '--passphrase-file <file>',
      'passphrase for the CA keys, at least 8 characters (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .option('--crl-url <url>', 'CRL URL put into issued certificates (repeatable)', collect, [])
    .option('--ocsp-url <url>', 'OCSP responder URL put into issued certificates (repeatable)', collect, [])
    .option('--json', 'print a JSON summary')
    .action(init);
  ca.command('sign')
    .description('issue a certificate for a CSR')
    .requiredOption('--dir <dir>', 'CA directory')
    .requiredOption('--csr <file>', 'PKCS#10 request (PEM or DER)')
    .addOption(
      new Option('--profile <profile>', 'issuance profile').choices(SIGN_PROFILES).makeOptionMandatory(),
    )
    .option('--out <file>', 'write the certificate to FILE instead of stdout ("-" is stdout)')
    .option('--days <n>', 'validity in days (default: the profile’s; never beyond the issuer)')
    .option('--passphrase-file <file>', 'passphrase for the CA key (else FLEETPKI_PASSPHRASE or a prompt)')
    .option('--json', 'print a JSON summary (with --out)')
    .action(sign);
  ca.command('revoke')
    .description('record a revocation (publish it with fleetpki crl create)')
    .argument('<serial>', 'serial number (hex, colons allowed)')
    .requiredOption('--dir <dir>', 'CA directory')
    .addOption(
      new Option('--reason <reason>', 'CRL reason (RFC 5280 §5.3.1)')
        .choices(CRL_REASONS.filter((r) => r !== 'removeFromCRL'))
        .makeOptionMandatory(),
    )
    .option('--json', 'print a JSON summary')
    .action(revoke);
}
