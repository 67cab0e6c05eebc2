/**
 * `fleetpki demo [--devices N] [--json]` — the whole story on one machine (demo/run.ts): CA with
 * EST and OCSP, a real Mosquitto, N devices enrolling with bootstrap certificates and publishing
 * over mutual TLS, one revoked and refused, one renewed. Progress on stderr (a bar on a terminal,
 * lines otherwise), the summary on stdout. Exit 0 when every step came out as expected, 1 when one
 * did not, 130 on Ctrl-C — after stopping everything it started (broker, service, MQTT
 * connections) and removing its temporary directory.
 */
import type { Command } from 'commander';
import { runDemo } from './demo/run.js';
import { CliError, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_NEGATIVE } from './errors.js';

interface DemoCliOptions {
  devices: string;
  json?: boolean;
}

/** Most devices the demo simulates (each is a TLS connection to the broker and a few to the CA). */
const MAX_DEVICES = 5000;

async function demo(o: DemoCliOptions): Promise<void> {
  const n = Number(o.devices);
  if (!/^[0-9]{1,5}$/.test(o.devices) || n < 1 || n > MAX_DEVICES)
    throw new CliError(`--devices must be 1..${MAX_DEVICES}, got "${o.devices}"`, EXIT_INPUT);
  const abort = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nfleetpki demo: interrupted; stopping everything it started\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await runDemo({ devices: n, signal: abort.signal });
    const t = r.timings;
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else
      process.stdout.write(
        [
          '',
          `fleetpki demo: ${r.ok ? 'every step as expected' : 'SOME STEP DID NOT COME OUT AS EXPECTED'}`,
          `  devices      ${r.devices}`,
          `  enrolled     ${r.enrolled}   (EST /simpleenroll with a bootstrap certificate; ${t.enroll} ms, ${Math.round((r.enrolled * 1000) / Math.max(1, t.enroll!))}/s)`,
          `  connected    ${r.connected}   (MQTT over mutual TLS, telemetry published; ${t.connect} ms)`,
          `  refused      ${r.refused}   (the revoked device, at its next connection; ${r.stillPublishing} others kept publishing)`,
          `  renewed      ${r.renewed}   (/simplereenroll at the renewal threshold, reconnected)`,
          `  timings      CA ${t.ca} ms, bootstrap ${t.bootstrap} ms, broker ${t.broker} ms, revoke ${t.revoke} ms, renew ${t.renew} ms; total ${t.total} ms`,
          '',
        ].join('\n'),
      );
    if (!r.ok) process.exitCode = EXIT_NEGATIVE;
  } catch (e) {
    if (abort.signal.aborted) {
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole story on one machine: CA, EST, OCSP, Mosquitto, simulated devices')
    .option('--devices <n>', 'simulated devices', '20')
    .option('--json', 'print the summary as JSON')
    .action((o: DemoCliOptions) => demo(o));
}
