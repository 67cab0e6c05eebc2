// `fleetpki demo` as a user runs it (a child process): 50 devices end with 50 enrolled, 50
// connected, 1 refused after revocation and 1 renewed, exit 0; Ctrl-C stops everything it started
// (the broker, the service, its temporary directory) and exits 130.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

function startDemo(args: string[]) {
  const p = spawn(process.execPath, ['--import', tsx, main, 'demo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  p.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number>((resolve) => p.once('exit', (c, s) => resolve(c ?? (s ? 128 : 1))));
  return { p, out: () => out, err: () => err, exited };
}

/** PIDs of the live children of `pid` (from /proc). */
function children(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

it('fleetpki demo --devices 50: 50 enrolled, 50 connected, 1 refused, 1 renewed, exit 0', {
  timeout: 240_000,
}, async () => {
  const d = startDemo(['--devices', '50', '--json']);
  const code = await d.exited;
  assert.equal(code, 0, d.err());
  const r = JSON.parse(d.out().trim().split('\n').pop()!);
  assert.deepEqual(
    { enrolled: r.enrolled, connected: r.connected, refused: r.refused, renewed: r.renewed, ok: r.ok },
    { enrolled: 50, connected: 50, refused: 1, renewed: 1, ok: true },
  );
  assert.equal(r.stillPublishing, 49);
  // Not a terminal: plain progress lines, no carriage returns.
  assert.ok(!d.err().includes('\r'));
  assert.match(d.err(), /refused at its next connection/);
});

it('Ctrl-C stops the broker, the service and the temporary directory, and exits 130', {
  timeout: 240_000,
}, async () => {
  const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('fleetpki-demo-')));
  const d = startDemo(['--devices', '200']);
  // Wait until the broker runs and devices are enrolling.
  for (let i = 0; i < 1200 && !/devices enroll over EST/.test(d.err()); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.match(d.err(), /devices enroll over EST/);
  const mine = readdirSync(tmpdir()).filter((n) => n.startsWith('fleetpki-demo-') && !before.has(n));
  assert.equal(mine.length, 1);
  const kids = children(d.p.pid!);
  const brokers = kids.filter((k) => readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'mosquitto');
  assert.equal(brokers.length, 1, 'the demo runs one mosquitto');
  d.p.kill('SIGINT');
  assert.equal(await d.exited, 130, d.err());
  assert.match(d.err(), /interrupted; stopping everything it started/);
  assert.ok(
    !existsSync(`/proc/${brokers[0]}`) || readFileSync(`/proc/${brokers[0]}/stat`, 'utf8').includes(') Z '),
    'the broker is gone',
  );
  assert.ok(!existsSync(join(tmpdir(), mine[0]!)), 'the temporary directory is removed');
});
