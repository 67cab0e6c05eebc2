// The CAs `npm run bench -- ca` measures, each a real server process over HTTPS on 127.0.0.1, each
// storing every certificate durably before it answers:
// - `fleetpki serve` (dist/, as `npm start` runs it) on SQLite (WAL, synchronous=FULL, group commit)
//   and on PostgreSQL (a throwaway cluster with fsync and synchronous_commit on);
// - step-ca 0.19 (smallstep/certificates built from Debian's sources by peers/step-ca/build.sh),
//   bbolt database (an fsync per commit), a JWK provisioner whose one-time tokens authorise `/1.0/sign`;
// - cfssl 1.2 `serve` (Debian `golang-cfssl`) with its SQLite certdb (rollback journal, synchronous=FULL).
// Adapted from ../shared/peers/{step-ca,cfssl}; nothing here reads that directory.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { buildDist } from './harness.js';

const repo = fileURLToPath(new URL('../', import.meta.url));

/** A CA server under test. */
export interface Peer {
  name: string;
  pid: number;
  origin: string;
  /** Where its logs go. */
  logFile: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A port nobody listens on right now (the server is then started on it; see `retryOnPortClash`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function startProcess(
  cmd: string,
  args: readonly string[],
  o: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv; stdout?: 'log' | 'pipe' },
): ChildProcess {
  const log = openSync(o.logFile, 'a');
  const p = spawn(cmd, args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', o.stdout === 'pipe' ? 'pipe' : log, log],
  });
  closeSync(log);
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** GET (or POST) over HTTPS without verifying the server (like curl -k); the status and body. */
export function httpsCall(
  url: string,
  o: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? (o.body ? 'POST' : 'GET'),
        headers: { 'content-type': 'application/json', ...o.headers },
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let d = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          d += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: d }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Polls `check` until it returns true, the process exits, or `ms` pass. */
async function waitReady(
  p: ChildProcess,
  what: string,
  logFile: string,
  check: () => Promise<boolean>,
  ms = 60_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (p.exitCode !== null || p.signalCode !== null)
      throw new Error(`${what} exited (${p.exitCode ?? p.signalCode}):\n${tail(logFile)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  p.kill('SIGKILL');
  throw new Error(`${what} did not become ready in ${ms / 1000} s:\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- fleetpki serve ------------------------------------------------------------------------------

/**
 * The sources of another commit (`git archive`) built into `cacheDir/base-<sha>/dist`, to measure a
 * change against the code before it in the same run. Returns that root and the short sha.
 */
export function buildBaseline(
  ref: string,
  cacheDir: string,
  say: (s: string) => void,
): { root: string; sha: string } {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: repo, encoding: 'utf8' }).trim();
  const root = join(cacheDir, `base-${sha}`);
  if (!existsSync(join(root, 'dist/cli/main.js'))) {
    say(`building ${ref} (${sha}) into ${root}`);
    execFileSync(
      'sh',
      [
        '-c',
        `rm -rf "${root}" && mkdir -p "${root}" && git archive ${sha} src scripts package.json tsconfig.json tsconfig.build.json | tar -x -C "${root}" && ln -s "${join(repo, 'node_modules')}" "${root}/node_modules"`,
      ],
      { cwd: repo, stdio: 'inherit' },
    );
    buildDist(say, root);
  }
  return { root, sha };
}

export interface FleetpkiPeer extends Peer {
  /** `Authorization` header value. */
  authorization: string;
  rootPem: string;
}

/**
 * `fleetpki serve --data DIR --port 0 [--db URL]` from dist/, JSON logs at the default level (info)
 * to a file; resolves once it printed its summary.
 */
export async function startFleetpki(o: {
  name: string;
  dataDir: string;
  db?: string;
  extraArgs?: readonly string[];
  nodeArgs?: readonly string[];
  /** Where dist/ is (default this checkout). */
  root?: string;
}): Promise<FleetpkiPeer> {
  const logFile = join(o.dataDir, '..', `${o.name.replace(/\W+/g, '-')}.log`);
  const args = [
    ...(o.nodeArgs ?? []),
    join(o.root ?? repo, 'dist/cli/main.js'),
    'serve',
    '--data',
    o.dataDir,
    '--port',
    '0',
    ...(o.db ? ['--db', o.db] : []),
    ...(o.extraArgs ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, FLEETPKI_PASSPHRASE: 'bench-passphrase' };
  delete env.DATABASE_URL;
  const p = startProcess(process.execPath, args, {
    cwd: join(o.dataDir, '..'),
    logFile,
    stdout: 'pipe',
    env,
  });
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const origin = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`fleetpki serve did not start:\n${out}\n${tail(logFile)}`)),
      120_000,
    );
    p.stdout!.on('data', () => {
      const m = /CA service on (https:\/\/[^\s]+:\d+)/.exec(out);
      if (m && out.includes('  try ')) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    p.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`fleetpki serve exited ${code}:\n${out}\n${tail(logFile)}`));
    });
  });
  const token = readFileSync(join(o.dataDir, 'admin', 'token'), 'utf8').trim();
  return {
    name: o.name,
    pid: p.pid!,
    origin,
    logFile,
    authorization: `Bearer ${token}`,
    rootPem: readFileSync(join(o.dataDir, 'ca', 'root.pem'), 'utf8'),
    stop: () => stopProcess(p),
  };
}

// ---- step-ca -------------------------------------------------------------------------------------

export interface StepCaPeer extends Peer {
  /** A one-time token for a CSR with this CN (ES256 JWT from the JWK provisioner, unique jti). */
  token(cn: string): string;
  rootPem: string;
}

/**
 * Builds step-ca with peers/step-ca/build.sh into `cacheDir` (kept between runs). Returns the
 * binary, or undefined with the reason (the Debian packages to install) when it cannot be built.
 */
export function buildStepCa(cacheDir: string): { bin?: string; why?: string } {
  const r = spawnSync('bash', [join(repo, 'bench/peers/step-ca/build.sh'), cacheDir], { encoding: 'utf8' });
  if (r.status === 0) return { bin: r.stdout.trim().split('\n').at(-1)! };
  return { why: (r.stderr || r.stdout || String(r.error)).trim() };
}

/**
 * Configures step-ca in `dir` (OpenSSL-made P-256 root and intermediate; a JWK provisioner; bbolt
 * database, which syncs every commit) and starts it on a free port.
 */
export async function startStepCa(bin: string, dir: string): Promise<StepCaPeer> {
  const ossl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'root.key');
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    'root.key',
    '-subj',
    '/CN=Step Bench Root',
    '-days',
    '3650',
    '-out',
    'root.crt',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'int.key');
  ossl('req', '-new', '-key', 'int.key', '-subj', '/CN=Step Bench Intermediate', '-out', 'int.csr');
  writeFileSync(
    join(dir, 'int.ext'),
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
  );
  ossl(
    'x509',
    '-req',
    '-in',
    'int.csr',
    '-CA',
    'root.crt',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-days',
    '1825',
    '-extfile',
    'int.ext',
    '-out',
    'int.crt',
  );

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // The key id step-ca expects: the SHA-256 of the JWK's required members (RFC 7638 thumbprint).
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  writeFileSync(join(dir, 'prov.key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));

  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(
      join(dir, 'ca.json'),
      JSON.stringify({
        root: 'root.crt',
        crt: 'int.crt',
        key: 'int.key',
        address: `127.0.0.1:${port}`,
        dnsNames: ['127.0.0.1', 'localhost'],
        logger: { format: 'text' },
        db: { type: 'bbolt', dataSource: 'db.bolt' },
        authority: {
          provisioners: [
            {
              type: 'JWK',
              name: 'bench',
              key: { ...jwk, use: 'sig', alg: 'ES256', kid },
              claims: { maxTLSCertDuration: '24h', defaultTLSCertDuration: '24h' },
            },
          ],
        },
      }),
    );
    const logFile = join(dir, 'step-ca.log');
    const p = startProcess(bin, ['ca.json'], {
      cwd: dir,
      logFile,
      env: { ...process.env, STEPCA_PASSWORD: '' },
    });
    const origin = `https://127.0.0.1:${port}`;
    try {
      await waitReady(
        p,
        'step-ca',
        logFile,
        async () => (await httpsCall(`${origin}/health`)).status === 200,
      );
    } catch (e) {
      lastError = e;
      if (/address already in use/i.test(String(e))) continue;
      throw e;
    }
    return {
      name: 'step-ca',
      pid: p.pid!,
      origin,
      logFile,
      rootPem: readFileSync(join(dir, 'root.crt'), 'utf8'),
      token: tokenMaker(createPrivateKey(readFileSync(join(dir, 'prov.key.pem'))), kid, `${origin}/1.0/sign`),
      stop: () => stopProcess(p),
    };
  }
  throw lastError;
}

function tokenMaker(key: KeyObject, kid: string, audience: string): (cn: string) => string {
  const b64u = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const header = b64u({ alg: 'ES256', kid, typ: 'JWT' });
  return (cn) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'bench',
      aud: audience,
      sub: cn,
      sans: [cn],
      iat: now,
      nbf: now - 5,
      exp: now + 600,
      jti: randomBytes(16).toString('hex'),
    };
    const signing = `${header}.${b64u(claims)}`;
    // RFC 7518 §3.4: ES256 signatures are R || S, not DER.
    const sig = sign('sha256', Buffer.from(signing), { key, dsaEncoding: 'ieee-p1363' });
    return `${signing}.${sig.toString('base64url')}`;
  };
}

// ---- cfssl ---------------------------------------------------------------------------------------

const CFSSL_CONFIG = {
  signing: {
    default: { expiry: '8760h', usages: ['digital signature', 'client auth'] },
    profiles: {
      intermediate: {
        expiry: '43800h',
        usages: ['cert sign', 'crl sign'],
        ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true },
      },
      client: { expiry: '8760h', usages: ['digital signature', 'client auth'] },
      server: { expiry: '8760h', usages: ['digital signature', 'key encipherment', 'server auth'] },
    },
  },
};

/** The certdb schema cfssl 1.2 writes to (its `certdb/sqlite` migration). */
const CFSSL_SCHEMA = `
CREATE TABLE certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier)
);`;

export interface CfsslPeer extends Peer {
  rootPem: string;
  /** Rows in its certdb (to check that every answered certificate was stored). */
  storedCount(): number;
}

/** cfssl's binaries, or the reason they are missing. */
export function findCfssl(): { why?: string } {
  for (const b of ['cfssl', 'cfssljson'])
    if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0)
      return { why: `${b} is not installed; install it with: apt-get install golang-cfssl` };
  return {};
}

/**
 * Root → issuing CA (+ the TLS certificate of its HTTPS listener) made with cfssl's own commands,
 * an empty SQLite certdb, and `cfssl serve` over HTTPS on a free port.
 */
export async function startCfssl(dir: string): Promise<CfsslPeer> {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CFSSL_CONFIG));
  const req = (cn: string, extra: object = {}) =>
    JSON.stringify({ CN: cn, key: { algo: 'ecdsa', size: 256 }, names: [{ O: 'Bench' }], ...extra });
  writeFileSync(join(dir, 'root-csr.json'), req('cfssl Bench Root', { ca: { expiry: '87600h' } }));
  writeFileSync(join(dir, 'int-csr.json'), req('cfssl Bench Issuing CA'));
  writeFileSync(join(dir, 'tls-csr.json'), req('127.0.0.1', { hosts: ['127.0.0.1', 'localhost'] }));
  const sh = (script: string) =>
    execFileSync('sh', ['-c', script], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  sh('cfssl genkey -initca root-csr.json | cfssljson -bare root');
  sh('cfssl genkey int-csr.json | cfssljson -bare int');
  sh(
    'cfssl sign -ca root.pem -ca-key root-key.pem -config config.json -profile intermediate int.csr | cfssljson -bare int',
  );
  sh('cfssl genkey tls-csr.json | cfssljson -bare tls');
  sh(
    'cfssl sign -ca int.pem -ca-key int-key.pem -config config.json -profile server tls.csr | cfssljson -bare tls',
  );
  // The certdb as cfssl's sqlite driver (mattn/go-sqlite3) opens it: rollback journal, synchronous=FULL.
  const db = new Database(join(dir, 'certs.db'));
  db.exec(CFSSL_SCHEMA);
  db.close();
  writeFileSync(join(dir, 'db-config.json'), JSON.stringify({ driver: 'sqlite3', data_source: 'certs.db' }));

  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const logFile = join(dir, 'cfssl.log');
    // -loglevel 2 as the peer kit runs it: warnings and worse (cfssl's default, 1, is info, which
    // logs every signing — slower for cfssl, so the kit's setting is the one that favours it).
    const p = startProcess(
      'cfssl',
      [
        'serve',
        '-address',
        '127.0.0.1',
        '-port',
        String(port),
        '-ca',
        'int.pem',
        '-ca-key',
        'int-key.pem',
        '-config',
        'config.json',
        '-db-config',
        'db-config.json',
        '-tls-cert',
        'tls.pem',
        '-tls-key',
        'tls-key.pem',
        '-loglevel',
        '2',
      ],
      { cwd: dir, logFile },
    );
    const origin = `https://127.0.0.1:${port}`;
    try {
      await waitReady(p, 'cfssl serve', logFile, async () => {
        const r = await httpsCall(`${origin}/api/v1/cfssl/scaninfo`);
        return r.status > 0;
      });
    } catch (e) {
      lastError = e;
      if (/address already in use/i.test(String(e))) continue;
      throw e;
    }
    return {
      name: 'cfssl',
      pid: p.pid!,
      origin,
      logFile,
      rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
      storedCount: () => {
        const d = new Database(join(dir, 'certs.db'), { readonly: true });
        try {
          return (d.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n;
        } finally {
          d.close();
        }
      },
      stop: () => stopProcess(p),
    };
  }
  throw lastError;
}
