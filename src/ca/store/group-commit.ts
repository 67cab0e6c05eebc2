import type { Outcome, WriteOp } from './ops.js';
import { StoreError } from './types.js';

/**
 * Group commit: writes of concurrent callers are queued and committed together, one transaction
 * (so one fsync) per flush, and each caller gets its own outcome. A flush starts on the next turn
 * of the event loop after the first write arrives (so every request handled in this turn joins
 * it); while a flush is in flight new writes queue up and go in the next one as soon as it ends.
 * Under load the batches therefore grow by themselves and the fsync cost is shared; at low load
 * a write waits for at most one turn.
 *
 * `run` executes one batch and returns one outcome per op, in order; if it throws, every op of the
 * batch fails with that error (nothing of the batch was committed).
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private inFlight = false;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (ops: WriteOp[]) => Promise<Outcome[]>,
    /** Most ops in one transaction: bounds a batch's latency and its message size. */
    private readonly maxBatch = 512,
    /** Told when the writer becomes busy or idle (the SQLite store refs/unrefs its thread). */
    private readonly onBusy?: (busy: boolean) => void,
  ) {}

  /** Queues one write; resolves with its value once the transaction holding it has committed. */
  submit(op: WriteOp): Promise<unknown> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.inFlight && !this.scheduled) {
        this.scheduled = true;
        this.onBusy?.(true);
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /** Resolves once everything queued so far is committed; later submits are refused. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.inFlight && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async drain(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let outcomes: Outcome[];
      try {
        outcomes = await this.run(batch.map((p) => p.op));
      } catch (e) {
        const err =
          e instanceof StoreError
            ? e
            : new StoreError('unavailable', `write failed: ${String(e)}`, { cause: e });
        for (const p of batch) p.reject(err);
        continue;
      }
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(new StoreError(o.code, o.message));
      });
    }
    this.inFlight = false;
    this.onBusy?.(false);
    for (const f of this.idle.splice(0)) f();
  }
}

interface Pending {
  op: WriteOp;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}
