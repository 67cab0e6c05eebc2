// `fleetpki inspect`: what it shows for each kind of object (compared with OpenSSL where OpenSSL
// can say), that --json carries the same content with a stable shape, that private key material
// never appears, and that bad input ends in exit 2 with one line naming code, offset and path.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../../src/cli/errors.js';
import { inspectFile, inspectJson, inspectText, loadObjects } from '../../src/cli/inspect.js';
import { errorOutcome } from '../../src/cli/main.js';
import { toHex } from '../../src/der/index.js';
import { decodePem } from '../../src/pem/index.js';
import { parseEcPrivateKey, parsePrivateKeyInfo, parseRsaPrivateKey } from '../../src/x509/private-key.js';
import { nestedSequences } from '../der/mutate.js';
import { debianCertificates, limboItems, pkitsItems, sample } from '../x509/corpus.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chain = join(root, 'examples/device-chain.pem');
const crlFile = join(root, 'examples/fleet-issuing-1.crl.pem');
const csrFile = join(root, 'examples/sensor-0043.csr.pem');
const AT = Date.parse('2027-01-01T00:00:00Z');

let dir: string;

function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, {
      cwd: dir,
      input,
      encoding: 'latin1',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('openssl not found on PATH (CI installs it)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** The real CLI in a child process (tsx, no build needed). */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function json(
  file: string,
  at = AT,
): { schemaVersion: number; file: string; objects: Record<string, unknown>[] } {
  return JSON.parse(inspectFile(file, { json: true, at }));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-inspect-'));
  const pems = readFileSync(chain, 'latin1');
  const blocks = decodePem(pems);
  writeFileSync(join(dir, 'leaf.der'), blocks[0]!.der);
  writeFileSync(
    join(dir, 'leaf.pem'),
    `${pems.split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect: certificate (sample device chain)', () => {
  it('text shows every field openssl x509 -text shows, in our forms', () => {
    const out = inspectFile(chain, { at: AT });
    for (const s of [
      'examples/device-chain.pem: 3 objects'.replace('examples/', `${root}examples/`),
      'Version: 3 (0x2)',
      'Serial Number: 6b:8e:4f:2a:9c:1d:3e:5f:70:81:92:a3:b4:c5:d6:e7:f8:09:1a:2b',
      'Signature Algorithm: ecdsa-with-SHA256',
      'Issuer: CN=Example Fleet Issuing CA 1,OU=Device PKI,O=Example Fleet GmbH,C=DE',
      'Subject: serialNumber=SN0042,CN=sensor-0042.devices.example.com,OU=Sensors,O=Example Fleet GmbH',
      'Not Before: 2026-11-29T06:56:42Z',
      'Not After:  2031-11-28T06:56:42Z (expires in 1792 days (~4.9 years))',
      'Key: EC P-256',
      'X509v3 Basic Constraints: critical',
      'CA:FALSE',
      'CA:TRUE, pathlen:0',
      'X509v3 Key Usage: critical',
      'Digital Signature',
      'Certificate Sign, CRL Sign',
      'TLS Web Client Authentication, TLS Web Server Authentication',
      'DNS:sensor-0042.devices.example.com, URI:urn:dev:serial:SN0042',
      'X509v3 Subject Key Identifier:',
      'keyid:9E:4B:38:15:95:42:BE:02:C4:FA:E9:B9:41:FD:51:91:95:09:BE:D6',
      'URI:http://pki.example.com/crl/fleet-issuing-1.crl',
      'OCSP - URI:http://pki.example.com/ocsp',
      'CA Issuers - URI:http://pki.example.com/ca/fleet-issuing-1.crt',
      'X509v3 Name Constraints: critical',
      'DNS:.devices.example.com',
      'IP Address:0.0.0.0/0',
      'Policy: 1.3.6.1.4.1.55555.1.2',
      'CPS: https://pki.example.com/cps',
      'Explicit Text: Fleet device certificates: for device authentication only',
      '(self-issued: issuer and subject are the same name)',
    ])
      assert.ok(out.includes(s), `missing ${JSON.stringify(s)} in:\n${out}`);
  });

  it('fingerprints equal openssl x509 -fingerprint', () => {
    const out = inspectFile(join(dir, 'leaf.pem'), { at: AT });
    for (const alg of ['sha1', 'sha256']) {
      const fp = openssl(['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', `-${alg}`])
        .trim()
        .split('=')[1]!;
      assert.ok(out.includes(fp), `${alg} fingerprint ${fp} not in output`);
    }
  });

  it('validity phrases: not yet valid, valid, expired', () => {
    const nb = Date.parse('2026-11-29T06:56:42Z');
    const na = Date.parse('2031-11-28T06:56:42Z');
    assert.match(
      inspectFile(join(dir, 'leaf.pem'), { at: nb - 3 * 3600_000 }),
      /\(not valid for another 3 hours\)/,
    );
    assert.match(inspectFile(join(dir, 'leaf.pem'), { at: na - 23 * 86400_000 }), /\(expires in 23 days\)/);
    assert.match(inspectFile(join(dir, 'leaf.pem'), { at: na + 3 * 86400_000 }), /\(expired 3 days ago\)/);
  });

  it('--json has a stable key order and the same content', () => {
    const doc = json(chain);
    assert.deepEqual(Object.keys(doc), ['schemaVersion', 'file', 'objects']);
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.objects.length, 3);
    const c = doc.objects[0]!;
    assert.deepEqual(Object.keys(c), [
      'type',
      'source',
      'version',
      'serialNumber',
      'signatureAlgorithm',
      'issuer',
      'subject',
      'validity',
      'subjectPublicKeyInfo',
      'selfIssued',
      'extensions',
      'signatureValue',
      'fingerprints',
    ]);
    assert.equal(c.type, 'certificate');
    assert.deepEqual(c.source, { format: 'PEM', block: 1, label: 'CERTIFICATE' });
    assert.deepEqual(c.validity, {
      notBefore: '2026-11-29T06:56:42Z',
      notAfter: '2031-11-28T06:56:42Z',
      status: 'valid',
      remaining: 'expires in 1792 days (~4.9 years)',
    });
    const exts = c.extensions as { oid: string; name: string; critical: boolean; value: unknown }[];
    const byName = Object.fromEntries(exts.map((e) => [e.name, e]));
    assert.deepEqual(byName.basicConstraints, {
      oid: '2.5.29.19',
      name: 'basicConstraints',
      critical: true,
      value: { cA: false },
    });
    assert.deepEqual(byName.keyUsage!.value, ['digitalSignature']);
    assert.deepEqual(byName.extKeyUsage!.value, [
      { oid: '1.3.6.1.5.5.7.3.2', name: 'TLS Web Client Authentication' },
    ]);
    assert.deepEqual(byName.subjectAltName!.value, [
      { type: 'dNSName', value: 'sensor-0042.devices.example.com' },
      { type: 'uniformResourceIdentifier', value: 'urn:dev:serial:SN0042' },
    ]);
    // Same output twice: no hidden nondeterminism (Map order, time).
    assert.equal(inspectFile(chain, { json: true, at: AT }), inspectFile(chain, { json: true, at: AT }));
  });

  it('DER input is detected as a certificate', () => {
    const doc = json(join(dir, 'leaf.der'));
    assert.equal(doc.objects[0]!.type, 'certificate');
    assert.deepEqual(doc.objects[0]!.source, { format: 'DER' });
  });

  it('PKCS#7 certs-only bundle (PEM and DER) lists its certificates', () => {
    openssl(['crl2pkcs7', '-nocrl', '-certfile', chain, '-out', 'chain.p7b']);
    openssl(['crl2pkcs7', '-nocrl', '-certfile', chain, '-outform', 'DER', '-out', 'chain.p7b.der']);
    for (const f of ['chain.p7b', 'chain.p7b.der']) {
      const doc = json(join(dir, f));
      assert.equal(doc.objects.length, 3);
      assert.deepEqual(
        doc.objects.map((o) => (o.source as { index: number }).index),
        [1, 2, 3],
      );
    }
  });

  it("OpenSSL's TRUSTED CERTIFICATE form shows the certificate", () => {
    openssl(['x509', '-in', 'leaf.pem', '-trustout', '-addtrust', 'clientAuth', '-out', 'trusted.pem']);
    const doc = json(join(dir, 'trusted.pem'));
    assert.equal(doc.objects.length, 1);
    assert.equal(doc.objects[0]!.serialNumber, '6b:8e:4f:2a:9c:1d:3e:5f:70:81:92:a3:b4:c5:d6:e7:f8:09:1a:2b');
  });

  it('--asn1 adds the DER tree', () => {
    const out = inspectFile(join(dir, 'leaf.der'), { asn1: true, at: AT });
    assert.match(out, /ASN\.1:/);
    assert.match(out, / {4}0:d=0 hl=4 l= *\d+ cons: SEQUENCE/);
    assert.match(out, /OBJECT IDENTIFIER 2\.5\.29\.17 \(subjectAltName\)/);
  });
});

describe('inspect: CRL and CSR', () => {
  it('CRL: issuer, updates, number, revoked serials with dates and reasons', () => {
    const out = inspectFile(crlFile, { at: Date.parse('2026-12-01T00:00:00Z') });
    for (const s of [
      'Certificate Revocation List [PEM block 1 "X509 CRL"]',
      'Version: 2 (0x1)',
      'Issuer: CN=Example Fleet Issuing CA 1,OU=Device PKI,O=Example Fleet GmbH,C=DE',
      'This Update: 2026-11-29T06:56:49Z',
      'Next Update: 2026-12-06T06:56:49Z (due in 5 days)',
      'X509v3 CRL Number:',
      '4096',
      'Revoked Certificates (2):',
      'Serial Number: 07',
      'X509v3 CRL Reason Code: keyCompromise',
      'Serial Number: 0a:0b:0c',
      'X509v3 CRL Reason Code: superseded',
    ])
      assert.ok(out.includes(s), `missing ${JSON.stringify(s)} in:\n${out}`);
  });

  it('CSR: subject, key, requested extensions', () => {
    const out = inspectFile(csrFile);
    for (const s of [
      'Certificate Request [PEM block 1 "CERTIFICATE REQUEST"]',
      'Subject: CN=sensor-0043.devices.example.com,O=Example Fleet GmbH',
      'Key: EC P-256',
      'Requested Extensions:',
      'DNS:sensor-0043.devices.example.com',
      'X509v3 Key Usage: critical',
    ])
      assert.ok(out.includes(s), `missing ${JSON.stringify(s)} in:\n${out}`);
  });

  it('CSR: challengePassword is reported present, its value never shown', () => {
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'ed.key']);
    const cnf =
      '[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nCN=x\n[attrs]\nchallengePassword=s3cr3t-enrol-pw\n';
    writeFileSync(join(dir, 'req.cnf'), cnf);
    openssl(['req', '-new', '-key', 'ed.key', '-config', 'req.cnf', '-out', 'pw.csr']);
    const text = inspectFile(join(dir, 'pw.csr'));
    const js = inspectFile(join(dir, 'pw.csr'), { json: true });
    assert.match(text, /challengePassword: present \(value not shown\)/);
    assert.match(text, /Key: Ed25519/);
    assert.equal(JSON.parse(js).objects[0].challengePassword, 'present');
    for (const out of [text, js, inspectFile(join(dir, 'pw.csr'), { asn1: true })])
      assert.ok(!out.includes('s3cr3t'), 'challengePassword value leaked');
  });
});

describe('inspect: keys (type and size, never key material)', () => {
  /** Hex forms of the secret values a key file holds, to prove none appears in the output. */
  function secrets(der: Uint8Array, kind: 'sec1' | 'pkcs8-ec' | 'pkcs1' | 'pkcs8-rsa'): string[] {
    if (kind === 'sec1') return [toHex(parseEcPrivateKey(der).privateKey)];
    if (kind === 'pkcs8-ec')
      return [toHex(parseEcPrivateKey(parsePrivateKeyInfo(der).privateKey).privateKey)];
    const k = parseRsaPrivateKey(kind === 'pkcs1' ? der : parsePrivateKeyInfo(der).privateKey);
    return [k.privateExponent, k.prime1, k.prime2].map((b) => toHex(b).slice(0, 32));
  }
  function assertNoSecrets(out: string, hexes: string[]): void {
    const flat = out.replace(/[:\s]/g, '').toLowerCase();
    for (const h of hexes) assert.ok(!flat.includes(h.slice(0, 32)), 'private key material in output');
  }

  const rows: {
    name: string;
    make: string[][];
    file: string;
    kind?: 'sec1' | 'pkcs8-ec' | 'pkcs1' | 'pkcs8-rsa';
    expect: Record<string, unknown>;
  }[] = [
    {
      name: 'SEC1 EC PRIVATE KEY',
      make: [['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ec.pem']],
      file: 'ec.pem',
      kind: 'sec1',
      expect: {
        type: 'private-key',
        format: 'SEC1',
        algorithm: 'EC',
        keySize: 256,
        curve: 'P-256',
        publicKeyIncluded: true,
      },
    },
    {
      name: 'PKCS#8 EC P-384 (DER)',
      make: [
        ['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'ec384.pem'],
        ['pkcs8', '-topk8', '-nocrypt', '-in', 'ec384.pem', '-outform', 'DER', '-out', 'ec384.p8.der'],
      ],
      file: 'ec384.p8.der',
      kind: 'pkcs8-ec',
      expect: { type: 'private-key', format: 'PKCS#8', algorithm: 'EC', keySize: 384, curve: 'P-384' },
    },
    {
      name: 'PKCS#1 RSA PRIVATE KEY',
      make: [
        ['genrsa', '-out', 'rsa8.pem', '2048'],
        ['rsa', '-in', 'rsa8.pem', '-traditional', '-out', 'rsa1.pem'],
      ],
      file: 'rsa1.pem',
      kind: 'pkcs1',
      expect: {
        type: 'private-key',
        format: 'PKCS#1',
        algorithm: 'RSA',
        keySize: 2048,
        publicExponent: '65537',
      },
    },
    {
      name: 'PKCS#8 RSA PRIVATE KEY',
      make: [],
      file: 'rsa8.pem',
      kind: 'pkcs8-rsa',
      expect: { type: 'private-key', format: 'PKCS#8', algorithm: 'RSA', keySize: 2048 },
    },
    {
      name: 'encrypted PKCS#8 (PBKDF2)',
      make: [
        [
          'pkcs8',
          '-topk8',
          '-in',
          'ec.pem',
          '-passout',
          'pass:pw',
          '-v2',
          'aes-128-cbc',
          '-iter',
          '4096',
          '-out',
          'enc.pem',
        ],
      ],
      file: 'enc.pem',
      expect: {
        type: 'encrypted-private-key',
        format: 'PKCS#8',
        encryption: {
          scheme: 'PBES2',
          kdf: { name: 'PBKDF2', prf: 'HMAC-SHA-256', iterations: 4096, saltLength: 8 },
          cipher: 'aes-128-cbc',
        },
      },
    },
    {
      name: 'encrypted PKCS#8 (scrypt)',
      make: [['pkcs8', '-topk8', '-in', 'ec.pem', '-passout', 'pass:pw', '-scrypt', '-out', 'encs.pem']],
      file: 'encs.pem',
      expect: { type: 'encrypted-private-key', format: 'PKCS#8' },
    },
    {
      name: 'legacy PEM-encrypted EC key',
      make: [['ec', '-in', 'ec.pem', '-aes256', '-passout', 'pass:pw', '-out', 'legacy.pem']],
      file: 'legacy.pem',
      expect: { type: 'encrypted-private-key', format: 'SEC1' },
    },
    {
      name: 'SPKI public key',
      make: [['pkey', '-in', 'rsa8.pem', '-pubout', '-out', 'pub.pem']],
      file: 'pub.pem',
      expect: { type: 'public-key', format: 'SPKI', algorithm: 'RSA 2048', keySize: 2048 },
    },
    {
      name: 'PKCS#1 RSA PUBLIC KEY',
      make: [['rsa', '-in', 'rsa8.pem', '-RSAPublicKey_out', '-out', 'pub1.pem']],
      file: 'pub1.pem',
      expect: { type: 'public-key', format: 'PKCS#1', algorithm: 'RSA', keySize: 2048 },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      for (const args of row.make) openssl(args);
      const file = join(dir, row.file);
      const obj = json(file).objects[0]!;
      for (const [k, v] of Object.entries(row.expect)) assert.deepEqual(obj[k], v, `${k}`);
      if (row.kind) {
        const bytes = readFileSync(file);
        const der = row.file.endsWith('.der')
          ? new Uint8Array(bytes)
          : decodePem(bytes.toString('latin1'))[0]!.der;
        const hexes = secrets(der, row.kind);
        for (const opts of [{}, { json: true }, { asn1: true }, { json: true, asn1: true }])
          assertNoSecrets(inspectFile(file, opts), hexes);
      }
    });

  it('the SPKI SHA-256 of a key equals that of its certificate', () => {
    openssl(['req', '-new', '-x509', '-key', 'ec.pem', '-subj', '/CN=k', '-days', '1', '-out', 'k.crt']);
    const key = json(join(dir, 'ec.pem')).objects[0]!;
    const cert = json(join(dir, 'k.crt')).objects[0]!;
    assert.equal(key.spkiSha256, (cert.subjectPublicKeyInfo as { spkiSha256: string }).spkiSha256);
  });
});

describe('inspect: corpus sweep', () => {
  it('Debian, PKITS and 3 000 x509-limbo objects: text and JSON, or a one-line CliError', () => {
    const items = [...debianCertificates(), ...pkitsItems(), ...sample(limboItems(), 3000)];
    let shown = 0;
    for (const item of items) {
      let objects: ReturnType<typeof loadObjects>;
      try {
        objects = loadObjects(item.der);
      } catch (e) {
        assert.ok(e instanceof CliError, `${item.id}: ${String(e)}`);
        assert.match(e.message, /^[a-z-]+ at offset \d+ .*: /, item.id);
        assert.doesNotMatch(e.message, /\n/);
        continue;
      }
      const doc = inspectJson(item.id, objects, { at: AT, asn1: true });
      assert.ok(inspectText(doc).length > 100);
      JSON.stringify(doc);
      shown++;
    }
    assert.ok(shown > 3000);
  });
});

describe('inspect: bad input (the real CLI: exit 2, one line, no stack trace)', () => {
  function assertOneLine(r: { code: number; stdout: string; stderr: string }, re: RegExp): void {
    assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  }

  /** Same check without a child process: the line main.ts would print for what inspect throws. */
  function assertOneLineInProcess(file: string, re: RegExp): void {
    let thrown: unknown;
    try {
      inspectFile(file, { asn1: true });
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof CliError, `expected a CliError, got ${String(thrown)}`);
    const { line, exitCode } = errorOutcome(thrown);
    assert.equal(exitCode, 2);
    assert.doesNotMatch(line, /\n/);
    assert.match(line, re);
  }

  it('non-minimal serial INTEGER names code, offset and path', () => {
    const der = new Uint8Array(readFileSync(join(dir, 'leaf.der')));
    // 30 82 xx xx 30 82 xx xx a0 03 02 01 02 | 02 14 6b 8e …: make the serial start 00 0e (non-minimal).
    assert.equal(der[13], 0x02);
    der[15] = 0x00;
    der[16] = 0x0e;
    writeFileSync(join(dir, 'bad-serial.der'), der);
    assertOneLine(
      cli(['inspect', join(dir, 'bad-serial.der')]),
      /^fleetpki: bad-integer at offset 13 \(Certificate\/tbsCertificate\/serialNumber\): serialNumber: non-minimal INTEGER$/,
    );
  });

  it('bad block inside a PEM bundle names the block', () => {
    const der = new Uint8Array(readFileSync(join(dir, 'bad-serial.der')));
    const good = readFileSync(chain, 'latin1');
    const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
    writeFileSync(
      join(dir, 'bundle.pem'),
      `${good}-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    );
    assertOneLineInProcess(
      join(dir, 'bundle.pem'),
      /^fleetpki: bad-integer at offset 13 .* in PEM block 4 \(CERTIFICATE\): /,
    );
  });

  it('missing file', () => {
    assertOneLine(cli(['inspect', join(dir, 'nope.pem')]), /^fleetpki: .*nope\.pem: no such file$/);
  });

  it('nesting 100 000 deep ends in too-deep (no RangeError)', () => {
    const buf = nestedSequences(100_000);
    writeFileSync(join(dir, 'deep.der'), buf);
    assertOneLineInProcess(join(dir, 'deep.der'), /^fleetpki: unexpected-tag at offset \d+ /);
  });

  it('unknown command is a usage error', () => {
    const r = cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it('in-process: unterminated PEM and text files are clear one-line errors', () => {
    writeFileSync(join(dir, 'cut.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n');
    writeFileSync(join(dir, 'text.txt'), 'hello world\n');
    assert.throws(() => inspectFile(join(dir, 'cut.pem')), /bad PEM \(unterminated\) at line 1/);
    assert.throws(() => inspectFile(join(dir, 'text.txt')), /neither PEM .* nor DER/);
  });
});
