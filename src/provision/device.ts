// Node only: node:crypto as the default provider (the portable core would otherwise use WebCrypto).
import '../crypto/index.js';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { KeyType } from '../crypto/algorithms.js';
import { generateKeyPair, importKey, type PrivateKey } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import { encodePem } from '../pem/pem.js';
import { verifyPath } from '../verify/index.js';
import { type Certificate, parseCertificate, parseCertificates } from '../x509/certificate.js';
import {
  decodeAnswer,
  encodeRequest,
  isErrorAnswer,
  type PayloadFormat,
  type ProvisionAnswer,
  type ProvisionRequest,
} from './codec.js';
import { ProvisionError } from './errors.js';
import { requestTopic, responseFilter, responseTopic } from './topics.js';

/**
 * The device side of fleet provisioning over MQTT (docs/provisioning.md): connect to the broker
 * with the claim certificate, send a request (a CSR for a key made here, or "create key"), wait
 * for the answer, check the issued chain with our path validation against the device's trust
 * anchors (purpose clientAuth) and that it certifies our key, and hand back key and chain. The
 * caller stores them (atomically, key 0600) and proves the new identity with `proveIdentity`.
 *
 * MQTT 5 requests carry a Response Topic and Correlation Data; MQTT 3.1.1 requests go to a
 * per-request topic whose twin carries the answer. Either way the answer topic lies under
 * `<root>/<claim>/response/<clientId>/`, which the broker lets only this client read. The request
 * is re-sent with the same request id when no answer comes in `retryMs` (the service is idempotent
 * per request id), up to `attempts` times.
 *
 *   const r = await provisionDevice({ url: 'mqtts://broker:8883', ca: rootPem, claimCert, claimKey,
 *     template: 'sensor', attributes: { serialNumber: 'SN0001' }, subject: 'CN=sensor-SN0001' });
 *   await proveIdentity({ url, ca: rootPem, cert: r.chainPem, key: r.keyPem, topic: r.deviceTopic });
 */
export interface DeviceConnection {
  /** `mqtts://HOST:PORT`. */
  url: string;
  /** Trust anchors (PEM): the broker's certificate and the issued chain are checked against them. */
  ca: string;
  /** Name checked in the broker's certificate; default the URL's host. */
  servername?: string;
  /** MQTT protocol version. Default 5. */
  protocol?: 5 | '3.1.1';
  /** Connection timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
}

export interface ProvisionDeviceOptions extends DeviceConnection {
  /** The claim certificate (PEM, leaf then its chain) and its key (PEM). */
  claimCert: string;
  claimKey: string;
  template: string;
  /** Device attributes (serial number…). */
  attributes?: Readonly<Record<string, string>>;
  /** `csr` (default): make a key here and send a CSR; `create-key`: the service makes the key. */
  mode?: 'csr' | 'create-key';
  /** CSR mode: the subject (RFC 4514 text) and SAN (`uri:…`, `dns:…`) to ask for. */
  subject?: string;
  san?: readonly string[];
  /** CSR mode: key type. Default ec-p256. */
  keyType?: KeyType;
  /** Payload encoding. Default json. */
  format?: PayloadFormat;
  /** Topic root of the provisioning tree. Default `provisioning`. */
  topicRoot?: string;
  /** Request id (retries of one provisioning reuse it). Default random. */
  requestId?: string;
  /** Wait for an answer before re-sending. Default 10 000 ms. */
  retryMs?: number;
  /** Sends at most. Default 3. */
  attempts?: number;
  /** Validation time (tests). */
  now?: () => number;
}

export interface ProvisionedDevice {
  privateKey: PrivateKey;
  /** Unencrypted PKCS#8 PEM of `privateKey`. */
  keyPem: string;
  certificate: Certificate;
  /** The certificate and the CA certificates below the anchor, in path order. */
  chain: Certificate[];
  /** PEM of `chain` (what the device presents to the broker). */
  chainPem: string;
  /** The device's own topic tree, as the service named it. */
  deviceTopic: string;
  /** The service had answered this request id before. */
  replayed: boolean;
  requestId: string;
}

/** A random topic level (client id, token, request id): 128 bits, hex. */
function token(): string {
  return randomBytes(16).toString('hex');
}

/** The claim identity: the claim certificate's CN (the broker uses it as the username). */
export function claimIdentity(claimCertPem: string): string {
  const leaf = parseCertificates(claimCertPem)[0];
  const cn = leaf?.subject.commonName;
  if (!cn || !/^claim-[a-z0-9][a-z0-9-]{0,39}$/.test(cn))
    throw new ProvisionError('bad-input', 'the claim certificate has no claim-<label> CN');
  return cn;
}

/** Connects to the broker over mutual TLS; rejects with `connect-failed` (the TLS alert or CONNACK code). */
export function connectMqtt(
  c: DeviceConnection & { cert: string; key: string; clientId: string },
): Promise<MqttClient> {
  const u = new URL(c.url);
  if (u.protocol !== 'mqtts:' || !u.hostname || !u.port)
    return Promise.reject(
      new ProvisionError('bad-input', `the broker URL must be mqtts://HOST:PORT, got ${c.url}`),
    );
  const opts: IClientOptions = {
    protocol: 'mqtts',
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port),
    protocolVersion: c.protocol === '3.1.1' ? 4 : 5,
    clientId: c.clientId,
    clean: true,
    ca: c.ca,
    cert: c.cert,
    key: c.key,
    servername: c.servername ?? (/^[0-9.:[\]]+$/.test(u.hostname) ? undefined : u.hostname),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: c.connectTimeoutMs ?? 10_000,
  };
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(opts);
    const fail = (e: Error) => {
      client.end(true);
      reject(new ProvisionError('connect-failed', `cannot connect to ${u.host}: ${e.message}`, { cause: e }));
    };
    client.once('connect', () => {
      client.removeListener('error', fail);
      client.on('error', () => {}); // later errors surface as failed operations
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

/** Subscribes; `not-authorized` when the broker refuses (SUBACK 0x80 in 3.1.1, ≥ 0x80 in 5). */
export async function subscribeChecked(client: MqttClient, filter: string): Promise<void> {
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  const code = granted[0]?.qos;
  if (code === undefined || code > 2)
    throw new ProvisionError(
      'not-authorized',
      `the broker refused the subscription to ${filter} (0x${(code ?? 0x80).toString(16)})`,
    );
}

/** Runs one provisioning (see the header). */
export async function provisionDevice(o: ProvisionDeviceOptions): Promise<ProvisionedDevice> {
  const claim = claimIdentity(o.claimCert);
  const anchors = parseCertificates(o.ca);
  const root = o.topicRoot ?? 'provisioning';
  const format = o.format ?? 'json';
  const mode = o.mode ?? 'csr';
  const requestId = o.requestId ?? token();
  let privateKey: PrivateKey | undefined;
  let request: ProvisionRequest;
  if (mode === 'csr') {
    if (!o.subject) throw new ProvisionError('bad-input', 'CSR mode needs a subject');
    privateKey = (await generateKeyPair(o.keyType ?? 'ec-p256')).privateKey;
    const b = new CsrBuilder().subject(o.subject);
    if (o.san?.length) b.subjectAltName(o.san);
    const csr = await b.sign(await KeySigner.create(privateKey));
    request = { requestId, template: o.template, attributes: o.attributes ?? {}, csr: csr.der };
  } else request = { requestId, template: o.template, attributes: o.attributes ?? {}, createKey: {} };

  const clientId = token();
  const client = await connectMqtt({ ...o, cert: o.claimCert, key: o.claimKey, clientId });
  let answer: ProvisionAnswer;
  try {
    await subscribeChecked(client, responseFilter(root, claim, clientId));
    answer = await exchange(client, {
      v5: o.protocol !== '3.1.1',
      root,
      claim,
      clientId,
      format,
      payload: encodeRequest(request, format),
      requestId,
      retryMs: o.retryMs ?? 10_000,
      attempts: o.attempts ?? 3,
    });
  } finally {
    await client.endAsync().catch(() => undefined);
  }
  if (isErrorAnswer(answer)) throw new ProvisionError(answer.error.code, answer.error.message);

  const certs = answer.certificates.map((d) => {
    try {
      return parseCertificate(d);
    } catch (e) {
      throw new ProvisionError(
        'bad-answer',
        `a certificate in the answer does not parse: ${(e as Error).message}`,
      );
    }
  });
  if (mode === 'create-key') {
    if (!answer.privateKey)
      throw new ProvisionError('bad-answer', 'the answer to a create-key request has no key');
    try {
      privateKey = (await importKey(answer.privateKey, { format: 'pkcs8' })) as PrivateKey;
    } catch (e) {
      throw new ProvisionError(
        'bad-answer',
        `the key in the answer does not import: ${(e as Error).message}`,
      );
    }
  }
  const leaf = certs[0]!;
  if (Buffer.compare(Buffer.from(leaf.subjectPublicKeyInfo.der), Buffer.from(privateKey!.spki)) !== 0)
    throw new ProvisionError('bad-answer', 'the certificate in the answer is not for our key');
  const v = await verifyPath({
    leaf,
    intermediates: certs.slice(1),
    trustAnchors: anchors,
    purpose: 'clientAuth',
    time: o.now?.(),
  });
  if (!v.ok)
    throw new ProvisionError(
      'bad-answer',
      `the issued certificate does not validate: ${v.code}: ${v.message}`,
    );
  const chain = v.chain.slice(0, -1);
  return {
    privateKey: privateKey!,
    keyPem: encodePem('PRIVATE KEY', privateKey!.pkcs8),
    certificate: leaf,
    chain,
    chainPem: chain.map((c) => c.toPem()).join(''),
    deviceTopic: answer.deviceTopic,
    replayed: answer.replayed,
    requestId,
  };
}

/** Publishes the request and waits for its answer, re-sending on silence. */
async function exchange(
  client: MqttClient,
  x: {
    v5: boolean;
    root: string;
    claim: string;
    clientId: string;
    format: PayloadFormat;
    payload: Uint8Array;
    requestId: string;
    retryMs: number;
    attempts: number;
  },
): Promise<ProvisionAnswer> {
  const tok = token();
  const correlation = randomBytes(16);
  const answerTopic = responseTopic(x.root, x.claim, x.clientId, tok);
  return new Promise<ProvisionAnswer>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sent = 0;
    const done = (f: () => void) => {
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      client.removeListener('close', onClose);
      f();
    };
    const onMessage = (
      topic: string,
      payload: Buffer,
      packet: { properties?: { correlationData?: Buffer } },
    ) => {
      if (topic !== answerTopic) return;
      if (
        x.v5 &&
        packet.properties?.correlationData &&
        !correlation.equals(packet.properties.correlationData)
      )
        return;
      let a: ProvisionAnswer;
      try {
        a = decodeAnswer(payload, x.format);
      } catch (e) {
        return done(() =>
          reject(new ProvisionError('bad-answer', `undecodable answer: ${(e as Error).message}`)),
        );
      }
      // An answer for another request on our topic (a stale retry): keep waiting for ours.
      if (a.requestId !== undefined && a.requestId !== x.requestId) return;
      done(() => resolve(a));
    };
    const onClose = () =>
      done(() =>
        reject(
          new ProvisionError(
            'connect-failed',
            'the broker closed the connection while waiting for the answer',
          ),
        ),
      );
    const send = () => {
      if (sent >= x.attempts)
        return done(() => reject(new ProvisionError('timeout', `no answer after ${sent} attempts`)));
      sent++;
      const topic = x.v5
        ? requestTopic(x.root, x.claim, x.format)
        : requestTopic(x.root, x.claim, x.format, { clientId: x.clientId, token: tok });
      client.publish(
        topic,
        Buffer.from(x.payload),
        x.v5
          ? { qos: 1, properties: { responseTopic: answerTopic, correlationData: correlation } }
          : { qos: 1 },
        (err, packet) => {
          const rc = (packet as { reasonCode?: number } | undefined)?.reasonCode;
          if (err || (rc !== undefined && rc >= 0x80))
            done(() =>
              reject(
                new ProvisionError(
                  'not-authorized',
                  `the broker refused the request: ${err?.message ?? `reason code 0x${rc!.toString(16)}`}`,
                ),
              ),
            );
        },
      );
      timer = setTimeout(send, x.retryMs);
    };
    client.on('message', onMessage);
    client.once('close', onClose);
    send();
  });
}

/**
 * Proves a new identity: connects with it, subscribes to `<topic>/provisioned` and publishes there
 * (QoS 1), and resolves when its own message comes back — what only a client the broker accepts
 * and lets use that tree can do (MQTT 3.1.1 brokers drop refused publishes silently, so the echo,
 * not the PUBACK, is the proof).
 */
export async function proveIdentity(
  c: DeviceConnection & { cert: string; key: string; topic: string; timeoutMs?: number },
): Promise<void> {
  const client = await connectMqtt({ ...c, clientId: token() });
  try {
    const topic = `${c.topic}/provisioned`;
    await subscribeChecked(client, topic);
    const nonce = token();
    const echoed = new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new ProvisionError('timeout', `own message on ${topic} did not come back`)),
        c.timeoutMs ?? 10_000,
      );
      client.on('message', (tp, payload) => {
        if (tp === topic && payload.toString() === nonce) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const ack = await client.publishAsync(topic, nonce, { qos: 1 });
    const rc = (ack as { reasonCode?: number } | undefined)?.reasonCode;
    if (rc !== undefined && rc >= 0x80)
      throw new ProvisionError(
        'not-authorized',
        `the broker refused the publication on ${topic} (0x${rc.toString(16)})`,
      );
    await echoed;
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}
