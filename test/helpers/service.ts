// Several real `fleetpki serve` processes for the load and crash tests: started from the bundled CLI
// (cli-bundle.ts), talked to over HTTPS with keep-alive agents (one per instance), plus what the
// checks need — device CSRs, OCSP requests by serial, and reading the store those instances share.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { computeCertId } from '../../src/revocation/ocsp/cert-id.js';
import { encodeOcspRequest } from '../../src/revocation/ocsp/request.js';
import { parseOcspResponse } from '../../src/revocation/ocsp/response.js';
import { serialBytes } from '../../src/revocation/status-source.js';
import { type Certificate, parseCertificate, parseCertificates } from '../../src/x509/certificate.js';
import { cliBundle } from './cli-bundle.js';

export interface Instance {
  name: string;
  proc: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (default) or SIGKILL, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Starts `fleetpki serve --port 0 ARGS` and resolves once it printed its summary. */
export async function startInstance(
  name: string,
  args: readonly string[],
  o: {
    cwd: string;
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    /** What else to report when the instance does not start in time (e.g. the database's locks). */
    diagnose?: () => Promise<string>;
  },
): Promise<Instance> {
  const main = await cliBundle();
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  // SIGUSR2 makes a stuck instance write a diagnostic report (its JS stack, libuv handles, and each
  // worker thread's stack) before it is killed; into the caller's working directory, which its
  // test removes.
  const reports = mkdtempSync(join(o.cwd, '.node-report-'));
  const node = ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reports}`];
  const proc = spawn(
    process.execPath,
    [...node, main, 'serve', '--port', '0', '--log-level', 'warn', ...args],
    {
      cwd: o.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      rmSync(reports, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(async () => {
      let more = '';
      if (o.diagnose)
        more = await o.diagnose().then(
          (d) => `\n${d}`,
          (e) => `\n(diagnosis failed: ${(e as Error).message})`,
        );
      const report = await diagnosticReport(proc, reports);
      proc.kill('SIGKILL');
      // The log's end says which startup step it was in; the whole log can be long.
      const tail = err.split('\n').slice(-40).join('\n');
      reject(
        new Error(
          `${name} did not start in time\nstdout: ${out}\nstderr (last lines): ${tail}${more}\n${report}`,
        ),
      );
    }, o.timeoutMs ?? 300_000);
    const check = () => {
      const m = /CA service on (https:\/\/[^\s]+:(\d+))/.exec(out);
      if (!m || !out.includes('  try ')) return;
      clearTimeout(timer);
      proc.stdout!.off('data', check);
      resolve({
        name,
        proc,
        url: m[1]!,
        port: Number(m[2]),
        stdout: () => out,
        stderr: () => err,
        exited,
        stop(signal = 'SIGTERM') {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    };
    proc.stdout!.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before serving\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/**
 * Asks a stuck process for Node's diagnostic report (SIGUSR2, see `startInstance`) and returns what
 * says where it waits: the main thread's JS stack, its referenced libuv handles, and the stack of
 * each worker thread.
 */
async function diagnosticReport(proc: ChildProcess, dir: string): Promise<string> {
  proc.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const f = readdirSync(dir).find((n) => n.endsWith('.json'));
    if (!f) continue;
    let r: NodeReport;
    try {
      r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as NodeReport;
    } catch {
      continue; // still being written
    }
    const stack = (x: NodeReport) =>
      [x.javascriptStack?.message ?? '', ...(x.javascriptStack?.stack ?? [])].join('\n    ');
    const handles = (r.libuv ?? [])
      .filter((h) => h.is_referenced)
      .map(
        (h) =>
          `${h.type}${h.is_active ? '' : ' (inactive)'}${h.remoteEndpoint ? ` → ${JSON.stringify(h.remoteEndpoint)}` : ''}`,
      );
    const workers = (r.workers ?? []).map((w, i) => `  worker ${i}: ${stack(w)}`);
    return [
      `diagnostic report (${f}):`,
      `  main thread: ${stack(r)}`,
      `  referenced libuv handles: ${handles.join(', ') || 'none'}`,
      ...workers,
    ].join('\n');
  }
  return 'diagnostic report: none written within 10 s';
}

interface NodeReport {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active: boolean; is_referenced: boolean; remoteEndpoint?: unknown }[];
  workers?: NodeReport[];
}

export interface Reply {
  status: number;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** An HTTPS client for one instance: keep-alive, trusting the CA's root, with the admin token. */
export class Client {
  readonly agent: Agent;

  constructor(
    readonly base: string,
    private readonly rootPem: string,
    private readonly token: string,
    maxSockets = 16,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: rootPem });
  }

  request(
    method: string,
    path: string,
    o: { json?: unknown; body?: Uint8Array; contentType?: string; auth?: boolean } = {},
  ): Promise<Reply> {
    const body =
      o.json !== undefined ? Buffer.from(JSON.stringify(o.json)) : o.body ? Buffer.from(o.body) : undefined;
    const headers: Record<string, string> = {};
    if (o.auth !== false) headers.authorization = `Bearer ${this.token}`;
    if (body) {
      headers['content-type'] =
        o.json !== undefined ? 'application/json' : (o.contentType ?? 'application/octet-stream');
      headers['content-length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${this.base}${path}`,
        { method, headers, agent: this.agent, ca: this.rootPem },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const b = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              body: b,
              json: <T>() => JSON.parse(b.toString('utf8')) as T,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** POST /api/v1/certificates; the certificate on 201, else throws with the status and body. */
  async issue(csrPem: string, profile = 'device'): Promise<Certificate> {
    const r = await this.request('POST', '/api/v1/certificates', { json: { csr: csrPem, profile } });
    if (r.status !== 201) throw new Error(`issue: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    return parseCertificate(r.json<{ pem: string }>().pem);
  }

  /** The OCSP status this instance serves for a serial of `issuer` (POST, no nonce: cacheable). */
  async ocspStatus(issuer: Certificate, serialHex: string): Promise<'good' | 'revoked' | 'unknown'> {
    const certId = computeCertId(
      {
        hash: 'SHA-1',
        issuerNameHash: sha1(issuer.subject.der),
        issuerKeyHash: sha1(issuer.subjectPublicKeyInfo.publicKey),
      },
      serialBytes(serialHex),
    );
    const der = encodeOcspRequest({ requestList: [{ reqCert: certId }] });
    const r = await this.request('POST', '/ocsp', {
      body: der,
      contentType: 'application/ocsp-request',
      auth: false,
    });
    if (r.status !== 200) throw new Error(`ocsp: HTTP ${r.status}`);
    const resp = parseOcspResponse(new Uint8Array(r.body));
    if (resp.responseStatus !== 'successful') throw new Error(`ocsp: ${resp.responseStatus}`);
    const single = resp.basic!.responses[0]!;
    return single.certStatus.status;
  }

  close(): void {
    this.agent.destroy();
  }
}

const sha1 = (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest());

/** A client for an instance of the CA in DATA (root from DATA/ca/root.pem, token from DATA/admin/token). */
export function clientFor(inst: Instance, dataDir: string, maxSockets?: number): Client {
  return new Client(
    inst.url,
    readFileSync(join(dataDir, 'ca', 'root.pem'), 'utf8'),
    readFileSync(join(dataDir, 'admin', 'token'), 'utf8').trim(),
    maxSockets,
  );
}

/** The default issuing CA of DATA (first in DATA/ca/chain.pem). */
export function issuingCa(dataDir: string): Certificate {
  return parseCertificates(readFileSync(join(dataDir, 'ca', 'chain.pem'), 'utf8'))[0]!;
}

/** `n` device CSRs (PEM), CN=load-<prefix>-<i>, each with its own key. */
export async function deviceCsrs(n: number, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
    out.push((await new CsrBuilder().subject(`CN=load-${prefix}-${i}`).sign(signer)).toPem());
  }
  return out;
}
