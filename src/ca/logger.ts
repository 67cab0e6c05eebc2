/**
 * The logger the Authority writes to: the subset of pino's API it uses, so a pino logger (or a
 * child of the service's) can be passed as is. Records are structured: an object first, then a
 * short message. The Authority never passes a secret (passphrase, PIN, token, private key) to it;
 * the service's pino `redact` paths are a second line of defence, not the first.
 */
export interface CaLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  debug(obj: Record<string, unknown>, msg?: string): void;
}

/** Discards everything (the default). */
export const silentLogger: CaLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
