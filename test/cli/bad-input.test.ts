// The CLI as a new user meets it: every bad input ends in exit 2 with exactly one line on stderr,
// and no file is written or left behind (no temp file, no half-made CA). Then the output targets
// that are NOT errors: a device node (`/dev/null` run as root), `-` (stdout), DER CSRs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CliRun, fleetpki, fleetpkiProcess, openssl } from './pki-cli.js';

const PASS = 'bad-input-pass';
const env = { FLEETPKI_PASSPHRASE: PASS };
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

/** Every file under `d` (relative path → size and mode), to prove nothing was written. */
function tree(d: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(`${prefix}${e.name}/`, ...tree(p, `${prefix}${e.name}/`));
    else {
      const st = statSync(p);
      out.push(`${prefix}${e.name} ${st.size} ${(st.mode & 0o777).toString(8)} ${st.mtimeMs}`);
    }
  }
  return out;
}

function assertOneLine(r: CliRun, re: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^fleetpki: /);
  assert.doesNotMatch(lines[0]!, /internal error|\bat .*:\d+:\d+/);
  assert.match(lines[0]!, re);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-bad-input-'));
  const ok = (r: CliRun) => assert.equal(r.code, 0, r.stderr);
  ok(
    await fleetpki(['ca', 'init', '--dir', 'ca', '--crl-url', 'http://crl.example/int.crl'], {
      cwd: dir,
      env,
    }),
  );
  ok(await fleetpki(['ca', 'init', '--dir', 'ca-no-urls'], { cwd: dir, env }));
  ok(await fleetpki(['key', 'generate', '--type', 'ec-p256', '--out', 'dev.key'], { cwd: dir }));
  ok(
    await fleetpki(['csr', 'create', '--key', 'dev.key', '--subject', 'CN=dev-1', '--out', 'dev.csr'], {
      cwd: dir,
    }),
  );
  ok(
    await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'device', '--out', 'dev.crt'],
      {
        cwd: dir,
        env,
      },
    ),
  );
  ok(await fleetpki(['crl', 'create', '--dir', 'ca'], { cwd: dir, env }));
  const crl = readFileSync(join(dir, 'ca/intermediate.crl'), 'latin1');
  writeFileSync(join(dir, 'cut.crl'), crl.slice(0, crl.length >> 1));
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'ca/intermediate.crt'), 'latin1'));
  mkdirSync(join(dir, 'somedir'));
  writeFileSync(join(dir, 'a-file'), 'not a directory\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const VERIFY = ['verify', 'dev.crt', '--trusted', 'ca/root.crt', '--untrusted', 'chain.pem'];

/** name, arguments, what the one line says; env defaults to the CA passphrase. */
const CASES: readonly {
  name: string;
  args: string[];
  message: RegExp;
  env?: Record<string, string | undefined>;
}[] = [
  {
    name: 'verify --crl with a truncated PEM',
    args: [...VERIFY, '--crl', 'cut.crl'],
    message: /CRL cut\.crl: bad PEM/,
  },
  {
    name: 'ca sign --out naming a directory',
    args: ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'device', '--out', 'somedir'],
    message: /cannot write somedir: it is a directory/,
  },
  {
    name: 'key generate --out naming a directory (no temp file holding the key is left)',
    args: ['key', 'generate', '--type', 'ec-p256', '--out', 'somedir'],
    message: /cannot write somedir: it is a directory/,
  },
  {
    name: 'crl create --out naming a directory',
    args: ['crl', 'create', '--dir', 'ca', '--out', 'somedir'],
    message: /cannot write somedir: it is a directory/,
  },
  {
    name: 'key generate --out under a regular file',
    args: ['key', 'generate', '--type', 'ec-p256', '--out', 'a-file/k.key'],
    message: /cannot write a-file\/k\.key: a parent is not a directory/,
  },
  {
    name: 'key generate --out an existing key without --force',
    args: ['key', 'generate', '--type', 'ec-p256', '--out', 'dev.key'],
    message: /dev\.key already exists; refusing to overwrite it \(use --force\)/,
  },
  {
    name: 'key generate --out the CA root key without --force',
    args: ['key', 'generate', '--type', 'ec-p256', '--out', 'ca/root.key'],
    message: /already exists/,
  },
  {
    name: 'ca init --dir under a regular file, before any passphrase is asked',
    args: ['ca', 'init', '--dir', 'a-file/ca'],
    message: /cannot write --dir a-file\/ca: .*a-file is not a directory/,
    env: { FLEETPKI_PASSPHRASE: undefined },
  },
  {
    name: 'ca init with a 3-character passphrase',
    args: ['ca', 'init', '--dir', 'short-pass-ca'],
    message: /too short: at least 8 characters/,
    env: { FLEETPKI_PASSPHRASE: 'abc' },
  },
  {
    name: 'verify --revocation-scope bogus (no source given)',
    args: [...VERIFY, '--revocation-scope', 'bogus'],
    message: /'bogus' is invalid.*leaf, chain/,
  },
  { name: 'verify --profile bogus', args: [...VERIFY, '--profile', 'bogus'], message: /'bogus' is invalid/ },
  { name: 'verify --purpose bogus', args: [...VERIFY, '--purpose', 'bogus'], message: /'bogus' is invalid/ },
  {
    name: 'verify --host with an IP address suggests --ip',
    args: [...VERIFY, '--host', '127.0.0.1'],
    message: /--host 127\.0\.0\.1 is an IP address: use --ip 127\.0\.0\.1/,
  },
  {
    name: 'verify --host [::1] suggests --ip',
    args: [...VERIFY, '--host', '[::1]'],
    message: /use --ip ::1/,
  },
  {
    name: 'verify --ocsp on a certificate without an OCSP URL',
    args: [...VERIFY, '--ocsp'],
    message: /--ocsp: the leaf dev\.crt names no OCSP responder/,
  },
  {
    name: 'ca sign --profile bogus',
    args: ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'bogus'],
    message: /unknown profile "bogus" \(device, server.*intermediate\)/,
  },
  {
    name: 'crl create --issuer bogus',
    args: ['crl', 'create', '--dir', 'ca', '--issuer', 'bogus'],
    message: /'bogus' is invalid/,
  },
  {
    name: 'ca revoke --reason bogus',
    args: ['ca', 'revoke', '--dir', 'ca', '01', '--reason', 'bogus'],
    message: /'bogus' is invalid/,
  },
  {
    name: 'key generate --type bogus',
    args: ['key', 'generate', '--type', 'bogus', '--out', 'x.key'],
    message: /'bogus' is invalid/,
  },
  {
    name: 'ca init --type bogus',
    args: ['ca', 'init', '--dir', 'x', '--type', 'bogus'],
    message: /'bogus' is invalid/,
  },
  { name: 'an unknown command', args: ['frobnicate'], message: /unknown command 'frobnicate'/ },
];

describe('bad input: exit 2, exactly one line, nothing written or left behind', () => {
  for (const c of CASES)
    test(c.name, async () => {
      const before = tree(dir);
      const r = await fleetpki(c.args, { cwd: dir, env: { ...env, ...c.env } });
      assertOneLine(r, c.message);
      assert.deepEqual(tree(dir), before, 'the directory changed');
    });

  test('ca init --dir on a read-only location, checked before the passphrase prompt (real process)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const before = tree(dir);
    const args = ['ca', 'init', '--dir', 'ro/ca'];
    let r: CliRun;
    if (process.getuid?.() === 0) {
      // Root ignores permission bits: make the directory a read-only bind mount in a private
      // mount namespace (EROFS), which root cannot write either.
      const tsx = import.meta.resolve('tsx');
      const cmd = `mount --bind -o ro "$1" "$1" && shift && exec "$@"`;
      const p = spawnSync(
        'unshare',
        [
          '-m',
          'sh',
          '-c',
          cmd,
          'sh',
          ro,
          process.execPath,
          '--import',
          tsx,
          join(root, 'src/cli/main.ts'),
          ...args,
        ],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, FLEETPKI_PASSPHRASE: '' }, timeout: 60_000 },
      );
      if (p.error)
        throw new Error(`unshare (util-linux) is needed for this test as root: ${p.error.message}`);
      r = { code: p.status ?? -1, stdout: p.stdout, stderr: p.stderr };
    } else {
      chmodSync(ro, 0o500);
      r = fleetpkiProcess(args, { cwd: dir, env: { FLEETPKI_PASSPHRASE: '' } });
      chmodSync(ro, 0o700);
    }
    // An empty passphrase would be refused: the directory check must come first.
    assertOneLine(r, /cannot write --dir ro\/ca: .*(read-only file system|permission denied)/);
    assert.deepEqual(tree(dir), before);
  });
});

describe('output targets that are not errors', () => {
  function scratchDevice(name: string): string {
    const p = join(dir, name);
    // The null device's numbers (Linux: 1,3), on a scratch path: /dev/null itself is never at risk.
    const r = spawnSync('mknod', ['-m', '0666', p, 'c', '1', '3'], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`mknod needs root (CI runs as root): ${r.stderr || r.error?.message}`);
    return p;
  }

  for (const [name, args] of [
    ['key generate', ['key', 'generate', '--type', 'ec-p256', '--out']],
    ['ca sign', ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'device', '--out']],
    ['crl create', ['crl', 'create', '--dir', 'ca', '--out']],
    ['csr create', ['csr', 'create', '--key', 'dev.key', '--subject', 'CN=x', '--out']],
  ] as const)
    test(`${name} --out <character device> writes to the device and leaves the node in place`, async () => {
      const dev = scratchDevice(`null-${name.replace(/\W/g, '')}`);
      const before = tree(dir);
      const r = await fleetpki([...args, dev], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      const st = statSync(dev);
      assert.ok(st.isCharacterDevice(), 'the device node was replaced');
      // Only the CA's store may change (ca sign records the certificate; crl create its number).
      const changed = tree(dir).filter((l) => !before.includes(l) && !l.startsWith('ca/fleetpki.db'));
      assert.deepEqual(changed, [], 'unexpected files');
      rmSync(dev);
    });

  test('key generate --out <FIFO> writes into the pipe (a reader gets the key), the FIFO stays', async () => {
    const fifo = join(dir, 'key.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    reader.stdout.on('data', (d: Buffer) => {
      got += d.toString();
    });
    const done = new Promise((resolve) => reader.on('close', resolve));
    const r = fleetpkiProcess(['key', 'generate', '--type', 'ed25519', '--out', fifo], { cwd: dir });
    await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(got, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(statSync(fifo).isFIFO());
    rmSync(fifo);
  });

  test('key generate --out - writes the PEM to stdout and no file named "-"', () => {
    const r = fleetpkiProcess(['key', 'generate', '--type', 'ed25519', '--out', '-'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(!readdirSync(dir).includes('-'));
  });

  test('crl create --out -: the CRL on stdout, the summary on stderr', () => {
    const r = fleetpkiProcess(['crl', 'create', '--dir', 'ca', '--out', '-'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN X509 CRL-----\n[\s\S]*-----END X509 CRL-----\n$/);
    assert.match(r.stderr, /wrote CRL #\d+/);
  });

  test('key generate --force replaces an existing key', async () => {
    writeFileSync(join(dir, 'old.key'), 'old\n', { mode: 0o600 });
    const r = await fleetpki(['key', 'generate', '--type', 'ec-p256', '--out', 'old.key', '--force'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'old.key'), 'utf8'), /BEGIN PRIVATE KEY/);
  });

  test('ca sign --csr accepts a DER CSR and prints the serial it issued on stderr', () => {
    assert.equal(openssl(['req', '-in', 'dev.csr', '-outform', 'DER', '-out', 'dev.csr.der'], dir).code, 0);
    const r = fleetpkiProcess(['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr.der', '--profile', 'device'], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
    const serial = /serial ([0-9a-f]+)/.exec(r.stderr)?.[1];
    assert.ok(serial, r.stderr);
    writeFileSync(join(dir, 'from-der.crt'), r.stdout);
    const o = openssl(['x509', '-in', 'from-der.crt', '-noout', '-serial'], dir);
    assert.equal(o.stdout.trim().split('=')[1]!.toLowerCase().replace(/^0+/, ''), serial.replace(/^0+/, ''));
  });

  test('Ctrl-C at the passphrase prompt exits 130 and writes nothing (a real terminal)', async () => {
    const before = tree(dir);
    const tsx = import.meta.resolve('tsx');
    const cmd = [
      process.execPath,
      '--import',
      tsx,
      join(root, 'src/cli/main.ts'),
      'ca',
      'init',
      '--dir',
      'ctrl-c-ca',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const childEnv = { ...process.env };
    delete childEnv.FLEETPKI_PASSPHRASE;
    // util-linux `script` gives the child a pseudo-terminal; -e returns the child's exit status.
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: childEnv, stdio: 'pipe' });
    let seen = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (e) => reject(new Error(`script (util-linux) is needed: ${e.message}`)));
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        // The prompt is up (raw mode set before it is printed): press Ctrl-C.
        if (seen.includes('Passphrase for') && !seen.includes('\u0000sent')) {
          seen += '\u0000sent';
          child.stdin.write('\u0003');
        }
      });
      child.on('close', (c) => resolve(c));
    });
    assert.equal(code, 130, seen);
    assert.match(seen, /fleetpki: interrupted/);
    assert.deepEqual(tree(dir), before);
  });
});
