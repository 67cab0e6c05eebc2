/**
 * Helper for client-openssl.test.ts (not a test itself): runs our OCSP client inside the private
 * network namespace where the test started `openssl ocsp -port`, and prints one JSON line per query.
 *   node --import tsx test/revocation/ocsp-client-cli.ts PKI_DIR URL name[:GET|POST[:nonce]] ...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/crypto/index.js';
import { RevocationError } from '../../src/revocation/errors.js';
import { queryOcsp } from '../../src/revocation/ocsp/client.js';
import { parseCertificate } from '../../src/x509/index.js';

const [dir, url, ...targets] = process.argv.slice(2);
const issuer = parseCertificate(readFileSync(join(dir!, 'int.pem'), 'utf8'));
for (const t of targets) {
  const [name, method = 'POST', nonce] = t.split(':');
  const cert = parseCertificate(readFileSync(join(dir!, `${name}.pem`), 'utf8'));
  try {
    const r = await queryOcsp(cert, issuer, {
      url,
      method: method as 'GET' | 'POST',
      nonce: nonce === 'nonce',
      timeoutMs: 5000,
    });
    console.log(JSON.stringify({ name, method: r.method, ...r.status }));
  } catch (e) {
    console.log(JSON.stringify({ name, error: e instanceof RevocationError ? e.code : String(e) }));
  }
}
