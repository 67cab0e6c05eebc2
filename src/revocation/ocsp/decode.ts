import { DerError } from '../../der/errors.js';
import { X509Error } from '../../x509/errors.js';
import { RevocationError, type RevocationErrorCode } from '../errors.js';

/** Runs a decoder and turns DER/X.509 decoding errors into a `RevocationError(code)` with the cause kept. */
export function decodeAs<T>(code: RevocationErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DerError || e instanceof X509Error)
      throw new RevocationError(code, `${what}: ${e.message}`, { cause: e });
    throw e;
  }
}
