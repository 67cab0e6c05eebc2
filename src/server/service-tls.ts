import { isIP } from 'node:net';
import type { Authority } from '../ca/authority.js';
import type { CaLogger } from '../ca/logger.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';

/**
 * The service's own TLS certificate: issued by its own CA (profile `service`, requester `system`)
 * for the names it is reached by — `localhost` and `127.0.0.1` unless configured — so that
 * `curl --cacert root.pem https://127.0.0.1:PORT/` works. The key is made fresh at each start and
 * lives only in memory (nothing to protect at rest); the certificate is renewed at two thirds of
 * its lifetime (RFC 5280 §4.1.2.5 validity; the `service` profile's 90 days → day 60) and
 * installed for new connections without a restart.
 */
export interface ServiceCertificate {
  /** Leaf then its chain up to the root, PEM (what TLS sends). */
  cert: string;
  /** PKCS#8 PEM, unencrypted (in memory only). */
  key: string;
  serialHex: string;
  issuerId: string;
  notBefore: number;
  notAfter: number;
}

export const DEFAULT_TLS_NAMES: readonly string[] = ['localhost', '127.0.0.1'];

/** SAN text for a host name or IP address (`dns:localhost`, `ip:127.0.0.1`). */
export function sanFor(name: string): string {
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  return isIP(bare) ? `ip:${bare}` : `dns:${bare.toLowerCase()}`;
}

export async function issueServiceCertificate(
  ca: Authority,
  names: readonly string[],
): Promise<ServiceCertificate> {
  if (names.length === 0) throw new Error('the TLS certificate needs at least one name');
  const pair = await generateKeyPair('ec-p256');
  const signer = await KeySigner.create(pair.privateKey);
  const cn = names.find((n) => isIP(n) === 0) ?? 'fleetpki';
  const csr = await new CsrBuilder()
    .subject(`CN=${cn.toLowerCase()}`)
    .subjectAltName(names.map(sanFor))
    .sign(signer);
  const r = await ca.issue(csr.der, { profile: 'service', requester: 'system' });
  if (r.status !== 'issued') throw new Error('the service profile must not need approval');
  return {
    cert: [r.certificate, ...r.chain].map((c) => c.toPem()).join(''),
    key: await exportKey(pair.privateKey, { format: 'pkcs8' }),
    serialHex: r.serialHex,
    issuerId: r.issuerId,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
  };
}

/** setTimeout's largest delay (2^31 − 1 ms, about 24.8 days); longer waits are re-armed. */
const MAX_DELAY = 2 ** 31 - 1;
/** After a failed renewal, try again after this (or sooner if the certificate expires first). */
const RETRY_MS = 3_600_000;

/** Renews the certificate at two thirds of its lifetime and hands each new one to `install`. */
export class CertificateRenewal {
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;

  constructor(
    private readonly ca: Authority,
    private readonly names: readonly string[],
    private current: ServiceCertificate,
    private readonly install: (c: ServiceCertificate) => void,
    private readonly log: CaLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the next renewal is due (epoch ms). */
  get dueAt(): number {
    const c = this.current;
    return c.notBefore + ((c.notAfter - c.notBefore) * 2) / 3;
  }

  start(): void {
    this.arm(this.dueAt);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Renews now (also what the timer calls). */
  async renew(): Promise<ServiceCertificate> {
    const next = await issueServiceCertificate(this.ca, this.names);
    this.current = next;
    this.install(next);
    this.log.info(
      { serialHex: next.serialHex, notAfter: new Date(next.notAfter).toISOString() },
      'TLS certificate renewed',
    );
    return next;
  }

  private arm(at: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, at - this.now());
    this.timer = setTimeout(
      () => {
        if (this.now() < at) return this.arm(at);
        this.renew().then(
          () => this.arm(this.dueAt),
          (e) => {
            this.log.error({ err: String(e) }, 'TLS certificate renewal failed; retrying');
            this.arm(Math.min(this.now() + RETRY_MS, this.current.notAfter - 60_000));
          },
        );
      },
      Math.min(delay, MAX_DELAY),
    );
    this.timer.unref?.();
  }
}
