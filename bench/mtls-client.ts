// The load generator of bench/mtls.bench.ts, in its own process (so the server's thread is the only
// thing the measured process runs): `concurrency` loops of full TLS handshakes with a client
// certificate, each waiting for the server's one-byte answer (so a handshake counts only once the
// server accepted the client). Devices are used in turn, never resumed. Commands over IPC.
import { connect, createSecureContext, type SecureContext } from 'node:tls';

interface Init {
  /** `cert`: leaf + intermediate; `leaf`: the leaf alone. */
  devices: { cert: string; leaf: string; key: string }[];
}
interface Run {
  port: number;
  ms: number;
  concurrency: number;
  /** Device indices used: `pool` devices starting at `first`, in turn. */
  first: number;
  pool: number;
  /** Send the leaf alone (the server holds the intermediate). */
  leafOnly: boolean;
}

let contexts: SecureContext[] = [];
let leafContexts: SecureContext[] = [];

let firstError: string | undefined;

function once(port: number, ctx: SecureContext): Promise<boolean> {
  return new Promise((resolve) => {
    let ok = false;
    // The server's certificate is not checked here: the client's own cost is kept small, the
    // server's is what is measured.
    const s = connect({ host: '127.0.0.1', port, secureContext: ctx, rejectUnauthorized: false });
    s.on('data', () => {
      ok = true;
      s.destroy();
    });
    s.on('error', (e) => {
      firstError ??= e.message;
    });
    s.on('close', () => resolve(ok));
  });
}

async function run(
  r: Run,
): Promise<{ count: number; errors: number; elapsedMs: number; firstError?: string }> {
  firstError = undefined;
  let next = 0;
  let count = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + r.ms;
  const loop = async () => {
    while (performance.now() < end) {
      const ctx = (r.leafOnly ? leafContexts : contexts)[r.first + (next++ % r.pool)]!;
      if (await once(r.port, ctx)) count++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: r.concurrency }, loop));
  return { count, errors, elapsedMs: performance.now() - start, ...(firstError ? { firstError } : {}) };
}

process.on('message', (m: { init?: Init; run?: Run }) => {
  if (m.init) {
    contexts = m.init.devices.map((d) => createSecureContext({ cert: d.cert, key: d.key }));
    leafContexts = m.init.devices.map((d) => createSecureContext({ cert: d.leaf, key: d.key }));
    process.send!({ ready: contexts.length });
  } else if (m.run) run(m.run).then((r) => process.send!({ result: r }));
});
