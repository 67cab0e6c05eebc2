/**
 * Where the CLI's output files go, and how they get there without losing or leaking anything.
 *
 * Each target is classified first (`planOutput`), so a bad `--out` fails before any work or
 * passphrase prompt, with one line and nothing written:
 *   - `-`                          → standard output;
 *   - a missing path               → created atomically (temp file in the same directory, fsync, rename);
 *   - an existing regular file     → replaced atomically, or refused when `noClobber` (private keys:
 *                                    the caller's `--force` turns the refusal off);
 *   - an existing directory        → refused;
 *   - a character/block device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) → written in
 *     place. Renaming a temp file over such a path would replace the device node itself (run as
 *     root, `--out /dev/null` would leave a regular file holding a private key at /dev/null).
 *
 * A failed write removes every temp file it made: a temp may hold a plaintext private key.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';

/** One file a command is about to write. */
export interface PendingFile {
  path: string;
  data: string | Uint8Array;
  mode: number;
  /** Refuse to replace an existing regular file (private keys unless `--force`). */
  noClobber?: boolean;
}

/** How a target path is written. */
export type OutputKind = 'stdout' | 'atomic' | 'in-place';

interface PlannedOutput {
  kind: OutputKind;
  /** The path renamed onto (symlinks resolved, so a link to a key file stays a link). */
  target: string;
}

const errnoCode = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Classifies an output path (see the module comment); throws a one-line CliError when it cannot be written. */
export function planOutput(path: string, noClobber = false): PlannedOutput {
  if (path === '-') return { kind: 'stdout', target: path };
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOTDIR') throw new CliError(`cannot write ${path}: a parent is not a directory`);
    if (code !== 'ENOENT') throw new CliError(`cannot write ${path}: ${code ?? (e as Error).message}`);
  }
  if (st === undefined) {
    checkWritableDir(dirname(resolve(path)), path);
    return { kind: 'atomic', target: path };
  }
  if (st.isDirectory()) throw new CliError(`cannot write ${path}: it is a directory (name a file)`);
  if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) return { kind: 'in-place', target: path };
  if (!st.isFile()) throw new CliError(`cannot write ${path}: not a regular file, device or FIFO`);
  if (noClobber) throw new CliError(`${path} already exists; refusing to overwrite it (use --force)`);
  const target = realpathSync(path);
  checkWritableDir(dirname(target), path);
  return { kind: 'atomic', target };
}

/**
 * Throws unless files can be created in `dir`: it exists and is a writable directory, or it can
 * be made under its nearest existing ancestor. `access(2)` also reports a read-only file system
 * (EROFS), which matters when running as root.
 */
export function checkWritableDir(dir: string, what = dir): void {
  let d = resolve(dir);
  // Bounded by the path's depth: each step goes one level up, ending at '/'.
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(d);
    } catch (e) {
      const code = errnoCode(e);
      // ENOTDIR: a parent is a file; the walk up finds it and says so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw new CliError(`cannot write ${what}: ${code} on ${d}`);
    }
    if (st !== undefined) {
      if (!st.isDirectory()) throw new CliError(`cannot write ${what}: ${d} is not a directory`);
      try {
        accessSync(d, constants.W_OK | constants.X_OK);
      } catch (e) {
        const code = errnoCode(e);
        const why =
          code === 'EROFS' ? 'read-only file system' : code === 'EACCES' ? 'permission denied' : code;
        throw new CliError(`cannot write ${what}: ${d}: ${why}`);
      }
      return;
    }
    const up = dirname(d);
    if (up === d) throw new CliError(`cannot write ${what}: no existing directory above it`);
    d = up;
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const bytesOf = (d: string | Uint8Array) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d);

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  // writeSync returns > 0 or throws, so this ends after at most buf.length iterations.
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function writeTemp(f: PendingFile, target: string): string {
  const tmp = tempName(target);
  // 'wx': never follow or reuse an existing file; the mode applies at creation (no window where
  // a private key is world-readable).
  const fd = openSync(tmp, 'wx', f.mode);
  try {
    writeAll(fd, bytesOf(f.data));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function removeQuietly(paths: readonly string[]): void {
  for (const p of paths)
    try {
      unlinkSync(p);
    } catch {
      // Already gone: nothing to clean.
    }
}

/**
 * Writes all files or, as far as the file system allows, none: every target is checked, every
 * temp file written and synced; only then are they moved into place (no-clobber ones with
 * link(2), which fails if the name appeared meanwhile). Devices, FIFOs and `-` are written last,
 * in place. Any failure removes the temp files that are left and throws a one-line CliError.
 */
export function writeFilesAtomic(files: readonly PendingFile[]): void {
  const plans = files.map((f) => planOutput(f.path, f.noClobber));
  const temps: (string | undefined)[] = [];
  let i = 0;
  try {
    for (; i < files.length; i++)
      temps.push(plans[i]!.kind === 'atomic' ? writeTemp(files[i]!, plans[i]!.target) : undefined);
    for (i = 0; i < files.length; i++) {
      const tmp = temps[i];
      if (tmp === undefined) continue;
      if (files[i]!.noClobber) {
        linkSync(tmp, plans[i]!.target);
        unlinkSync(tmp);
      } else renameSync(tmp, plans[i]!.target);
      temps[i] = undefined;
    }
    for (i = 0; i < files.length; i++) {
      const p = plans[i]!;
      const data = files[i]!.data;
      if (p.kind === 'stdout') process.stdout.write(typeof data === 'string' ? data : Buffer.from(data));
      else if (p.kind === 'in-place') {
        const fd = openSync(p.target, 'w');
        try {
          writeAll(fd, bytesOf(data));
        } finally {
          closeSync(fd);
        }
      }
    }
  } catch (e) {
    removeQuietly(temps.filter((t): t is string => t !== undefined));
    if (e instanceof CliError) throw e;
    const code = errnoCode(e);
    const why =
      code === 'EEXIST' ? 'it appeared while writing (nothing replaced)' : (code ?? (e as Error).message);
    throw new CliError(`cannot write ${files[i]?.path ?? 'output'}: ${why}`);
  }
}

/** `writeFilesAtomic` for one file. */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
  noClobber = false,
): void {
  writeFilesAtomic([{ path, data, mode, noClobber }]);
}

/** Checks output targets before any work (or a passphrase prompt) is done; throws like `writeFilesAtomic`. */
export function checkOutputs(targets: readonly { path: string; noClobber?: boolean }[]): void {
  for (const t of targets) planOutput(t.path, t.noClobber);
}
