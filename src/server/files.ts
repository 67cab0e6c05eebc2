import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Owner read/write only: keys, tokens. */
export const SECRET_MODE = 0o600;
/** Anyone may read: certificates. */
export const PUBLIC_MODE = 0o644;

/**
 * Writes a file atomically with its mode from the start: a temp file beside it (O_EXCL, created
 * with `mode`, so a secret is never briefly readable by others), fsync, then rename into place.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** True when the path exists. */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `f` holding an exclusive lock file (`O_EXCL`): instances sharing a data directory do not
 * interleave their writes of one credential. A lock older than `staleMs` (its holder died) is
 * taken over. Waits at most `waitMs`.
 */
export async function withLockFile<T>(
  path: string,
  f: () => Promise<T>,
  o: { waitMs?: number; staleMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (o.waitMs ?? 30_000);
  const stale = o.staleMs ?? 60_000;
  for (;;) {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, SECRET_MODE));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(path).mtimeMs > stale) rmSync(path, { force: true });
      } catch {
        // removed by its holder meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await f();
  } finally {
    rmSync(path, { force: true });
  }
}
