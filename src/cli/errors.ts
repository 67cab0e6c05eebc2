import { DerError } from '../der/errors.js';
import { X509Error } from '../x509/errors.js';

/**
 * CLI error plumbing shared by every `fleetpki` subcommand. Subcommands throw `CliError` (or let
 * a `DerError`/`X509Error` escape); `main.ts` prints ONE line `fleetpki: …` on stderr and exits
 * with the code. Exit codes follow DESIGN.md: 0 success, 1 negative verdict, 2 usage or input error.
 */
export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_INPUT = 2;
/** Internal failure (a bug): still one line, never a stack trace unless FLEETPKI_DEBUG is set. */
export const EXIT_INTERNAL = 70;
/** Interrupted by the user (Ctrl-C at a prompt): 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_INPUT,
  ) {
    super(message);
  }
}

/**
 * The human part of a decode error's message, without the ` at <path> (offset N)` suffixes the
 * error classes append (nested wrappers may have appended several).
 */
export function bareMessage(e: Error): string {
  return e.message.replace(/(?: at [^\s()]+)? \(offset \d+\)/g, '').trim();
}

/**
 * One line for a decode error: `bad-integer at offset 15 (Certificate/tbsCertificate/serialNumber): non-minimal INTEGER`.
 * `where` names the input part when a file holds several objects (e.g. `PEM block 2 (CERTIFICATE)`).
 */
export function describeDecodeError(e: DerError | X509Error, where?: string): string {
  const parts: string[] = [e.code];
  if (e.offset !== undefined) parts.push(`at offset ${e.offset}`);
  // Readers label both the input and its outermost value ('Certificate/Certificate/...'): show one.
  const labels = (e.path ?? []).filter((l, i, a) => i === 0 || l !== a[i - 1]);
  const path = labels.length > 0 ? ` (${labels.join('/')})` : '';
  const ctx = where ? ` in ${where}` : '';
  return `${parts.join(' ')}${path}${ctx}: ${bareMessage(e)}`;
}

export function isDecodeError(e: unknown): e is DerError | X509Error {
  return e instanceof DerError || e instanceof X509Error;
}
