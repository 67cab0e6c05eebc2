// Child process of bench/ocsp.bench.ts (not a benchmark itself): serves OCSP for the test PKI in
// PKI_DIR on 127.0.0.1:PORT with our responder (CA-signed, P-256), then prints "ready".
//   node --import tsx bench/ocsp-serve.ts PKI_DIR PORT
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { importPrivateKey, KeySigner } from '../src/crypto/index.js';
import { OcspResponder } from '../src/revocation/responder.js';
import { MemoryStatusSource } from '../src/revocation/status-source.js';
import { registerOcspRoutes } from '../src/server/ocsp.js';
import { parseCertificate } from '../src/x509/index.js';

const [dir, port] = process.argv.slice(2);
const rd = (f: string) => readFileSync(join(dir!, f), 'utf8');
const source = new MemoryStatusSource();
for (const line of rd('index.txt').split('\n')) {
  const f = line.split('\t');
  if (f.length < 4) continue;
  source.issue('int', f[3]!);
  if (f[0] === 'R')
    source.revoke('int', f[3]!, { revocationTime: Date.now() - 3600_000, reason: 'keyCompromise' });
}
const responder = await OcspResponder.create({
  issuers: [
    {
      id: 'int',
      certificate: parseCertificate(rd('int.pem')),
      signer: await KeySigner.create(await importPrivateKey(rd('int.key'))),
    },
  ],
  source,
});
const app = Fastify({ logger: false });
await registerOcspRoutes(app, { responder });
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log('ready');
