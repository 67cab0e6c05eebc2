import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../ca/store/types.js';

/**
 * The service's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4 via prom-client).
 * One registry per service instance (not prom-client's global one), so several services in one
 * process — tests — do not share counters.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `fleetpki_issuance_total` | counter | `profile`, `result` (`issued`, `pending`, `refused`, `error`) |
 * | `fleetpki_issuance_duration_seconds` | histogram | `result` |
 * | `fleetpki_ocsp_requests_total` | counter | `method` (`GET`, `POST`) |
 * | `fleetpki_ocsp_responses_total` | counter | `status` (RFC 6960 responseStatus), `source` (`front`, `responder`, `refused`) |
 * | `fleetpki_http_errors_total` | counter | `code` (the problem's error code), `status` |
 * | `fleetpki_store_operation_duration_seconds` | histogram | `op` (Store method), `result` (`ok`, `error`) |
 * | `fleetpki_ca_signatures_total` | counter | — (signatures made with CA keys by this process) |
 * | `fleetpki_requests_in_flight` | gauge | — (Authority operations in progress) |
 * | `fleetpki_process_*`, `fleetpki_nodejs_*` | prom-client's defaults | |
 */
export interface MetricsOptions {
  /** Signatures made by the CA keys so far (`countingSigners().total`). */
  signatures?: () => number;
  /** Collect process/Node.js default metrics. Default true. */
  defaults?: boolean;
}

// Issuance is ~1 ms in process and tens of ms through a loaded store: buckets from 0.5 ms to 5 s.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Store operations: 50 µs (a cached SQLite read) to 2.5 s (a group commit under load on PostgreSQL).
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly issuance: Counter<'profile' | 'result'>;
  readonly issuanceSeconds: Histogram<'result'>;
  readonly ocspRequests: Counter<'method'>;
  readonly ocspResponses: Counter<'status' | 'source'>;
  readonly errors: Counter<'code' | 'status'>;
  readonly storeSeconds: Histogram<'op' | 'result'>;
  private ocspSent = 0;

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry];
    this.issuance = new Counter({
      name: 'fleetpki_issuance_total',
      help: 'Issuance requests by profile and outcome',
      labelNames: ['profile', 'result'],
      registers,
    });
    this.issuanceSeconds = new Histogram({
      name: 'fleetpki_issuance_duration_seconds',
      help: 'Issuance request latency (CSR received to answer ready)',
      labelNames: ['result'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ocspRequests = new Counter({
      name: 'fleetpki_ocsp_requests_total',
      help: 'OCSP requests received',
      labelNames: ['method'],
      registers,
    });
    this.ocspResponses = new Counter({
      name: 'fleetpki_ocsp_responses_total',
      help: 'OCSP responses sent, by responseStatus and where they came from',
      labelNames: ['status', 'source'],
      registers,
    });
    this.errors = new Counter({
      name: 'fleetpki_http_errors_total',
      help: 'Error answers by error code',
      labelNames: ['code', 'status'],
      registers,
    });
    this.storeSeconds = new Histogram({
      name: 'fleetpki_store_operation_duration_seconds',
      help: 'Store operation latency by operation',
      labelNames: ['op', 'result'],
      buckets: STORE_BUCKETS,
      registers,
    });
    const signatures = o.signatures;
    if (signatures) {
      new Gauge({
        name: 'fleetpki_ca_signatures_total',
        help: 'Signatures made with CA keys by this process (certificates, CRLs, OCSP responses)',
        registers,
        collect() {
          this.set(signatures());
        },
      });
    }
    if (o.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'fleetpki_' });
  }

  /** A gauge read when scraped (e.g. the Authority's requests in flight). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Records one OCSP answer. */
  ocspAnswer(status: string, source: 'front' | 'responder' | 'refused'): void {
    this.ocspSent++;
    this.ocspResponses.inc({ status, source });
  }

  /** OCSP responses this instance has sent since it started. */
  get ocspResponsesSent(): number {
    return this.ocspSent;
  }

  /**
   * The store with every method timed into `fleetpki_store_operation_duration_seconds`. A Proxy
   * keeps the Store interface whole (methods added later are timed too).
   */
  instrumentStore(store: Store): Store {
    const h = this.storeSeconds;
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function' || prop === 'constructor' || typeof prop !== 'string') return v;
        let w = wrapped.get(prop);
        if (!w) {
          const op = prop;
          w = function (this: unknown, ...args: unknown[]) {
            const end = h.startTimer({ op });
            let r: unknown;
            try {
              r = (v as (...a: unknown[]) => unknown).apply(target, args);
            } catch (e) {
              end({ result: 'error' });
              throw e;
            }
            if (r instanceof Promise)
              return r.then(
                (x) => {
                  end({ result: 'ok' });
                  return x;
                },
                (e) => {
                  end({ result: 'error' });
                  throw e;
                },
              );
            end({ result: 'ok' });
            return r;
          };
          wrapped.set(prop, w);
        }
        return w;
      },
    });
  }
}
