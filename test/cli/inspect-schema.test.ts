// `fleetpki inspect --json` is a documented, versioned contract: the checked-in JSON Schema is the
// one the code's schema generates, and the real output for every kind of input conforms to it
// (strict objects: an undeclared field fails, as does a missing required one or a wrong type).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { INSPECT_SCHEMA_VERSION, InspectDocumentSchema } from '../../src/cli/inspect/schema.js';
import { inspectFile, inspectFileAsync } from '../../src/cli/inspect.js';
import { debianCertificates, limboItems, sample } from '../x509/corpus.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const AT = Date.parse('2027-01-01T00:00:00Z');
let dir: string;

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('openssl not found on PATH (CI installs it)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-inspect-schema-'));
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'ec.key']);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key']);
  openssl(['pkey', '-in', 'rsa.key', '-pubout', '-out', 'rsa.pub']);
  openssl(['ec', '-in', 'ec.key', '-out', 'ec.sec1']);
  openssl(['pkcs8', '-topk8', '-in', 'ec.key', '-passout', 'pass:schema-pw', '-out', 'ec.enc']);
  openssl(['ecparam', '-name', 'prime256v1', '-out', 'ec.param']);
  openssl(['req', '-x509', '-key', 'ec.key', '-subj', '/CN=schema', '-days', '2', '-out', 'self.crt']);
  openssl([
    'pkcs12',
    '-export',
    '-in',
    'self.crt',
    '-inkey',
    'ec.key',
    '-passout',
    'pass:',
    '-out',
    'empty-pw.p12',
  ]);
  openssl([
    'pkcs12',
    '-export',
    '-in',
    'self.crt',
    '-inkey',
    'ec.key',
    '-passout',
    'pass:p12-pw',
    '-out',
    'locked.p12',
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Parses the output through JSON (as a consumer would) and checks it against the schema. */
function conforms(text: string, where: string): z.infer<typeof InspectDocumentSchema> {
  const r = InspectDocumentSchema.safeParse(JSON.parse(text));
  assert.ok(r.success, `${where}: ${r.success ? '' : z.prettifyError(r.error)}`);
  return r.data;
}

describe('inspect --json schema', () => {
  it('schemas/inspect.schema.json is what the code generates (regenerate with scripts/inspect-schema.ts)', () => {
    const file = JSON.parse(readFileSync(join(root, 'schemas/inspect.schema.json'), 'utf8'));
    assert.deepEqual(file, JSON.parse(JSON.stringify(z.toJSONSchema(InspectDocumentSchema))));
    assert.equal(file.properties.schemaVersion.const, INSPECT_SCHEMA_VERSION);
  });

  const inputs: [string, () => string][] = [
    ['certificate chain (PEM)', () => join(root, 'examples/device-chain.pem')],
    ['CRL', () => join(root, 'examples/fleet-issuing-1.crl.pem')],
    ['CSR', () => join(root, 'examples/sensor-0043.csr.pem')],
    ['PKCS#8 EC key', () => join(dir, 'ec.key')],
    ['SEC1 EC key', () => join(dir, 'ec.sec1')],
    ['encrypted PKCS#8', () => join(dir, 'ec.enc')],
    ['RSA private key', () => join(dir, 'rsa.key')],
    ['RSA public key', () => join(dir, 'rsa.pub')],
    ['EC parameters', () => join(dir, 'ec.param')],
    ['PKCS#12 without a password (locked)', () => join(dir, 'locked.p12')],
  ];
  for (const [name, file] of inputs)
    it(`${name}: text-equivalent JSON conforms, with and without --asn1`, () => {
      for (const asn1 of [false, true]) conforms(inspectFile(file(), { json: true, asn1, at: AT }), name);
    });

  it('PKCS#12 with the empty password: the summary, the certificate and the key conform', async () => {
    const doc = conforms(await inspectFileAsync(join(dir, 'empty-pw.p12'), { json: true, at: AT }), 'p12');
    assert.deepEqual(
      doc.objects.map((o) => o.type),
      ['pkcs12', 'certificate', 'private-key'],
    );
  });

  it('a schema violation is caught (the check can fail)', () => {
    const doc = JSON.parse(inspectFile(join(root, 'examples/device-chain.pem'), { json: true, at: AT }));
    doc.objects[0].surprise = 1;
    assert.equal(InspectDocumentSchema.safeParse(doc).success, false);
    delete doc.objects[0].surprise;
    doc.objects[0].validity.status = 'fine';
    assert.equal(InspectDocumentSchema.safeParse(doc).success, false);
  });

  it('corpus sample: Debian and x509-limbo certificates conform (or are refused with a CliError)', () => {
    const items = [...debianCertificates(), ...sample(limboItems(), 400)];
    let checked = 0;
    for (const item of items) {
      const f = join(dir, 'item.der');
      writeFileSync(f, item.der);
      let out: string;
      try {
        out = inspectFile(f, { json: true, at: AT });
      } catch {
        continue;
      }
      conforms(out, item.id);
      checked++;
    }
    assert.ok(checked > 100, `only ${checked} corpus items inspected`);
  });
});
