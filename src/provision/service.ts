// Node only: node:crypto as the default provider (the portable core would otherwise use WebCrypto).
import '../crypto/index.js';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Authority } from '../ca/authority.js';
import { CaError } from '../ca/errors.js';
import { type CaLogger, silentLogger } from '../ca/logger.js';
import {
  CLAIM_PROFILE,
  type ClaimConfig,
  claimOf,
  PROVISIONER_PROFILE,
  type ProvisioningConfig,
  type ProvisioningTemplate,
  templateOf,
} from '../ca/provisioning-config.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import type { Certificate } from '../x509/certificate.js';
import { type CertificationRequest, parseCsr } from '../x509/csr.js';
import { Name } from '../x509/name.js';
import { AllowList } from './allow-list.js';
import {
  decodeRequest,
  encodeAnswer,
  type IssuedAnswer,
  type PayloadFormat,
  type ProvisionAnswer,
  type ProvisionRequest,
  peekRequestId,
} from './codec.js';
import { ProvisionError, type ProvisionErrorCode } from './errors.js';
import { checkAttributes, checkDeviceIdentity, checkSan, checkSubject, createKeyNames } from './policy.js';
import { RateLimiter } from './rate-limit.js';
import { isClaimResponseTopic, parseRequestTopic, requestFilter } from './topics.js';

/**
 * The provisioning service: an MQTT client of the fleet's broker, connected over mutual TLS with its
 * own certificate (profile `provisioner`, CN = `serviceIdentity`, key in memory only, renewed at
 * two thirds of its life), subscribed to every claim's request topic (a shared subscription, so
 * several `fleetpki serve` instances on one broker split the load). For each request it
 *
 * 1. reads the claim identity from the topic — the broker's ACL lets only that claim's certificate
 *    (CN = username) publish there — and finds where to answer (the MQTT 5 Response Topic, which
 *    must lie in the same claim's answer tree, or the per-request topic's twin);
 * 2. decodes the payload strictly (codec.ts), takes a token from the claim's bucket, checks that
 *    the claim still has a valid (unrevoked, unexpired) claim certificate in the store — a session
 *    opened before a revocation stays connected at the broker, so this is checked per request;
 * 3. applies the template: allowed for the claim, attributes, allow-list, the CSR's subject and
 *    SAN (or, for "create key", builds them and generates the key);
 * 4. issues through the Authority with requester `mqtt:<claim>` and request id
 *    `mqtt:<claim>:<requestId>`: a replay gets the same certificate (the store's idempotency),
 *    never a second one;
 * 5. answers with the chain or a typed error (errors.ts), QoS 1.
 *
 * A generated private key exists only in this process's memory while the answer is built and
 * published: it is not stored, logged or kept; a replayed "create key" request gets
 * `key-already-delivered`. When the broker goes away the client reconnects with exponential
 * backoff (with jitter) and subscribes again.
 *
 *   const svc = await ProvisioningService.start({ authority, config: authority.config.provisioning!,
 *     broker: { url: 'mqtts://127.0.0.1:8883', ca: rootPem } });
 *   await svc.ready;       // subscribed
 *   await svc.close();
 */
export interface ProvisioningServiceOptions {
  authority: Authority;
  config: ProvisioningConfig;
  broker: {
    /** `mqtts://HOST:PORT`. */
    url: string;
    /** Anchors for the broker's certificate (PEM); default the Authority's root. */
    ca?: string;
    /** Name checked in the broker's certificate; default the URL's host. */
    servername?: string;
  };
  logger?: CaLogger;
  /** Reconnection backoff: first delay and ceiling (ms). Default 500 ms → 30 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** Told about each answer sent (for metrics): `issued`, `replayed` or the error code. */
  onAnswer?: (outcome: 'issued' | 'replayed' | ProvisionErrorCode, template?: string) => void;
  now?: () => number;
}

/** Counts since start. */
export interface ProvisioningStats {
  requests: number;
  issued: number;
  replayed: number;
  refused: number;
  /** Messages that could not be answered (no valid answer topic). */
  dropped: number;
  connects: number;
}

/** The shared-subscription group every instance joins (MQTT 5 §4.8.2). */
const SHARE_GROUP = 'fleetpki-provisioning';

export class ProvisioningService {
  readonly stats: ProvisioningStats = {
    requests: 0,
    issued: 0,
    replayed: 0,
    refused: 0,
    dropped: 0,
    connects: 0,
  };
  /** Resolves once connected and subscribed the first time. */
  readonly ready: Promise<void>;
  private client?: MqttClient;
  private readonly limiter: RateLimiter;
  private readonly allowLists = new Map<string, AllowList>();
  private readonly log: CaLogger;
  private readonly now: () => number;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  private failures = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private renewTimer?: ReturnType<typeof setTimeout>;
  private credential?: { cert: string; key: string; notBefore: number; notAfter: number };
  private resolveReady!: () => void;
  private subscribedNow = false;
  private readonly subscribeWaiters = new Set<() => void>();

  private constructor(private readonly o: ProvisioningServiceOptions) {
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
    this.limiter = new RateLimiter(this.now);
    this.ready = new Promise((r) => {
      this.resolveReady = r;
    });
  }

  /** Issues the service's own certificate and starts connecting (see `ready`). */
  static async start(o: ProvisioningServiceOptions): Promise<ProvisioningService> {
    const u = new URL(o.broker.url);
    if (u.protocol !== 'mqtts:' || !u.hostname || !u.port)
      throw new ProvisionError('bad-input', `the broker URL must be mqtts://HOST:PORT, got ${o.broker.url}`);
    const svc = new ProvisioningService(o);
    await svc.renewCredential();
    svc.connect(u);
    return svc;
  }

  /** Whether the client is connected to the broker now. */
  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Resolves once the client is connected and subscribed (now, or after the next reconnection). */
  whenSubscribed(): Promise<void> {
    if (this.subscribedNow && this.connected) return Promise.resolve();
    return new Promise((r) => this.subscribeWaiters.add(r));
  }

  /** Stops taking requests, finishes those in progress, disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.renewTimer);
    await Promise.allSettled([...this.pending]);
    await this.client?.endAsync().catch(() => undefined);
  }

  // ---- connection -------------------------------------------------------------------------------

  private async renewCredential(): Promise<void> {
    const ca = this.o.authority;
    const pair = await generateKeyPair('ec-p256');
    const csr = await new CsrBuilder()
      .subject(Name.fromRdns([[{ type: '2.5.4.3', value: this.o.config.serviceIdentity }]]))
      .sign(await KeySigner.create(pair.privateKey));
    const r = await ca.issue(csr.der, { profile: PROVISIONER_PROFILE, requester: 'system' });
    if (r.status !== 'issued')
      throw new CaError('bad-config', 'the provisioner profile must not need approval');
    const chain = [r.certificate, ...r.chain.filter((c) => !isRoot(c))];
    this.credential = {
      cert: chain.map((c) => c.toPem()).join(''),
      key: await exportKey(pair.privateKey, { format: 'pkcs8' }),
      notBefore: r.notBefore,
      notAfter: r.notAfter,
    };
    if (this.client) {
      // Used from the next connection on; the current session is not interrupted.
      this.client.options.cert = this.credential.cert;
      this.client.options.key = this.credential.key;
    }
    const due = r.notBefore + ((r.notAfter - r.notBefore) * 2) / 3;
    this.renewTimer = setTimeout(
      () =>
        this.renewCredential().catch((e) => {
          this.log.error({ err: String(e) }, 'provisioning: client certificate renewal failed');
        }),
      Math.min(Math.max(60_000, due - this.now()), 2 ** 31 - 1),
    );
    this.renewTimer.unref?.();
    this.log.info(
      { serialHex: r.serialHex, notAfter: new Date(r.notAfter).toISOString() },
      'provisioning: client certificate issued',
    );
  }

  private connect(u: URL): void {
    const cred = this.credential!;
    const opts: IClientOptions = {
      protocol: 'mqtts',
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port),
      protocolVersion: 5,
      clientId: `${this.o.config.serviceIdentity}-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      ca: this.o.broker.ca ?? this.o.authority.rootCertificate().toPem(),
      cert: cred.cert,
      key: cred.key,
      servername: this.o.broker.servername ?? (/^[0-9.:[\]]+$/.test(u.hostname) ? undefined : u.hostname),
      rejectUnauthorized: true,
      reconnectPeriod: 0, // our own backoff below
      connectTimeout: 10_000,
      keepalive: 30,
      properties: { receiveMaximum: Math.min(65535, this.o.config.maxInFlight) },
    };
    const client = mqtt.connect(opts);
    this.client = client;
    client.on('connect', () => {
      this.failures = 0;
      this.stats.connects++;
      const filter = `$share/${SHARE_GROUP}/${requestFilter(this.o.config.topicRoot)}`;
      client.subscribe(filter, { qos: 1 }, (err, granted) => {
        const code = granted?.[0]?.qos;
        if (err || code === undefined || code > 2) {
          this.log.error(
            { err: String(err ?? `reason code ${code}`), filter },
            'provisioning: subscription refused',
          );
          return;
        }
        this.log.info({ broker: u.host, filter }, 'provisioning: subscribed');
        this.subscribedNow = true;
        for (const w of this.subscribeWaiters) w();
        this.subscribeWaiters.clear();
        this.resolveReady();
      });
    });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('error', (e) => this.log.warn({ err: e.message }, 'provisioning: broker connection error'));
    client.on('close', () => {
      this.subscribedNow = false;
      if (this.closed) return;
      const min = this.o.backoff?.minMs ?? 500;
      const max = this.o.backoff?.maxMs ?? 30_000;
      const delay = Math.min(max, min * 2 ** Math.min(this.failures, 20)) * (0.8 + 0.4 * Math.random());
      this.failures++;
      this.log.warn({ retryInMs: Math.round(delay) }, 'provisioning: disconnected from the broker');
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => {
        if (!this.closed) client.reconnect();
      }, delay);
      this.reconnectTimer.unref?.();
    });
  }

  // ---- requests ---------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.closed) return;
    this.stats.requests++;
    const cfg = this.o.config;
    const t = parseRequestTopic(cfg.topicRoot, topic);
    const props = packet.properties;
    let replyTo: string | undefined;
    if (t && props?.responseTopic !== undefined) {
      if (isClaimResponseTopic(cfg.topicRoot, t.claim, props.responseTopic)) replyTo = props.responseTopic;
    } else replyTo = t?.responseTopic;
    if (!t || !replyTo) {
      this.stats.dropped++;
      this.log.warn(
        { topic: topic.slice(0, 200) },
        'provisioning: request without a usable answer topic dropped',
      );
      return;
    }
    const correlationData = props?.correlationData;
    if (this.inFlight >= cfg.maxInFlight) {
      this.reply(
        replyTo,
        correlationData,
        t.format,
        refusal(peekRequestId(payload, t.format), 'busy', 'too many requests in progress; retry later'),
      );
      return;
    }
    this.inFlight++;
    const p = this.handle(t.claim, t.format, payload)
      .then((answer) => this.reply(replyTo, correlationData, t.format, answer))
      .catch((e) => this.log.error({ err: String(e) }, 'provisioning: answer failed'))
      .finally(() => {
        this.inFlight--;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  private reply(
    topic: string,
    correlationData: Buffer | undefined,
    format: PayloadFormat,
    a: ProvisionAnswer,
  ): void {
    const outcome = 'error' in a ? a.error.code : a.replayed ? 'replayed' : 'issued';
    if ('error' in a) this.stats.refused++;
    else if (a.replayed) this.stats.replayed++;
    else this.stats.issued++;
    this.o.onAnswer?.(outcome);
    this.client?.publish(topic, Buffer.from(encodeAnswer(a, format)), {
      qos: 1,
      properties: {
        ...(correlationData ? { correlationData } : {}),
        contentType: format === 'json' ? 'application/json' : 'application/cbor',
      },
    });
  }

  /** Everything from the payload to the answer; never throws (refusals become error answers). */
  private async handle(claimId: string, format: PayloadFormat, payload: Buffer): Promise<ProvisionAnswer> {
    const cfg = this.o.config;
    let requestId: string | undefined;
    const started = this.now();
    try {
      const claim = claimOf(cfg, claimId);
      if (!claim) throw new ProvisionError('unknown-claim', `${claimId} is not a claim of this service`);
      const req = decodeRequest(payload, format, { maxBytes: cfg.maxPayloadBytes });
      requestId = req.requestId;
      const rate = this.limiter.take(claim.identity, claim.rateLimit);
      if (!rate.ok)
        throw new ProvisionError(
          'rate-limited',
          `too many requests from ${claim.identity}; retry in ${Math.ceil(rate.retryAfterMs / 1000)} s`,
        );
      await this.checkClaim(claim);
      const template = this.templateFor(claim, req.template);
      checkAttributes(template, req.attributes);
      await this.checkAllowList(template, req.attributes);
      const answer = await this.issue(claim, template, req);
      this.log.info(
        {
          claim: claim.identity,
          requestId,
          template: template.name,
          result: answer.replayed ? 'replayed' : 'issued',
          ms: this.now() - started,
        },
        'provisioning: certificate issued',
      );
      return answer;
    } catch (e) {
      const err = asProvisionError(e);
      // A refusal before the payload was decoded still names the request when it can be read.
      requestId ??= peekRequestId(payload, format, cfg.maxPayloadBytes);
      if (!(e instanceof ProvisionError) && !(e instanceof CaError))
        this.log.error(
          { err: e instanceof Error ? e.stack : String(e), claim: claimId, requestId },
          'provisioning: unexpected failure',
        );
      this.log.info(
        { claim: claimId, requestId, result: err.code, reason: err.message },
        'provisioning: request refused',
      );
      return refusal(requestId, err.code, err.message);
    }
  }

  private templateFor(claim: ClaimConfig, name: string): ProvisioningTemplate {
    const t = templateOf(this.o.config, name);
    if (!t) throw new ProvisionError('unknown-template', `no template "${name}"`);
    if (!claim.templates.includes(name))
      throw new ProvisionError('template-not-allowed', `${claim.identity} may not use template ${name}`);
    return t;
  }

  /** The claim identity still has a valid claim certificate (the broker only checks at connect). */
  private async checkClaim(claim: ClaimConfig): Promise<void> {
    let page: Awaited<ReturnType<Authority['store']['findCertificates']>>;
    try {
      page = await this.o.authority.store.findCertificates({
        profile: CLAIM_PROFILE,
        subject: claim.identity,
        status: 'valid',
        limit: 50,
        now: this.now(),
      });
    } catch (e) {
      throw new ProvisionError('unavailable', `store: ${(e as Error).message}`, { cause: e });
    }
    const valid = page.items.some((r) => {
      try {
        return Name.parse(r.subject).commonName === claim.identity;
      } catch {
        return false;
      }
    });
    if (!valid) throw new ProvisionError('claim-revoked', `${claim.identity} has no valid claim certificate`);
  }

  private async checkAllowList(
    t: ProvisioningTemplate,
    attrs: Readonly<Record<string, string>>,
  ): Promise<void> {
    if (!t.allowList) return;
    let list = this.allowLists.get(t.name);
    if (!list) {
      list = new AllowList(t.allowList.file, { now: this.now });
      this.allowLists.set(t.name, list);
    }
    const serial = attrs[t.allowList.attribute];
    if (serial === undefined)
      throw new ProvisionError(
        'missing-attribute',
        `template ${t.name} requires attribute "${t.allowList.attribute}"`,
      );
    if (!(await list.has(serial)))
      throw new ProvisionError(
        'not-on-allow-list',
        `${t.allowList.attribute} ${serial.slice(0, 64)} is not on the allow-list`,
      );
  }

  private async issue(
    claim: ClaimConfig,
    t: ProvisioningTemplate,
    req: ProvisionRequest,
  ): Promise<IssuedAnswer> {
    const ca = this.o.authority;
    const requestId = `mqtt:${claim.identity}:${req.requestId}`;
    let csr: CertificationRequest;
    let privateKey: Uint8Array | undefined;
    if ('csr' in req) {
      try {
        csr = parseCsr(req.csr);
      } catch (e) {
        throw new ProvisionError('bad-csr', `not a PKCS#10 request: ${(e as Error).message}`, { cause: e });
      }
      checkSubject(t, req.attributes, csr.subject);
      checkSan(t, req.attributes, csr.subjectAltName ?? []);
      checkDeviceIdentity(csr.subject);
    } else {
      const names = createKeyNames(t, req.attributes);
      checkSubject(t, req.attributes, names.subject);
      checkDeviceIdentity(names.subject);
      if (await ca.store.findByRequestId(requestId))
        throw new ProvisionError(
          'key-already-delivered',
          `request ${req.requestId} was answered before; its key is not kept`,
        );
      const pair = await generateKeyPair(t.createKey!.keyType);
      const b = new CsrBuilder().subject(names.subject);
      if (names.san.length) b.subjectAltName(names.san);
      csr = await b.sign(await KeySigner.create(pair.privateKey));
      checkSan(t, req.attributes, csr.subjectAltName ?? []);
      privateKey = pair.privateKey.pkcs8;
    }
    const r = await ca.issue(csr.der, {
      profile: t.profile,
      requester: `mqtt:${claim.identity}`,
      requestId,
      validityDays: t.validityDays,
    });
    if (r.status !== 'issued')
      throw new ProvisionError('ca-refused', `profile ${t.profile} held the request for approval`);
    const cn = r.certificate.subject.commonName!;
    return {
      requestId: req.requestId,
      certificates: [r.certificate, ...r.chain.filter((c) => !isRoot(c))].map((c) => c.der),
      ...(privateKey ? { privateKey } : {}),
      deviceTopic: `${this.o.config.deviceRoot}/${cn}`,
      replayed: r.replayed,
    };
  }
}

function isRoot(c: Certificate): boolean {
  return c.subject.equals(c.issuer);
}

function refusal(requestId: string | undefined, code: ProvisionErrorCode, message: string): ProvisionAnswer {
  return { ...(requestId ? { requestId } : {}), error: { code, message } };
}

/** CA refusals keep their meaning where an answer code says the same; the rest is `ca-refused`. */
const CA_CODES: Partial<Record<string, ProvisionErrorCode>> = {
  'malformed-csr': 'bad-csr',
  'bad-csr-signature': 'bad-csr',
  'subject-not-allowed': 'subject-not-allowed',
  'san-not-allowed': 'san-not-allowed',
  'san-required': 'san-not-allowed',
  'request-conflict': 'request-conflict',
  'store-failure': 'unavailable',
  'issuer-unavailable': 'unavailable',
};

function asProvisionError(e: unknown): ProvisionError {
  if (e instanceof ProvisionError) return e;
  if (e instanceof CaError) {
    const code = CA_CODES[e.code] ?? 'ca-refused';
    return new ProvisionError(code, code === 'ca-refused' ? `${e.code}: ${e.message}` : e.message, {
      cause: e,
    });
  }
  return new ProvisionError('unavailable', 'the request could not be completed; retry later', { cause: e });
}
