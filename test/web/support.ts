// Shared pieces of the dashboard tests: a fresh build of src/web/ (Vite, into a temp dir, so the
// tests always see the current sources — also in CI's Node 24 copy, which has no dist/), the real
// `fleetpki serve` started on it, certificates issued through the admin API, and Chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDashboard } from '../../scripts/build-web.js';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { IssueResponse } from '../../src/server/api/schemas.js';
import { api, type ServeProcess, spawnServe } from '../server/helpers.js';

/** Debian's Chromium (scripts/provision.sh installs it) and the flags that work headless here. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds the dashboard into a new temp dir (≈1 s); remove it with `rmSync` when done. */
export async function buildToTemp(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpki-web-'));
  await buildDashboard(dir, { quiet: true });
  return dir;
}

export interface DashboardService {
  serve: ServeProcess;
  dir: string;
  url: string;
  token: string;
  root: string;
  dataDir: string;
  /** Stops the service and removes its directory (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts `fleetpki serve --port 0` on a fresh data dir serving the build in `assetsDir`
 * (`FLEETPKI_DASHBOARD_DIR`), with an optional CA config file (YAML).
 */
export async function startDashboardService(assetsDir: string, config?: string): Promise<DashboardService> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpki-dash-'));
  const args = ['--port', '0', '--data', join(dir, 'data')];
  if (config !== undefined) {
    writeFileSync(join(dir, 'ca.yaml'), config);
    args.push('--config', join(dir, 'ca.yaml'));
  }
  let serve: ServeProcess;
  try {
    serve = await spawnServe(args, {
      cwd: dir,
      env: {
        DATABASE_URL: undefined,
        FLEETPKI_PASSPHRASE: undefined,
        FLEETPKI_PKCS11_PIN: undefined,
        FLEETPKI_DASHBOARD_DIR: assetsDir,
      },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const dataDir = join(dir, 'data');
  let stopped = false;
  return {
    serve,
    dir,
    dataDir,
    url: serve.url,
    token: readFileSync(join(dataDir, 'admin', 'token'), 'utf8').trim(),
    root: readFileSync(join(dataDir, 'ca', 'root.pem'), 'utf8'),
    async stop() {
      if (stopped) return;
      stopped = true;
      await serve.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Issues a certificate through the admin API (bearer token), a fresh P-256 key per certificate. */
export async function issue(
  svc: DashboardService,
  o: { subject: string; sans?: string[]; profile?: string; validityDays?: number },
): Promise<IssueResponse> {
  const signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
  const b = new CsrBuilder().subject(o.subject);
  if (o.sans?.length) b.subjectAltName(o.sans);
  const csr = await b.sign(signer);
  const r = await api(svc.url, '/api/v1/certificates', {
    token: svc.token,
    ca: svc.root,
    json: {
      csr: csr.toPem(),
      profile: o.profile ?? 'device',
      ...(o.validityDays ? { validityDays: o.validityDays } : {}),
    },
  });
  if (r.status !== 201 && r.status !== 202) throw new Error(`issue failed: ${r.status} ${r.text}`);
  return IssueResponse.parse(r.json());
}

/** Where the screenshots go (CI keeps `.tmp/` as artifacts). */
export function screenshotDir(): string {
  const d = join(process.cwd(), '.tmp', 'screenshots');
  return d;
}

/** PNG signature check and size: a blank or failed capture is tiny. */
export function pngInfo(path: string): { ok: boolean; bytes: number; width: number; height: number } {
  if (!existsSync(path)) return { ok: false, bytes: 0, width: 0, height: 0 };
  const b = readFileSync(path);
  const ok = b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return { ok, bytes: b.length, width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
