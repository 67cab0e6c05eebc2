// Proves the interop toolchain works where the tests run: OpenSSL makes a test PKI
// (../shared/peers/gen-test-pki.sh) and the Go helpers built by buildGoTool judge it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildGoTool } from '../../bench/go/build.js';

const genPki = fileURLToPath(new URL('../../../shared/peers/gen-test-pki.sh', import.meta.url));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err.code === 'ENOENT' ? new Error(`${cmd} not found on PATH`) : err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

describe('Go interop tools', () => {
  let tmp = '';
  let pki = '';

  before(async () => {
    assert.ok(existsSync(genPki), `missing ${genPki} (CI clones the repo with shared/ beside it)`);
    tmp = mkdtempSync(join(tmpdir(), 'fleetpki-go-'));
    pki = join(tmp, 'pki');
    const r = await run('bash', [genPki, pki]);
    assert.equal(r.code, 0, `gen-test-pki.sh failed (is openssl installed?): ${r.stderr}`);
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('goverify', () => {
    const cases: { name: string; args: string[]; code: number; out: RegExp }[] = [
      {
        name: 'device cert with intermediate, EKU client -> OK',
        args: ['-roots', 'root.pem', '-intermediates', 'int.pem', '-eku', 'client', 'device.pem'],
        code: 0,
        out: /^OK\nchain 0 \[0\] CN=device-001\n/,
      },
      {
        name: 'device-chain.pem carries its own intermediate -> OK',
        args: ['-roots', 'root.pem', '-eku', 'client', 'device-chain.pem'],
        code: 0,
        out: /^OK\n/,
      },
      {
        name: 'rogue device (untrusted CA) -> FAIL unknown authority',
        args: ['-roots', 'root.pem', '-intermediates', 'int.pem', '-eku', 'client', 'rogue-device.pem'],
        code: 1,
        out: /^FAIL: x509: certificate signed by unknown authority/,
      },
      {
        name: 'device cert used for server auth -> FAIL incompatible key usage',
        args: ['-roots', 'root.pem', '-intermediates', 'int.pem', '-eku', 'server', 'device.pem'],
        code: 1,
        out: /^FAIL: x509: certificate specifies an incompatible key usage/,
      },
      {
        name: 'expired cert -> FAIL expired',
        args: ['-roots', 'root.pem', '-intermediates', 'int.pem', 'expired.pem'],
        code: 1,
        out: /^FAIL: x509: certificate has expired or is not yet valid/,
      },
      {
        name: 'server cert for 127.0.0.1 -> OK',
        args: [
          '-roots',
          'root.pem',
          '-intermediates',
          'int.pem',
          '-eku',
          'server',
          '-dns',
          '127.0.0.1',
          'server.pem',
        ],
        code: 0,
        out: /^OK\n/,
      },
      {
        name: 'missing -roots -> usage error',
        args: ['device.pem'],
        code: 2,
        out: /^usage: goverify/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const bin = await buildGoTool('goverify');
        const r = await run(bin, c.args, pki);
        assert.match(r.stdout, c.out);
        assert.equal(r.code, c.code, r.stdout);
      });
    }
  });

  it('buildGoTool reuses an up-to-date binary', async () => {
    const first = await buildGoTool('goverify');
    const mtime = statSync(first).mtimeMs;
    const second = await buildGoTool('goverify');
    assert.equal(second, first);
    assert.equal(statSync(second).mtimeMs, mtime);
  });

  it('parsebench reports certsPerSec for a PEM bundle', async () => {
    const bin = await buildGoTool('parsebench');
    const r = await run(bin, ['-duration', '50ms', 'ca-chain.pem'], pki);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { certsPerSec: number; certs: number; rejected: number };
    assert.equal(out.certs, 2);
    assert.equal(out.rejected, 0);
    assert.ok(out.certsPerSec > 0);
  });

  it('verifybench reports chains/s pre-parsed and parse+verify', async () => {
    const bin = await buildGoTool('verifybench');
    const args = ['-root', 'root.pem', '-intermediate', 'int.pem', '-leaf', 'device.pem', '-eku', 'client'];
    const r = await run(bin, [...args, '-duration', '50ms'], pki);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { preParsedPerSec: number; parseAndVerifyPerSec: number };
    assert.ok(out.preParsedPerSec > 0);
    assert.ok(out.parseAndVerifyPerSec > 0);
  });

  it('verifybench refuses a chain that does not verify', async () => {
    const bin = await buildGoTool('verifybench');
    const r = await run(bin, ['-root', 'root.pem', '-leaf', 'rogue-device.pem', '-duration', '10ms'], pki);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL: x509: certificate signed by unknown authority/);
  });
});
