import { RevocationError } from './errors.js';

/**
 * Minimal portable HTTP for revocation data: `fetch` (Node 20, browsers, edge runtimes) with a
 * timeout (AbortController) and a response size cap enforced while streaming, so a hostile server
 * can neither hang a validation nor make it buffer an unbounded body.
 */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  fetch?: FetchFn;
  /** Whole exchange, in ms. */
  timeoutMs: number;
  /** Largest body read, in bytes. */
  maxBytes: number;
  /** Expected Content-Type (compared without parameters); undefined = any. */
  contentType?: string;
}

export async function httpRequest(
  url: string,
  init: { method: 'GET' | 'POST'; body?: Uint8Array; headers?: Record<string, string> },
  opts: HttpOptions,
): Promise<Uint8Array> {
  const f = opts.fetch ?? (globalThis.fetch as FetchFn | undefined);
  if (!f) throw new RevocationError('fetch-failed', 'no fetch implementation available');
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs);
  try {
    let res: Response;
    try {
      res = await f(url, {
        method: init.method,
        body: init.body as BodyInit | undefined,
        headers: init.headers,
        signal: ctl.signal,
        redirect: 'follow',
      });
    } catch (e) {
      if (ctl.signal.aborted)
        throw new RevocationError('timeout', `${url}: no answer within ${opts.timeoutMs} ms`, { cause: e });
      throw new RevocationError('fetch-failed', `${url}: ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new RevocationError('fetch-failed', `${url}: HTTP ${res.status}`);
    }
    if (opts.contentType) {
      const ct = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== opts.contentType) {
        await res.body?.cancel().catch(() => undefined);
        throw new RevocationError(
          'bad-content-type',
          `${url}: Content-Type "${ct}", expected ${opts.contentType}`,
        );
      }
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new RevocationError('response-too-large', `${url}: ${declared} bytes exceeds ${opts.maxBytes}`);
    }
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > opts.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new RevocationError('response-too-large', `${url}: body exceeds ${opts.maxBytes} bytes`);
        }
        parts.push(value);
      }
    } catch (e) {
      if (e instanceof RevocationError) throw e;
      if (ctl.signal.aborted)
        throw new RevocationError('timeout', `${url}: no answer within ${opts.timeoutMs} ms`, { cause: e });
      throw new RevocationError('fetch-failed', `${url}: ${(e as Error).message}`, { cause: e });
    }
    const out = new Uint8Array(total);
    let p = 0;
    for (const x of parts) {
      out.set(x, p);
      p += x.length;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}
