// The parts of autocannon 9's API that bench/ocsp.bench.ts and bench/ca-load.ts use (the package
// ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface RequestSpec {
      method?: 'GET' | 'POST';
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      /** Called before each request; returns the request to send. */
      setupRequest?(req: Record<string, unknown>, context: Record<string, unknown>): Record<string, unknown>;
      /** Called with each answer (the body as text). */
      onResponse?(status: number, body: string, context: Record<string, unknown>): void;
    }
    interface Options {
      url: string;
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string | Buffer;
      connections?: number;
      pipelining?: number;
      duration?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      requests?: RequestSpec[];
    }
    interface Histogram {
      average: number;
      p50: number;
      p99: number;
    }
    interface Result {
      requests: Histogram & { total: number };
      latency: Histogram;
      non2xx: number;
      errors: number;
      timeouts: number;
    }
    /** The running benchmark: its events, and a promise of the result. */
    interface Instance extends PromiseLike<Result> {
      /** Every answer: status, bytes, latency in ms (fractional). */
      on(
        event: 'response',
        f: (client: unknown, status: number, bytes: number, ms: number) => void,
      ): Instance;
      on(event: 'reqError', f: (e: Error) => void): Instance;
    }
  }
  function autocannon(opts: autocannon.Options): autocannon.Instance;
  export default autocannon;
}
