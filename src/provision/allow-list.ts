import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ProvisionError } from './errors.js';

/**
 * A pre-provisioning allow-list: a text file of device serial numbers, one a line (blank lines and
 * `#` comments ignored), typically exported from the factory's records. The file is re-read when
 * its modification time or size changes (looked at most every `checkMs`), so adding a batch needs
 * no restart. Up to `maxEntries` lines; an unreadable file refuses every request (`unavailable`)
 * rather than allowing any.
 */
export class AllowList {
  private entries?: Set<string>;
  private stamp = '';
  private checkedAt = Number.NEGATIVE_INFINITY;
  private loading?: Promise<void>;

  constructor(
    readonly file: string,
    private readonly o: { checkMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.file = resolve(file);
  }

  /** True when `serial` is on the list (the file as of at most `checkMs` ago). */
  async has(serial: string): Promise<boolean> {
    const now = (this.o.now ?? Date.now)();
    if (!this.entries || now - this.checkedAt >= (this.o.checkMs ?? 1000)) {
      this.loading ??= this.load(now).finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.entries!.has(serial);
  }

  private async load(now: number): Promise<void> {
    try {
      const s = await stat(this.file);
      const stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
      if (this.entries && stamp === this.stamp) {
        this.checkedAt = now;
        return;
      }
      const max = this.o.maxEntries ?? 10_000_000;
      const text = await readFile(this.file, 'utf8');
      const set = new Set<string>();
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*$/, '').trim();
        if (!line) continue;
        if (set.size >= max) throw new Error(`more than ${max} entries`);
        set.add(line);
      }
      this.entries = set;
      this.stamp = stamp;
      this.checkedAt = now;
    } catch (e) {
      this.entries = undefined;
      throw new ProvisionError('unavailable', `allow-list ${this.file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
}
