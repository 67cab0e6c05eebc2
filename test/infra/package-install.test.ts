// The package as a user installs it, without its optional dependency: build dist/, `npm pack`
// it, and install the tarball into an empty project with `npm ci --omit=optional`, so pkcs11js
// (a native addon) is not there. That project then parses, issues and verifies through the
// public entry points, and opening a PKCS#11 signer fails with the typed error that says what
// to install. `fleetpki --version` of the installed bin prints the package's version.
//
// Installing runs offline (tests have no network): the project's package-lock.json is the
// repository's own, restricted to the package's run-time dependencies, so npm needs only the
// tarballs that `npm ci` of this repository put in npm's cache — the exact versions users get.
// Install scripts are skipped (--ignore-scripts): they only build native addons of the CA
// service's store (better-sqlite3), which none of these tasks loads.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
};
let tmp: string;
let app: string;

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The repository's lock entries the package needs at run time (no dev-only package). */
function consumerLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const packages: Record<string, unknown> = {
    '': {
      name: 'app',
      version: '1.0.0',
      dependencies: { [pkg.name]: `file:${tarball}` },
    },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: `file:${tarball}`,
      license: 'Apache-2.0',
      dependencies: pkg.dependencies,
      optionalDependencies: pkg.optionalDependencies,
      bin: { fleetpki: 'dist/cli/main.js' },
    },
  };
  // This repository's lock omits registry tarball URLs (omit-lockfile-registry-resolved); npm
  // would then ask the registry for each package's metadata. Give each its URL, so the tarball
  // is found in npm's cache by integrity alone.
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' })
    .trim()
    .replace(/\/?$/, '/');
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev) continue;
    const name = (entry.name as string | undefined) ?? path.slice(path.lastIndexOf('node_modules/') + 13);
    const file = `${name.split('/').pop()}-${entry.version as string}.tgz`;
    packages[path] = { resolved: `${registry}${name}/-/${file}`, ...entry };
  }
  return { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fleetpki-pack-'));
  // Build into a staging copy of the package (the working tree's dist/ is not touched).
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md']) copyFileSync(join(repo, f), join(stage, f));
  run(
    process.execPath,
    [
      join(repo, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(repo, 'tsconfig.build.json'),
      '--outDir',
      join(stage, 'dist'),
    ],
    repo,
  );
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--loglevel=error'], stage);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote no tarball');

  app = join(tmp, 'app');
  mkdirSync(app);
  // The repository's `overrides` pin transitive versions; npm applies them only in the root
  // project, so the consumer repeats them to match the lock.
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: { [pkg.name]: `file:../${tarball}` },
      ...(pkg.overrides ? { overrides: pkg.overrides } : {}),
    }),
  );
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLock(`../${tarball}`), null, 2));
  run(
    'npm',
    ['ci', '--offline', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    app,
  );
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Runs in the installed project: only what the package itself resolves there.
const SCRIPT = `
import { createRequire } from 'node:module';
import {
  CertificateBuilder, CryptoError, Issuer, KeySigner, generateKeyPair, parseCertificate, Pkcs11Signer, verifyPath,
} from 'fleetpki';
import * as portable from 'fleetpki/portable';
import { parseSpki } from 'fleetpki/x509';

const out = {};
let resolvable = true;
try { createRequire(import.meta.url).resolve('pkcs11js'); } catch { resolvable = false; }
out.pkcs11jsResolvable = resolvable;

const caKey = await generateKeyPair('ec-p256');
const deviceKey = await generateKeyPair('ec-p256');
const caSigner = await KeySigner.create(caKey.privateKey);
const root = await new CertificateBuilder('root').subject('CN=Install Test Root').sign(caSigner);
const leaf = await new CertificateBuilder('device')
  .subject('CN=device-1')
  .publicKey(parseSpki(deviceKey.publicKey.spki))
  .issuer(Issuer.fromCertificate(root.certificate, caSigner))
  .sign();
const parsed = parseCertificate(leaf.toPem());
out.subject = parsed.subject.toString();
const r = await verifyPath({ leaf: leaf.der, trustAnchors: [root.der], purpose: 'clientAuth' });
out.verified = r.ok ? 'ok' : r.code;
const bad = await verifyPath({ leaf: leaf.der, trustAnchors: [leaf.der], purpose: 'clientAuth' });
out.wrongAnchor = bad.ok ? 'ok' : bad.code;
out.portableParses = portable.parseCertificate(root.der).subject.toString();
out.portableHasPkcs11 = 'Pkcs11Signer' in portable;

try {
  await Pkcs11Signer.open({ tokenLabel: 'ca', pin: '1234', keyLabel: 'issuing-ca' });
  out.pkcs11 = 'opened';
} catch (e) {
  out.pkcs11 = { isCryptoError: e instanceof CryptoError, code: e.code, message: e.message };
}
console.log(JSON.stringify(out));
`;

describe('the packed package installed with --omit=optional', () => {
  it('has no pkcs11js, yet parses, issues and verifies; a PKCS#11 signer fails with missing-dependency', () => {
    assert.ok(!existsSync(join(app, 'node_modules/pkcs11js')), 'npm installed the optional dependency');
    writeFileSync(join(app, 'smoke.mjs'), SCRIPT);
    const out = JSON.parse(run(process.execPath, ['smoke.mjs'], app)) as Record<string, unknown>;
    const pkcs11 = out.pkcs11 as { isCryptoError: boolean; code: string; message: string };
    assert.match(pkcs11.message, /npm install pkcs11js/);
    assert.deepEqual(out, {
      pkcs11jsResolvable: false,
      subject: 'CN=device-1',
      verified: 'ok',
      wrongAnchor: out.wrongAnchor === 'ok' ? 'should fail' : out.wrongAnchor,
      portableParses: 'CN=Install Test Root',
      portableHasPkcs11: false,
      pkcs11: { isCryptoError: true, code: 'missing-dependency', message: pkcs11.message },
    });
    assert.notEqual(out.wrongAnchor, 'ok');
  });

  it('its fleetpki bin prints the package version', () => {
    const bin = join(app, 'node_modules/.bin/fleetpki');
    assert.equal(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8' }).trim(), pkg.version);
  });

  /** Type-checks `code` in the installed project (Node resolution: the `node` condition). */
  function typeCheck(file: string, code: string[], skipLibCheck: boolean): void {
    writeFileSync(join(app, file), [...code, ''].join('\n'));
    run(
      process.execPath,
      [
        join(repo, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        String(skipLibCheck),
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom',
        '--types',
        'node',
        '--typeRoots',
        join(repo, 'node_modules/@types'),
        file,
      ],
      app,
    );
  }

  it('type-checks: the keys and the portable entry need no pkcs11js types (declarations checked too)', () => {
    // skipLibCheck off: every declaration file reached is checked, so a reference to pkcs11js's
    // types (absent here) fails. The portable entry has no PKCS#11 signer.
    typeCheck(
      'check-portable.ts',
      [
        "import { Pkcs11Signer, type Pkcs11Constants } from 'fleetpki/crypto';",
        "import * as portable from 'fleetpki/portable';",
        '// @ts-expect-error the PKCS#11 signer is on the Node entry only',
        'portable.Pkcs11Signer;',
        'export const used: unknown[] = [Pkcs11Signer, portable.parseCertificate, {} as Pkcs11Constants];',
      ],
      false,
    );
  });

  it('type-checks: the Node entry exposes its names under the node condition', () => {
    // Library checks are skipped here: the CA store's declarations name pg's and better-sqlite3's
    // types, which ship in devDependencies (@types/pg, @types/better-sqlite3).
    typeCheck(
      'check-root.ts',
      [
        "import { Authority, openStore, Pkcs11Signer, parseCertificate, SIGNATURE_ALGORITHM_NAMES, type ValidationProfile } from 'fleetpki';",
        "const profile: ValidationProfile = 'iot';",
        'const names: readonly string[] = SIGNATURE_ALGORITHM_NAMES;',
        'export const used: unknown[] = [Authority, openStore, Pkcs11Signer, parseCertificate, profile, names];',
      ],
      true,
    );
  });

  it('ships dist/ and README.md only (no sources, tests or lockfile)', () => {
    const top = readdirSync(join(app, 'node_modules', pkg.name)).sort();
    assert.deepEqual(top, ['README.md', 'dist', 'package.json']);
  });
});
