import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Authority } from '../ca/authority.js';
import type { CaLogger } from '../ca/logger.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import { claimAclUser } from '../mtls/acl.js';
import { CrlFileKeeper } from '../mtls/crl-file.js';
import type { MtlsError } from '../mtls/errors.js';
import { type BrokerConfigFiles, writeBrokerConfig } from '../mtls/mosquitto.js';
import { provisioningTopicLayout } from '../provision/acl.js';
import type { ServiceExtension } from './service.js';
import { DEFAULT_TLS_NAMES, sanFor } from './service-tls.js';

/**
 * A Mosquitto broker configured from the CA (`fleetpki broker-config`) and its CRL file kept fresh
 * (`fleetpki serve --broker-config DIR`, `fleetpki demo`, the tests: one mechanism).
 *
 * `writeCaBrokerConfig` issues the broker's server certificate (profile `server`, a fresh P-256 key
 * written 0600 unencrypted: Mosquitto cannot ask for a passphrase), and writes
 * `DIR/mosquitto.conf` through mtls' `writeBrokerConfig`: mTLS listener, `require_certificate`,
 * `use_identity_as_username`, `cafile` = the root, `crlfile` = the CRLs of every serving issuing CA,
 * the ACL (each device its own tree; claim identities their provisioning topics), and
 * `pid_file DIR/mosquitto.pid` so that whoever keeps the CRL file fresh can find the broker.
 *
 * `BrokerCrlSync` keeps `DIR/crl.pem` current: it polls the store for a newer CRL of each issuer
 * (a revocation republishes the CRL `crl.debounceMs` later, on whichever instance; the poll sees
 * it), rewrites the file atomically and SIGHUPs the broker named by the pid file (RECIPES §4: a
 * HUP re-reads the crlfile); and before the held CRLs' nextUpdate it fetches fresh ones (an expired
 * CRL makes Mosquitto refuse every client). The broker need not run: the file is rewritten anyway
 * and a broker started later reads it.
 */
export interface CaBrokerConfigOptions {
  dir: string;
  port: number;
  host?: string;
  /** Names in the broker's certificate. Default `localhost`, `127.0.0.1`. */
  names?: readonly string[];
  /** Who asks (audit). */
  requester: string;
  /**
   * Claim identities (fleet provisioning over MQTT): each gets its provisioning-topic ACL section
   * (`claimAclUser`). The provisioning layer passes the names its configuration defines.
   */
  claimIdentities?: readonly string[];
  /** More mosquitto.conf lines. */
  extra?: readonly string[];
}

/** What was written, with the broker certificate's serial. */
export interface CaBrokerConfig extends BrokerConfigFiles {
  pidFile: string;
  serialHex: string;
}

export async function writeCaBrokerConfig(ca: Authority, o: CaBrokerConfigOptions): Promise<CaBrokerConfig> {
  const names = o.names?.length ? o.names : DEFAULT_TLS_NAMES;
  const pair = await generateKeyPair('ec-p256');
  const csr = await new CsrBuilder()
    .subject(`CN=${names.find((n) => !/^[0-9.:[\]]+$/.test(n)) ?? 'mqtt-broker'}`)
    .subjectAltName(names.map(sanFor))
    .sign(await KeySigner.create(pair.privateKey));
  const r = await ca.issue(csr.der, { profile: 'server', requester: o.requester });
  if (r.status !== 'issued')
    throw new Error('the server profile needs approval: approve the broker certificate first');
  const dir = resolve(o.dir);
  const pidFile = join(dir, 'mosquitto.pid');
  const files = writeBrokerConfig({
    dir,
    port: o.port,
    host: o.host,
    // Leaf and issuing CA: the clients are given the root.
    serverChain: [r.certificate, ...r.chain.slice(0, -1)],
    serverKey: await exportKey(pair.privateKey, { format: 'pkcs8' }),
    clientCas: [ca.rootCertificate()],
    crls: await currentCrls(ca),
    // With a provisioning section, its layout: claims, answers per client id, the service's user.
    layout: ca.config.provisioning
      ? provisioningTopicLayout(ca.config.provisioning)
      : { users: (o.claimIdentities ?? []).map((n) => claimAclUser(n)) },
    extra: [`pid_file ${pidFile}`, ...(o.extra ?? [])],
  });
  return { ...files, pidFile, serialHex: r.serialHex };
}

/** The latest CRL of every serving intermediate (the issuers of client certificates). */
async function currentCrls(ca: Authority): Promise<Uint8Array[]> {
  const ids = ca
    .issuers()
    .filter((i) => i.role === 'intermediate' && i.status !== 'retired')
    .map((i) => i.id);
  return Promise.all(ids.map(async (id) => (await ca.crl(id)).der));
}

/**
 * SIGHUP to the broker whose PID is in `pidFile`, if it runs and is a mosquitto (a stale file
 * must not make us signal an unrelated process that reused the PID). Returns whether it was sent.
 */
export function hupBroker(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (!comm.startsWith('mosquitto')) return false;
  } catch {
    return false;
  }
  process.kill(pid, 'SIGHUP');
  return true;
}

export interface BrokerCrlSyncOptions {
  /** The broker configuration directory (`crl.pem`, `mosquitto.pid`). */
  dir: string;
  /** How often the store is asked for newer CRLs. Default 1 s. */
  pollMs?: number;
  logger?: CaLogger;
  /** Called after each rewrite (with whether the broker was signalled). */
  onUpdate?: (signalled: boolean) => void;
}

export class BrokerCrlSync {
  private readonly keeper: CrlFileKeeper;
  private readonly seen = new Map<string, bigint>();
  private timer?: ReturnType<typeof setInterval>;
  private polling?: Promise<void>;
  private signalled = false;

  constructor(
    private readonly ca: Authority,
    private readonly o: BrokerCrlSyncOptions,
  ) {
    const dir = resolve(o.dir);
    this.keeper = new CrlFileKeeper({
      path: join(dir, 'crl.pem'),
      reload: () => {
        this.signalled = hupBroker(join(dir, 'mosquitto.pid'));
      },
      refresh: () => currentCrls(ca),
      onError: (e: MtlsError) => o.logger?.error({ err: e.message }, 'broker CRL file: refresh failed'),
    });
  }

  /** Writes the current CRLs now, then follows the store. */
  async start(): Promise<void> {
    mkdirSync(resolve(this.o.dir), { recursive: true });
    await this.sync(true);
    this.keeper.start();
    this.timer = setInterval(() => {
      this.sync().catch((e) => this.o.logger?.error({ err: String(e) }, 'broker CRL file: poll failed'));
    }, this.o.pollMs ?? 1000);
    this.timer.unref?.();
  }

  /**
   * Looks for newer CRLs now; rewrites the file and signals the broker when there is one (or
   * always, with `force`). Resolves once done.
   */
  sync(force = false): Promise<void> {
    const run = (this.polling ?? Promise.resolve()).then(async () => {
      const fresh: Uint8Array[] = [];
      for (const i of this.ca.issuers()) {
        if (i.role !== 'intermediate' || i.status === 'retired') continue;
        const c = await this.ca.store.latestCrl(i.id);
        if (!c) continue;
        if (!force && (this.seen.get(i.id) ?? -1n) >= c.crlNumber) continue;
        this.seen.set(i.id, c.crlNumber);
        fresh.push(c.der);
      }
      if (fresh.length === 0) return;
      await this.keeper.update(...fresh);
      this.o.logger?.info({ crls: fresh.length, signalled: this.signalled }, 'broker CRL file rewritten');
      this.o.onUpdate?.(this.signalled);
    });
    this.polling = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.keeper.stop();
  }
}

/** `serve --broker-config DIR`: keeps DIR/crl.pem fresh while the service runs. */
export function brokerCrlExtension(dir: string, o: { pollMs?: number } = {}): ServiceExtension {
  let sync: BrokerCrlSync | undefined;
  return {
    name: 'broker-crl',
    async start(ctx) {
      sync = new BrokerCrlSync(ctx.authority, {
        dir,
        pollMs: o.pollMs,
        logger: ctx.logger.child({ component: 'broker' }),
      });
      await sync.start();
    },
    async close() {
      sync?.stop();
    },
  };
}
