/**
 * `fleetpki enroll --est URL --ca ROOT.pem (--token USER:PASS | --cert C --key K) [--label L]
 *   --out DIR [--subject DN] [--san LIST] [--key-type T] [--encrypt] [--renew [--force]]
 *   [--threshold F] [--watch] [--json]`
 *
 * The device side of EST (RFC 7030): makes a key and a CSR, enrolls, checks the issued chain
 * against --ca (our path validation, purpose clientAuth), and writes DIR/device.key (PKCS#8, 0600;
 * encrypted with --encrypt) and DIR/device.crt (the certificate, then its CA chain below the
 * root) together, atomically. The server is checked against --ca only (explicit trust anchor,
 * RFC 7030 §3.6.1). First enrollment authenticates with --token (single-use HTTP Basic
 * credential) or --cert/--key (a bootstrap certificate); --renew re-enrolls with DIR's own
 * certificate (/simplereenroll, same subject, new key) once less than --threshold (default ⅓)
 * of its lifetime remains, or always with --force. --watch keeps doing that, sleeping until the
 * renewal point with jitter and backing off exponentially while the CA is unreachable; it stops
 * on SIGINT/SIGTERM.
 *
 * Exit: 0 enrolled/renewed (or not due), 1 the server refused or failed (code on stderr), 2 bad input.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportKey } from '../crypto/keys.js';
import { EstClient } from '../est/client.js';
import { enrollDevice, nextCheckDelay, renewalDue } from '../est/enroll.js';
import { EstError } from '../est/errors.js';
import { encodePem } from '../pem/pem.js';
import { type Certificate, parseCertificate, parseCertificates } from '../x509/certificate.js';
import { CliError, EXIT_NEGATIVE } from './errors.js';
import { parseKeyType } from './key.js';
import {
  asCliError,
  getPassphrase,
  loadPrivateKey,
  PUBLIC_MODE,
  readInput,
  SECRET_MODE,
  writeFilesAtomic,
} from './pki-files.js';

interface EnrollOptions {
  est: string;
  ca: string;
  token?: string;
  cert?: string;
  key?: string;
  label?: string;
  out: string;
  subject?: string;
  san?: string;
  keyType: string;
  encrypt?: boolean;
  passphraseFile?: string;
  renew?: boolean;
  force?: boolean;
  threshold: string;
  watch?: boolean;
  json?: boolean;
}

function estFailure(e: unknown): unknown {
  if (e instanceof EstError)
    return new CliError(
      `${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}`,
      e.code === 'bad-input' ? 2 : EXIT_NEGATIVE,
    );
  return asCliError(e, 'enroll');
}

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('enroll this device over EST (RFC 7030): key, CSR, certificate; renew when due')
    .requiredOption('--est <url>', 'the EST server, https://host:port')
    .requiredOption('--ca <file>', 'trust anchor(s) for the server and the issued chain (PEM)')
    .option('--token <user:pass>', 'single-use enrollment credential (HTTP Basic)')
    .option('--cert <file>', 'bootstrap certificate (PEM, with its chain) for TLS client authentication')
    .option('--key <file>', 'the key of --cert')
    .option('--label <label>', 'EST label (/.well-known/est/<label>/…)')
    .requiredOption('--out <dir>', 'where device.key and device.crt are written')
    .option('--subject <dn>', 'subject for a first enrollment, e.g. "CN=device-001"')
    .option('--san <list>', 'subjectAltName for a first enrollment: uri:…,dns:…,ip:…,email:…')
    .option('--key-type <type>', 'key type of the new key', 'ec-p256')
    .option('--encrypt', 'encrypt device.key with a passphrase')
    .option('--passphrase-file <file>', 'passphrase for device.key (else FLEETPKI_PASSPHRASE or a prompt)')
    .option('--renew', 're-enroll with DIR/device.crt when less than --threshold of its lifetime remains')
    .option('--force', 'with --renew: renew now, whatever the remaining validity')
    .option('--threshold <fraction>', 'renew when less than this fraction of the lifetime remains', '0.3333')
    .option('--watch', 'keep the certificate renewed (runs until interrupted)')
    .option('--json', 'print a JSON summary')
    .action(async (o: EnrollOptions) => {
      const threshold = Number(o.threshold);
      if (!(threshold > 0 && threshold < 1))
        throw new CliError('--threshold must be a fraction between 0 and 1');
      if (o.token !== undefined && !/^[^:]+:.+$/.test(o.token))
        throw new CliError('--token must be USER:PASS');
      if ((o.cert === undefined) !== (o.key === undefined))
        throw new CliError('--cert and --key go together');
      const keyType = parseKeyType(o.keyType);
      const anchors = parseCertificates(readInput(o.ca, 'CA file'));
      const keyPath = join(o.out, 'device.key');
      const crtPath = join(o.out, 'device.crt');
      /** Renewing (rather than a first enrollment): asked to, and there is a certificate to renew. */
      const renewable = () => (o.renew || o.watch) === true && existsSync(crtPath);
      // Said before anything is made: a first enrollment's CSR must name the device.
      if (o.subject === undefined && !renewable())
        throw new CliError(
          `a first enrollment needs --subject (e.g. --subject CN=device-001)${o.renew || o.watch ? `; there is no ${crtPath} to renew` : ''}`,
        );
      mkdirSync(o.out, { recursive: true });
      const passphrase = o.encrypt
        ? await getPassphrase({ passphraseFile: o.passphraseFile, confirm: true, purpose: keyPath })
        : undefined;
      const basic = o.token
        ? {
            username: o.token.slice(0, o.token.indexOf(':')),
            password: o.token.slice(o.token.indexOf(':') + 1),
          }
        : undefined;

      const client = (auth: { cert: string; key: string } | undefined) =>
        new EstClient({ url: o.est, label: o.label, trustAnchors: anchors, certificate: auth, basic });

      /** One enrollment or renewal; returns a summary line, or undefined when not due. */
      const step = async (force: boolean): Promise<Record<string, unknown> | undefined> => {
        const renewing = renewable();
        let current: Certificate | undefined;
        let auth: { cert: string; key: string } | undefined;
        if (renewing) {
          current = parseCertificate(readFileSync(crtPath, 'utf8'));
          if (!force && !renewalDue(current, Date.now(), threshold)) return undefined;
          const key = await loadPrivateKey(keyPath, { passphraseFile: o.passphraseFile, purpose: keyPath });
          auth = { cert: readFileSync(crtPath, 'utf8'), key: encodePem('PRIVATE KEY', key.pkcs8) };
        } else if (o.cert && o.key) {
          const key = await loadPrivateKey(o.key, { passphraseFile: o.passphraseFile, purpose: o.key });
          auth = {
            cert: readInput(o.cert, 'certificate').toString('utf8'),
            key: encodePem('PRIVATE KEY', key.pkcs8),
          };
        } else if (!basic) throw new CliError('a first enrollment needs --token or --cert/--key');
        const est = client(auth);
        const r = await enrollDevice(est, {
          subject: o.subject,
          san: o.san
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          renew: current,
          keyType,
          trustAnchors: anchors,
        }).finally(() => est.close());
        const keyPem = await exportKey(r.privateKey!, { format: 'pkcs8', passphrase });
        writeFilesAtomic([
          { path: keyPath, data: keyPem, mode: SECRET_MODE },
          { path: crtPath, data: r.chain.map((c) => c.toPem()).join(''), mode: PUBLIC_MODE },
        ]);
        return {
          action: renewing ? 'renewed' : 'enrolled',
          subject: r.certificate.subject.toString(),
          serial: r.certificate.serialHex,
          notAfter: new Date(r.certificate.notAfter).toISOString(),
          key: keyPath,
          certificate: crtPath,
        };
      };
      const report = (s: Record<string, unknown>) =>
        process.stdout.write(
          o.json
            ? `${JSON.stringify(s)}\n`
            : `${s.action} ${s.subject} serial ${s.serial} until ${s.notAfter}: ${s.certificate}\n`,
        );

      if (!o.watch) {
        let s: Record<string, unknown> | undefined;
        try {
          s = await step(o.force === true);
        } catch (e) {
          throw estFailure(e);
        }
        if (s) report(s);
        else {
          const c = parseCertificate(readFileSync(crtPath, 'utf8'));
          report({
            action: 'not due',
            subject: c.subject.toString(),
            serial: c.serialHex,
            notAfter: new Date(c.notAfter).toISOString(),
            certificate: crtPath,
          });
        }
        return;
      }

      // --watch: until SIGINT/SIGTERM.
      let stop: () => void = () => {};
      const stopped = new Promise<void>((r) => {
        stop = r;
      });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let failures = 0;
      for (;;) {
        let delay: number;
        try {
          const s = await step(false);
          if (s) report(s);
          failures = 0;
          delay = nextCheckDelay(
            existsSync(crtPath) ? parseCertificate(readFileSync(crtPath, 'utf8')) : undefined,
            { fraction: threshold },
          );
        } catch (e) {
          const err = estFailure(e);
          if (err instanceof CliError && err.exitCode === 2) throw err;
          failures++;
          delay = nextCheckDelay(undefined, { failures });
          process.stderr.write(
            `fleetpki: enroll: ${(err as Error).message}; retrying in ${Math.round(delay / 1000)} s\n`,
          );
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const tick = new Promise<'tick'>((r) => {
          timer = setTimeout(() => r('tick'), delay);
        });
        const next = await Promise.race([tick, stopped.then(() => 'stop' as const)]);
        clearTimeout(timer);
        if (next === 'stop') {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          return;
        }
      }
    });
}
