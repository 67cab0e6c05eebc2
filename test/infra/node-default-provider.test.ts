// The Node-only layers (mtls, est, ca) install the node:crypto provider as the default when they
// are imported alone: a server built with `fleetpki/mtls` and nothing else must verify with
// node:crypto, synchronously, not through WebCrypto's asynchronous fallback. Each case runs in a
// fresh process, since the default is process-wide.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const url = (p: string) => pathToFileURL(join(root, p)).href;

function defaultProviderAfterImporting(entry: string): string {
  const script = [
    `await import(${JSON.stringify(url(entry))});`,
    `const { defaultProvider } = await import(${JSON.stringify(url('src/crypto/default-provider.ts'))});`,
    'process.stdout.write(defaultProvider().name);',
  ].join('\n');
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
}

describe('default crypto provider', () => {
  for (const entry of ['src/mtls/index.ts', 'src/est/index.ts', 'src/ca/index.ts', 'src/crypto/index.ts'])
    it(`is node:crypto after importing ${entry} alone`, () => {
      assert.equal(defaultProviderAfterImporting(entry), 'node');
    });
  it('stays WebCrypto for the portable entry alone (what browsers and edge runtimes get)', () => {
    assert.equal(defaultProviderAfterImporting('src/portable.ts'), 'webcrypto');
  });
});
