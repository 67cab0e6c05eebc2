// The portable core (cache, der, pem, x509, build, verify, revocation and crypto/portable) must run in
// browsers and edge runtimes: no `node:` import anywhere in it, a browser-platform bundle that
// builds, and that bundle doing real work in a bare V8 context whose only platform object is
// WebCrypto.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORE = ['cache', 'der', 'pem', 'x509', 'issue', 'verify', 'revocation'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('portable core', () => {
  it('imports nothing from node: (only the Node providers: crypto/node.ts, pkcs11.ts, verify-pool.ts and its worker)', () => {
    const offenders = [
      ...CORE.flatMap((d) => files(join(root, 'src', d))),
      ...files(join(root, 'src/crypto')),
    ]
      .filter((f) => !/crypto\/(node|pkcs11|index|verify-pool|verify-worker)\.ts$/.test(f))
      .filter((f) => /from ['"]node:|import\(['"]node:|require\(['"]node:/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('bundles for the browser and verifies a PKITS path in a bare V8 context with WebCrypto', async () => {
    const out = await build({
      entryPoints: [join(root, 'src/portable.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'fleetpki',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile!.inputs);
    assert.ok(!inputs.some((i) => /crypto\/node\.ts$|pkcs11/.test(i)), inputs.join('\n'));
    const code = out.outputFiles[0]!.text;
    assert.ok(!/\brequire\(["']node:/.test(code));

    const pem = (n: string) =>
      `-----BEGIN CERTIFICATE-----\n${readFileSync(join(root, `../shared/testdata/pkits/certs/${n}.crt`)).toString('base64')}\n-----END CERTIFICATE-----\n`;
    // Only what a browser or worker has: WebCrypto, text codecs, console. No process, Buffer, require.
    const ctx = vm.createContext({ crypto: globalThis.crypto, TextEncoder, TextDecoder, console });
    vm.runInContext(code, ctx);
    ctx.inputs = {
      anchor: pem('TrustAnchorRootCertificate'),
      ca: pem('GoodCACert'),
      leaf: pem('ValidCertificatePathTest1EE'),
      badLeaf: pem('InvalidEESignatureTest3EE'),
    };
    const result = await vm.runInContext(
      `(async () => {
        const f = globalThis.fleetpki;
        const base = { intermediates: [inputs.ca], trustAnchors: [inputs.anchor], time: Date.parse('2021-01-01T00:00:00Z'), policy: 'rfc5280' };
        const good = await f.verifyPath({ ...base, leaf: inputs.leaf });
        const bad = await f.verifyPath({ ...base, leaf: inputs.badLeaf });
        const keys = await f.generateKeyPair('ec-p256');
        const signer = await f.KeySigner.create(keys.privateKey);
        const csr = await new f.CsrBuilder().subject('CN=browser-device').sign(signer);
        const parsed = await f.verifyCsrAsync(csr.der ?? csr);
        return JSON.stringify({ good: good.ok, bad: bad.ok ? 'ok' : bad.code, typeofProcess: typeof process, csr: !!parsed });
      })()`,
      ctx,
    );
    assert.deepEqual(JSON.parse(result), {
      good: true,
      bad: 'bad-signature',
      typeofProcess: 'undefined',
      csr: true,
    });
  });
});
