#!/usr/bin/env node
/**
 * `fleetpki` — the command-line entry point (DESIGN.md, "CLI").
 *
 * Each subcommand lives in `src/cli/<command>.ts` and exports `register<Command>(program)`, which
 * adds its `Command` to the program. Adding one is an import plus an entry in `COMMANDS` below.
 * Subcommand actions may be async; they signal failure by throwing `CliError` (with an exit
 * code) or by letting a `DerError`/`X509Error` escape. Whatever happens, the user sees at most
 * one line on stderr (`fleetpki: …`), never a stack trace (set FLEETPKI_DEBUG=1 to get one).
 *
 * Exit codes: 0 success, 1 negative verdict (e.g. `verify` found the chain invalid), 2 usage or
 * input error, 70 internal error.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { CryptoError } from '../crypto/errors.js';
import { PemError } from '../pem/pem.js';
import { registerCa } from './ca.js';
import { registerCrl } from './crl.js';
import { registerCsr } from './csr.js';
import { registerEnroll } from './enroll.js';
import { CliError, describeDecodeError, EXIT_INPUT, EXIT_INTERNAL, isDecodeError } from './errors.js';
import { registerInspect } from './inspect.js';
import { registerKey } from './key.js';
import { registerServe } from './serve.js';
import { registerVerify } from './verify.js';

/** Every subcommand's register function, in the order `--help` lists them. */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerInspect,
  registerKey,
  registerCsr,
  registerCa,
  registerCrl,
  registerVerify,
  registerEnroll,
  (p) => registerServe(p, VERSION),
];

/** The package's version, read from its package.json (next to src/ in the repo, to dist/ when installed). */
export const VERSION: string = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
    version: string;
  }
).version;

export function buildProgram(): Command {
  const program = new Command('fleetpki')
    .description('PKI and private certificate authority for IoT fleets')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // Usage errors are one line like every other error: `fleetpki: <what> (see --help)`.
    .configureOutput({ outputError: (s, write) => write(usageLine(s)) });
  for (const register of COMMANDS) register(program);
  // Every subcommand inherits exit-override so usage errors end with exit 2, not process.exit(1).
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Commander's `error: …` text as the CLI's one stderr line. */
export function usageLine(s: string): string {
  const msg = s
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  return `fleetpki: ${msg} (see --help)\n`;
}

/** Formats any thrown value as the one stderr line and picks the exit code. */
export function errorOutcome(e: unknown): { line: string; exitCode: number } {
  if (e instanceof CliError) return { line: `fleetpki: ${e.message}`, exitCode: e.exitCode };
  if (isDecodeError(e)) return { line: `fleetpki: ${describeDecodeError(e)}`, exitCode: EXIT_INPUT };
  // Library errors about the input that no command mapped: still the user's input, still one line.
  if (e instanceof PemError)
    return { line: `fleetpki: bad PEM (${e.code}): ${e.message}`, exitCode: EXIT_INPUT };
  if (e instanceof CryptoError) return { line: `fleetpki: ${e.code}: ${e.message}`, exitCode: EXIT_INPUT };
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { line: `fleetpki: internal error: ${msg.split('\n')[0]}`, exitCode: EXIT_INTERNAL };
}

/** Runs the CLI with user arguments (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; commander already printed what it had to.
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version')
        return 0;
      if (e.code === 'commander.help') return 0;
      return EXIT_INPUT;
    }
    if (process.env.FLEETPKI_DEBUG) console.error(e);
    const { line, exitCode } = errorOutcome(e);
    process.stderr.write(`${line}\n`);
    return exitCode;
  }
}

/** True when this module is the process entry (also through the npm bin symlink). */
function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  // `fleetpki inspect big.pem | head`: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${errorOutcome(e).line}\n`);
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
