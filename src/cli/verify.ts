/**
 * `fleetpki verify LEAF --trusted FILE [--untrusted FILE] [--time ISO] [--purpose client|server]
 *   [--host NAME] [--ip ADDR] [--email ADDR] [--profile rfc5280|webpki|iot] [--json]
 *   [--crl FILE]... [--ocsp] [--revocation-scope leaf|chain]`
 *
 * Exit codes (DESIGN.md): 0 the chain is valid, 1 it is not (the code and the certificate at
 * fault are printed), 2 bad input (unreadable file, no certificate, malformed option).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command, CommanderError, Option } from 'commander';
import { getPublicSuffix } from 'tldts';
import '../crypto/index.js';
import { decodePem, looksLikePem, PemError } from '../pem/pem.js';
import { createRevocationChecker, type RevocationSource } from '../revocation/checker.js';
import { ocspUrls } from '../revocation/ocsp/client.js';
import {
  type Purpose,
  profilePolicy,
  type ValidationProfile,
  type VerifyResult,
  verifyPath,
} from '../verify/index.js';
import { type Certificate, parseCertificates } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import {
  CliError,
  describeDecodeError,
  EXIT_INPUT,
  EXIT_NEGATIVE,
  EXIT_OK,
  isDecodeError,
} from './errors.js';

export interface VerifyCliOptions {
  trusted: string;
  untrusted?: string;
  time?: string;
  purpose?: string;
  host?: string;
  ip?: string;
  email?: string;
  profile?: string;
  json?: boolean;
  crl?: string[];
  ocsp?: boolean;
  revocationScope?: string;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const PROFILES: readonly ValidationProfile[] = ['rfc5280', 'webpki', 'iot'];
const SCOPES = ['leaf', 'chain'] as const;
const PURPOSES: Record<string, Purpose> = {
  client: 'clientAuth',
  server: 'serverAuth',
  any: 'any',
  clientAuth: 'clientAuth',
  serverAuth: 'serverAuth',
};

function readCerts(path: string, what: string): Certificate[] {
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return parseCertificates(data);
  } catch (e) {
    if (isDecodeError(e)) throw new CliError(`${what} ${path}: ${describeDecodeError(e)}`);
    throw new CliError(`${what} ${path}: ${(e as Error).message}`);
  }
}

function describe(c: Certificate) {
  return {
    subject: c.subject.toString(),
    issuer: c.issuer.toString(),
    serial: c.serialHex,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
  };
}

/** The verification itself, shared by `runVerify` and the registered subcommand. Returns the exit code. */
export async function verifyCommand(leafPath: string, o: VerifyCliOptions, io: Io): Promise<number> {
  // Every enumerated option is checked before any file is read (commander's choices do the same
  // for the CLI; runVerify callers get it here).
  const profile = (o.profile ?? 'iot') as ValidationProfile;
  if (!PROFILES.includes(profile)) throw new CliError(`--profile must be one of ${PROFILES.join(', ')}`);
  const purposeName = o.purpose ?? (o.host !== undefined || o.ip !== undefined ? 'server' : 'any');
  const purpose = Object.hasOwn(PURPOSES, purposeName) ? PURPOSES[purposeName] : undefined;
  if (!purpose) throw new CliError('--purpose must be client, server or any');
  if (o.revocationScope !== undefined && !(SCOPES as readonly string[]).includes(o.revocationScope))
    throw new CliError(`--revocation-scope must be ${SCOPES.join(' or ')}`);
  if (o.host !== undefined && isIP(o.host.replace(/^\[(.*)\]$/, '$1')) !== 0)
    // RFC 9525 §6.3: an IP address is matched against iPAddress SANs, never as a DNS name.
    throw new CliError(`--host ${o.host} is an IP address: use --ip ${o.host.replace(/^\[(.*)\]$/, '$1')}`);
  let time = Date.now();
  if (o.time !== undefined) {
    time = Date.parse(o.time);
    if (!Number.isFinite(time)) throw new CliError(`--time: not an ISO 8601 time: ${o.time}`);
  }
  const leafCerts = readCerts(leafPath, 'leaf');
  const trusted = readCerts(o.trusted, 'trusted file');
  // Extra certificates after the leaf in its file are intermediates (as openssl and Go do).
  const untrusted = [...leafCerts.slice(1), ...(o.untrusted ? readCerts(o.untrusted, 'untrusted file') : [])];
  const policy = profilePolicy(profile, {
    purpose,
    isPublicSuffix: (d) => getPublicSuffix(d, { allowPrivateDomains: true }) === d,
  });
  const revocation = revocationFromOptions(o, untrusted);
  if (o.ocsp && (o.crl ?? []).length === 0 && ocspUrls(leafCerts[0]!).length === 0)
    throw new CliError(
      `--ocsp: the leaf ${leafPath} names no OCSP responder (no http(s) id-ad-ocsp in authorityInfoAccess); give its CRL with --crl FILE`,
    );
  const r: VerifyResult = await verifyPath({
    leaf: leafCerts[0]!,
    intermediates: untrusted,
    trustAnchors: trusted,
    time,
    policy,
    revocation,
    hostname: o.host,
    ip: o.ip,
    email: o.email,
  });
  if (!r.ok && r.code === 'invalid-input') throw new CliError(r.message);
  // A valid verdict without revocation data says nothing of revocation: say so (openssl verify
  // does not, and a revoked device then reads as OK).
  const revocationChecked = revocation !== undefined;
  if (o.json) {
    const body = r.ok
      ? {
          valid: true,
          profile,
          purpose,
          revocationChecked,
          chain: r.chain.map(describe),
          policySet: r.policySet,
        }
      : {
          valid: false,
          profile,
          purpose,
          revocationChecked,
          code: r.code,
          message: r.message,
          certIndex: r.certIndex,
          attempts: r.attempts,
        };
    io.out(`${JSON.stringify(body, null, 2)}\n`);
  } else if (r.ok) {
    io.out(`OK (${profile}, ${purpose}): ${r.chain.map((c) => c.subject.toString()).join(' <- ')}\n`);
    if (!revocationChecked) io.err('note: revocation not checked (give --crl FILE or --ocsp)\n');
  } else {
    const at = r.certIndex >= 0 ? ` at certificate ${r.certIndex}${r.certIndex === 0 ? ' (leaf)' : ''}` : '';
    io.out(`INVALID: ${r.code}${at}: ${r.message}\n`);
  }
  return r.ok ? EXIT_OK : EXIT_NEGATIVE;
}

function define(cmd: Command): Command {
  return (
    cmd
      .description('verify a certificate chain (RFC 5280 path validation, RFC 9525 name matching)')
      .argument('<leaf>', 'leaf certificate (PEM or DER); further PEM certificates in it are intermediates')
      .requiredOption('--trusted <file>', 'trust anchors (PEM bundle or DER)')
      .option('--untrusted <file>', 'intermediate certificates (PEM bundle or DER)')
      .option('--time <iso>', 'validation time (default: now)')
      .addOption(
        new Option('--purpose <purpose>', 'default: server with --host/--ip, else any').choices(
          Object.keys(PURPOSES),
        ),
      )
      .option('--host <name>', 'DNS name the leaf must match')
      .option('--ip <address>', 'IP address the leaf must match')
      .option('--email <address>', 'email address the leaf must match')
      .addOption(new Option('--profile <profile>', 'validation profile (default: iot)').choices(PROFILES))
      .option('--json', 'print the result as JSON')
      // Revocation (src/revocation/checker.ts).
      .option('--crl <file>', 'CRL (PEM or DER; repeatable) to check revocation against', collect, [])
      .option('--ocsp', "query the OCSP responders named in the certificates' AIA")
      .addOption(
        new Option(
          '--revocation-scope <scope>',
          'leaf (like openssl -crl_check) or chain (-crl_check_all); default leaf',
        ).choices(SCOPES),
      )
  );
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** --crl / --ocsp → a RevocationChecker (hard-fail: an undeterminable status is `revocation-unknown`). */
function revocationFromOptions(o: VerifyCliOptions, untrusted: Certificate[]) {
  const files = o.crl ?? [];
  if (files.length === 0 && !o.ocsp) return undefined;
  const scope = (o.revocationScope ?? 'leaf') as (typeof SCOPES)[number];
  const crls: CertificateList[] = [];
  for (const f of files) {
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileSync(f));
    } catch (e) {
      throw new CliError(
        `cannot read CRL ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    try {
      if (looksLikePem(data)) {
        const blocks = decodePem(new TextDecoder('latin1').decode(data)).filter(
          (b) => b.label === 'X509 CRL',
        );
        if (blocks.length === 0) throw new CliError(`CRL ${f}: no X509 CRL block`);
        for (const b of blocks) crls.push(parseCrl(b.der));
      } else crls.push(parseCrl(data));
    } catch (e) {
      if (isDecodeError(e)) throw new CliError(`CRL ${f}: ${describeDecodeError(e)}`);
      if (e instanceof PemError) throw new CliError(`CRL ${f}: bad PEM (${e.code}): ${e.message}`);
      throw e;
    }
  }
  const sources: RevocationSource[] = [];
  if (crls.length) sources.push('crl');
  if (o.ocsp) sources.push('ocsp');
  return createRevocationChecker({ scope, sources, crls, crlSigners: untrusted });
}

/** Adds `verify` to the `fleetpki` program (for src/cli/main.ts). */
export function registerVerify(program: Command): void {
  define(program.command('verify')).action(async (leaf: string, o: VerifyCliOptions) => {
    const code = await verifyCommand(leaf, o, {
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
    });
    if (code !== EXIT_OK) process.exitCode = code;
  });
}

/**
 * `fleetpki verify` as a function: `argv` are the arguments after `verify`. Returns the exit
 * code; never calls process.exit.
 */
export async function runVerify(argv: readonly string[], io?: Io): Promise<number> {
  const sink: Io = io ?? { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
  let code = EXIT_OK;
  const cmd = define(new Command('verify'))
    .exitOverride()
    .configureOutput({ writeOut: sink.out, writeErr: sink.err })
    .action(async (leaf: string, o: VerifyCliOptions) => {
      code = await verifyCommand(leaf, o, sink);
    });
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_INPUT;
    if (e instanceof CliError) {
      sink.err(`fleetpki: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
