// The load generator of bench/est.bench.ts, in its own process: `concurrency` devices at a time,
// each one full EST enrollment on a NEW TLS connection (no agent, no session resumption) with its
// bootstrap certificate: POST /.well-known/est/simpleenroll with a base64 CSR, answer read and
// checked for status 200. Keys, CSRs and bootstrap certificates are made before the clock starts,
// and so is each device's TLS context (its key and certificate loaded once, as a device does at
// boot): the client process shares the machine's two cores with the CA, and parsing a PEM key and
// the trust anchor for every request would measure the load generator, not the CA.
import { type RequestOptions, request } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';

interface Job {
  url: string;
  ca: string;
  devices: { cert: string; key: string; csr: string }[];
  concurrency: number;
}

function enroll(j: Job, d: Job['devices'][number], secureContext: SecureContext): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${j.url}/.well-known/est/simpleenroll`,
      // tls.connect takes a secureContext; https.request passes its options on (the type omits it).
      {
        method: 'POST',
        agent: false,
        secureContext,
        headers: { 'content-type': 'application/pkcs10', 'content-length': Buffer.byteLength(d.csr) },
      } as RequestOptions,
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.end(d.csr);
  });
}

process.on('message', async (j: Job) => {
  const contexts = j.devices.map((d) => createSecureContext({ ca: j.ca, cert: d.cert, key: d.key }));
  let next = 0;
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: j.concurrency }, async () => {
      while (next < j.devices.length) {
        const i = next++;
        if (await enroll(j, j.devices[i]!, contexts[i]!)) ok++;
        else failed++;
      }
    }),
  );
  process.send!({ ok, failed, elapsedMs: performance.now() - start });
});
process.send!({ ready: true });
