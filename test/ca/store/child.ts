import { createHash } from 'node:crypto';
import { openStore } from '../../../src/ca/store/index.js';
import type { ChildResult } from './children.js';
import { ev, randomSerial, reservation, T0 } from './fixtures.js';

// One process of runChildren: `child.ts URL TASK COUNT SEED WRITER`. Prints `ready`, waits for `go` on
// stdin, does its task and prints one JSON line (ChildResult).
const [url, task, countText, seed, writer] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  'thread' | 'inline',
];
const count = Number(countText);

process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    if (buf.includes('go')) resolve();
  });
});

const store = await openStore(url, { sqlite: { writer } });
const result: ChildResult = { reserved: [], crlNumbers: [], audited: 0 };
if (task === 'open') {
  await store.listIssuers();
} else if (task === 'use-credential') {
  result.result = await store.useEnrollmentCredential('p1', { at: T0, requestId: `req-${process.pid}` });
} else if (task === 'loop') {
  // Issues until killed, from 8 concurrent callers; prints each serial once complete() resolved —
  // what a client would have received.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const { cert, ...r } = reservation(randomSerial());
        await store.reserve(r);
        await store.complete(
          {
            issuerId: r.issuerId,
            serialHex: r.serialHex,
            der: cert.der,
            fingerprint: cert.fingerprint,
            issuedAt: T0,
          },
          ev('issue', { issuerId: r.issuerId, serialHex: r.serialHex, fingerprint: cert.fingerprint }),
        );
        process.stdout.write(`issued ${r.serialHex}\n`);
      }
    }),
  );
} else {
  // Every child tries every serial of one shared set, in its own order.
  const serials = Array.from({ length: count }, (_, i) => {
    const h = createHash('sha256').update(`${seed}:${i}`).digest();
    h[0] = (h[0]! & 0x3f) | 0x10;
    return h.subarray(0, 12).toString('hex');
  }).sort(() => Math.random() - 0.5);
  await Promise.all([
    ...serials.map(async (s) => {
      const { cert, ...r } = reservation(s);
      if ((await store.reserve(r)) !== 'reserved') return;
      result.reserved.push(s);
      await store.complete(
        { issuerId: r.issuerId, serialHex: s, der: cert.der, fingerprint: cert.fingerprint, issuedAt: T0 },
        ev('issue', { serialHex: s }),
      );
      result.audited++;
    }),
    ...Array.from({ length: 10 }, async () => {
      result.crlNumbers.push(String(await store.nextCrlNumber('devices-1')));
    }),
    ...Array.from({ length: 10 }, async (_, i) => {
      await store.appendAudit([ev(`child-${process.pid}-${i}`), ev(`child-${process.pid}-${i}b`)]);
      result.audited += 2;
    }),
  ]);
}
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
