/**
 * Code written once, run synchronously or asynchronously. A computation is a generator that
 * yields a `Step` wherever it needs something that may be asynchronous — a signature verified,
 * a revocation status, an HTTP exchange — and receives the answer back. `runSync` answers each
 * step at once (`step.sync()`); `runAsync` awaits `step.async()`. A step with no synchronous
 * form throws from `sync()`, and the generator sees that error where it yielded.
 *
 *   function* work(): Steps<boolean> { return yield* step({ sync: () => f(), async: () => fAsync() }); }
 *   const ok = runSync(work());        // or: await runAsync(work())
 *
 * `verifyPath`/`verifyPathSync` and the revocation checks (revocation/steps.ts) are written this way.
 */
export interface Step<T> {
  sync(): T;
  async(): Promise<T>;
}

export type Steps<T> = Generator<Step<unknown>, T, unknown>;

/** Yields one step and returns its answer. */
export function* step<T>(s: Step<T>): Steps<T> {
  return (yield s as Step<unknown>) as T;
}

/** Runs `g`, answering every step synchronously. */
export function runSync<T>(g: Steps<T>): T {
  let r = g.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = r.value.sync();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

/** Runs `g`, awaiting every step. */
export async function runAsync<T>(g: Steps<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value.async();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}
