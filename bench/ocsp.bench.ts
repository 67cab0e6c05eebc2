// `npm run bench -- ocsp`: OCSP responses/s over HTTP (autocannon, keep-alive, 32 in flight) from
// our fastify responder — cached answers via GET and POST, and live signing (nonce requests) — next
// to cfssl's `ocspserve` (pre-signed responses from a file; Debian golang-cfssl) in the same run;
// then a 1 000 000-entry CRL: build+sign time and peak RSS, parse time and peak RSS for fleetpki
// and pkijs (Node has no CRL parser: X509Certificate covers certificates only), and `openssl crl`.
// Servers and each CRL measurement run in their own process (peak RSS = process.resourceUsage().maxRSS).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { type BenchResult, external, printTable, writeResults } from './harness.js';

const durationS = Math.max(3, Math.round((Number(process.env.FLEETPKI_BENCH_MS) || 5000) / 1000));
const here = import.meta.dirname;
const tmp = mkdtempSync(join(tmpdir(), 'fleetpki-ocsp-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

execFileSync('bash', [join(here, '../../shared/peers/gen-test-pki.sh'), tmp], { stdio: 'pipe' });
const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: tmp, stdio: 'pipe' });
ossl(['ocsp', '-issuer', 'int.pem', '-cert', 'device.pem', '-no_nonce', '-reqout', 'req.der']);
ossl(['ocsp', '-issuer', 'int.pem', '-cert', 'device.pem', '-reqout', 'req-nonce.der']);
const req = readFileSync(join(tmp, 'req.der'));
const reqNonce = readFileSync(join(tmp, 'req-nonce.der'));

function start(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd} not ready: ${out}`)), 20_000);
    const on = (d: Buffer) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(t);
        resolve(p);
      }
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

async function load(name: string, opts: autocannon.Options): Promise<BenchResult> {
  const r = await autocannon({ connections: 32, pipelining: 1, duration: durationS, ...opts });
  const bad = r.non2xx + r.errors + r.timeouts;
  return external(name, r.requests.average, `p99 ${r.latency.p99} ms${bad ? `, ${bad} errors/non-2xx` : ''}`);
}

const port = 19000 + Math.floor(Math.random() * 500);
await start(process.execPath, [...process.execArgv, join(here, 'ocsp-serve.ts'), tmp, String(port)], /ready/);
const base = `http://127.0.0.1:${port}/ocsp`;
// Sanity: the cached answer says good.
const probe = await fetch(base, {
  method: 'POST',
  body: new Uint8Array(req),
  headers: { 'content-type': 'application/ocsp-request' },
});
const probeDer = new Uint8Array(await probe.arrayBuffer());
if (probe.headers.get('content-type') !== 'application/ocsp-response') throw new Error('bad probe response');

const results: BenchResult[] = [];
const post = { method: 'POST' as const, headers: { 'content-type': 'application/ocsp-request' } };
results.push(await load('fleetpki POST (cached)', { url: base, ...post, body: req }));
results.push(
  await load('fleetpki GET (cached)', { url: `${base}/${encodeURIComponent(req.toString('base64'))}` }),
);
results.push(await load('fleetpki POST + nonce (signs each)', { url: base, ...post, body: reqNonce }));

// cfssl ocspserve with the same pre-signed response (what our cache holds).
const cfssl = spawnSync('sh', ['-c', 'command -v cfssl']).status === 0;
if (cfssl) {
  writeFileSync(join(tmp, 'responses.txt'), `${Buffer.from(probeDer).toString('base64')}\n`);
  const cport = port + 1;
  await start(
    'cfssl',
    ['ocspserve', '-address', '127.0.0.1', '-port', String(cport), '-responses', join(tmp, 'responses.txt')],
    /./,
  );
  await new Promise((r) => setTimeout(r, 500));
  const check = await fetch(`http://127.0.0.1:${cport}/`, {
    method: 'POST',
    body: new Uint8Array(req),
    headers: { 'content-type': 'application/ocsp-request' },
  });
  const ok = check.status === 200 && Buffer.from(await check.arrayBuffer()).equals(Buffer.from(probeDer));
  results.push(
    await load(`cfssl ocspserve POST${ok ? '' : ' (answer differs!)'}`, {
      url: `http://127.0.0.1:${cport}/`,
      ...post,
      body: req,
    }),
  );
} else console.log('cfssl not installed (apt-get install -y golang-cfssl): no ocspserve row');

const table = printTable(
  `OCSP over HTTP, autocannon 32 connections keep-alive, ${durationS} s each`,
  results,
  cfssl ? 'cfssl ocspserve POST' : 'fleetpki POST (cached)',
  'req/s',
);
for (const c of children) c.kill('SIGTERM');

// ---- 1M-entry CRL ----
const N = 1_000_000;
// pkijs (asn1js) needs ~10 KB of heap per entry and ~0.2 ms per entry here: it is compared on a
// 100 000-entry CRL, where fleetpki is measured too.
const SMALL = 100_000;
const worker = join(here, 'crl-1m-worker.ts');
function child(mode: string, n = N): { ms: number; maxRssMb: number; entries?: number; bytes?: number } {
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', ...process.execArgv, worker, mode, tmp, String(n)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
const build = child('build');
child('build', SMALL);
const crlRows: string[] = [
  `\nCRL with ${N.toLocaleString('en')} entries (${(build.bytes! / 1e6).toFixed(1)} MB DER); goal < 5 s each`,
];
crlRows.push(
  `  fleetpki build+sign          ${(build.ms / 1000).toFixed(2)} s   peak RSS ${build.maxRssMb} MB`,
);
const parses: Record<string, ReturnType<typeof child>> = {};
for (const [mode, n] of [
  ['parse-fleetpki', N],
  ['parse-fleetpki-lookup', N],
  ['parse-fleetpki', SMALL],
  ['parse-pkijs', SMALL],
] as const) {
  const label = `${mode}${n === SMALL ? ' (100k)' : ''}`;
  try {
    parses[label] = child(mode, n);
    crlRows.push(
      `  ${label.padEnd(28)} ${(parses[label].ms / 1000).toFixed(2)} s   peak RSS ${parses[label].maxRssMb} MB`,
    );
  } catch (e) {
    crlRows.push(`  ${label.padEnd(28)} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}
const t0 = performance.now();
const o = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', join(tmp, `crl-${N}.der`), '-noout']);
crlRows.push(
  `  openssl crl -noout     ${((performance.now() - t0) / 1000).toFixed(2)} s   (process incl. exec; exit ${o.status})`,
);
crlRows.push(
  '  node native           n/a (node:crypto has no CRL parser; X509Certificate covers certificates only)',
);
console.log(crlRows.join('\n'));
writeResults('ocsp', { table, results, crl: { build, parses } });
process.exit(0);
