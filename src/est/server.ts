import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Authority } from '../ca/authority.js';
import { CaError, REQUEST_ERROR_CODES } from '../ca/errors.js';
import type { CaLogger } from '../ca/logger.js';
import { type IssueResult, verifyRequest } from '../ca/pipeline.js';
import { sanEntry } from '../ca/policy.js';
import type { CertificateRecord, EnrollmentCredential } from '../ca/store/types.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { KeySigner } from '../crypto/signer.js';
import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DerWriter } from '../der/writer.js';
import { CsrBuilder } from '../issue/csr.js';
import { PeerVerifier } from '../mtls/peer-verifier.js';
import { CrlRevocation } from '../mtls/revocation.js';
import { RevocationError } from '../revocation/errors.js';
import type { RevocationChecker, RevocationContext, RevocationStatus } from '../verify/policy.js';
import type { Certificate } from '../x509/certificate.js';
import type { CertificationRequest } from '../x509/csr.js';
import { curveByName } from '../x509/curves.js';
import { type BootstrapTrust, loadBootstrapTrust } from './bootstrap.js';
import { bindingPassword, channelBinding } from './channel-binding.js';
import { encodeCertsOnly } from './cms.js';
import {
  type EstConfig,
  type EstCredentialKind,
  type EstLabelConfig,
  parseEstConfig,
  subjectRegExp,
} from './config.js';
import { checkEnrollmentCredential, parseBasic } from './credentials.js';
import { type AttrOrOid, encodeCsrAttrs } from './csrattrs.js';
import { EstError } from './errors.js';
import { decodeBase64Body, EST_MEDIA_TYPES, encodeBase64Body } from './framing.js';
import { encodeServerKeygenResponse } from './multipart.js';

/**
 * The server side of EST (RFC 7030 with the RFC 8951 clarifications), over the Authority:
 *
 * | operation | credential | what |
 * |---|---|---|
 * | `GET cacerts` | none | the label's issuing CA chain, certs-only (§4.1) |
 * | `GET csrattrs` | none | what the CSR should carry (§4.5): challengePassword when channel binding is required, the key and signature algorithm |
 * | `POST simpleenroll` | bootstrap certificate or enrollment credential | a first certificate (§4.2.1) |
 * | `POST simplereenroll` | the device's own certificate | the same subject and SAN, same or new key (§4.2.2) |
 * | `POST serverkeygen` | as simpleenroll | the key made here, answered with the certificate as multipart, never stored (§4.4) |
 *
 * Authentication (`authenticate`) is decided per request with OUR path validation: the TLS client
 * certificate the connection carries (the service asks every client for one and lets OpenSSL decide
 * nothing, see mtls/server.ts) is validated against the label's bootstrap anchors and the CA's own
 * root, with revocation — the store's status for our certificates, the imported CRL for a bootstrap
 * CA's — or HTTP Basic carries a single-use enrollment credential (credentials.ts). Authorisation
 * (`enroll`): the label's credential kinds, its subject pattern, a bootstrap certificate's own
 * pattern (`{cn}`), a credential's bound subject; re-enrollment keeps subject and SAN; channel
 * binding when the label requires it. Everything refused here is refused before the Authority sees
 * the request: nothing is stored, and a credential is spent only by a request that was issued or
 * held for approval (a refusal by the Authority's policy gives it back).
 *
 * Request ids: EST carries none, so each enrollment's idempotency key is a hash of the label, the
 * operation, the credential and the CSR — the device polling a 202 with the same CSR finds its
 * request (approved: the certificate; rejected: 403), and a retried enrollment gets the certificate
 * issued the first time.
 */
export interface EstServerOptions {
  authority: Authority;
  /** Default: parsed from the Authority's configuration (`est` section). */
  config?: EstConfig;
  logger?: CaLogger;
  now?: () => number;
  /** How often imported bootstrap trust is re-read from the store (another instance, the CLI). Default 30 s. */
  trustRefreshMs?: number;
}

/** Who authenticated an EST request. */
export interface EstPrincipal {
  kind: EstCredentialKind | 'anonymous';
  /** Certificate fingerprint or credential user name. */
  id: string;
  /** The requester the Authority audits (`est:bootstrap:<fp>`, `est:device:<fp>`, `est:token:<user>`). */
  requester: string;
  /** The client certificate (bootstrap or device). */
  certificate?: Certificate;
  /** The device certificate's record (kind `device`). */
  record?: CertificateRecord;
  /** The enrollment credential (kind `token`). */
  credential?: EnrollmentCredential;
}

/** An answer: status, headers and a text body. */
export interface EstAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type EstOperation = 'cacerts' | 'simpleenroll' | 'simplereenroll' | 'csrattrs' | 'serverkeygen';

interface LabelState {
  config: EstLabelConfig;
  verifier: PeerVerifier;
  trust: BootstrapTrust;
  subject: RegExp;
}

export class EstServer {
  readonly config: EstConfig;
  /** The Authority it enrolls with. */
  readonly authority: Authority;
  private readonly ca: Authority;
  private readonly log?: CaLogger;
  private readonly now: () => number;
  private labels = new Map<string, LabelState>();
  private timer?: ReturnType<typeof setInterval>;
  /** Our issuers by certificate DER (base64), for status lookups and device recognition. */
  private ours = new Map<string, string>();

  private constructor(o: EstServerOptions) {
    this.ca = o.authority;
    this.authority = o.authority;
    this.config = o.config ?? parseEstConfig(o.authority.config);
    this.log = o.logger;
    this.now = o.now ?? Date.now;
  }

  static async create(o: EstServerOptions): Promise<EstServer> {
    const s = new EstServer(o);
    await s.reload();
    const every = o.trustRefreshMs ?? 30_000;
    if (every > 0) {
      s.timer = setInterval(() => {
        s.reload().catch((e) => s.log?.error({ err: String(e) }, 'EST: reloading bootstrap trust failed'));
      }, every);
      s.timer.unref?.();
    }
    return s;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-reads the hierarchy and every label's bootstrap trust (imports take effect). */
  async reload(): Promise<void> {
    const ours = new Map<string, string>();
    const intermediates: Certificate[] = [];
    for (const info of this.ca.issuers()) {
      const cert = this.ca.chain(info.id)[0]!;
      ours.set(derKey(cert), info.id);
      if (info.role === 'intermediate' && info.status !== 'retired') intermediates.push(cert);
    }
    this.ours = ours;
    const next = new Map<string, LabelState>();
    for (const c of Object.values(this.config.labels)) {
      const trust = await loadBootstrapTrust(this.ca, c.name, c.bootstrapCaFiles);
      const old = this.labels.get(c.name)?.verifier;
      next.set(c.name, {
        config: c,
        trust,
        subject: subjectRegExp(c.subject),
        verifier: new PeerVerifier({
          trustAnchors: [
            this.ca.rootCertificate(),
            ...(c.credentials.includes('bootstrap') ? trust.anchors : []),
          ],
          intermediates,
          purpose: 'clientAuth',
          revocation: new EstRevocation(this.ca, ours, trust),
          certificateCache: old?.certificateCache,
          signatureCache: old?.signatureCache,
          now: this.now,
        }),
      });
    }
    this.labels = next;
  }

  /** A label's bootstrap trust as last loaded. */
  trust(label: string): BootstrapTrust {
    return this.state(label).trust;
  }

  /** The label's configuration (`default` for none); `not-found` for an unknown label. */
  label(name: string | undefined): EstLabelConfig {
    return this.state(name).config;
  }

  private state(name: string | undefined): LabelState {
    const s = this.labels.get(name ?? 'default');
    if (!s) throw new EstError('not-found', `no EST label "${String(name).slice(0, 64)}"`);
    return s;
  }

  /**
   * Who is asking: a Basic enrollment credential when the request carries one, else the client
   * certificate, else nobody (`anonymous` for /cacerts and /csrattrs, `unauthorized` for the rest).
   * Throws `unauthorized`, `credential-expired`, `credential-used` or `client-certificate`
   * refusals (as EstError `unauthorized` with the validation's reason).
   */
  async authenticate(
    label: string | undefined,
    op: EstOperation,
    req: { socket: TLSSocket; authorization?: string },
  ): Promise<EstPrincipal> {
    const st = this.state(label);
    if (op === 'cacerts' || op === 'csrattrs')
      return { kind: 'anonymous', id: '-', requester: 'est:anonymous' };
    const basic = parseBasic(req.authorization);
    if (basic) {
      if (!st.config.credentials.includes('token'))
        throw new EstError(
          'credential-not-accepted',
          `label "${st.config.name}" takes no enrollment credentials`,
        );
      const credential = await checkEnrollmentCredential(
        this.ca,
        basic.username,
        basic.password,
        st.config.name,
        this.now(),
      );
      return { kind: 'token', id: credential.id, requester: `est:token:${credential.id}`, credential };
    }
    const verdict = await st.verifier.verifySocket(req.socket);
    if (!verdict.ok && verdict.error.code === 'no-peer-certificate')
      throw new EstError(
        'unauthorized',
        'EST enrollment needs a client certificate or an enrollment credential',
      );
    if (!verdict.ok) {
      const e = verdict.error;
      throw new EstError('unauthorized', `client certificate refused: ${e.verifyCode ?? e.code}`, {
        cause: e,
      });
    }
    const id = verdict.identity;
    const anchor = id.chain[id.chain.length - 1]!;
    const fp = id.fingerprint256;
    if (!bytesEqual(anchor.der, this.ca.rootCertificate().der))
      return {
        kind: 'bootstrap',
        id: fp,
        requester: `est:bootstrap:${fp.slice(0, 16)}`,
        certificate: id.certificate,
      };
    const issuerId = this.ours.get(derKey(id.issuer));
    const record = issuerId ? await this.ca.store.getCertificate(issuerId, id.serialHex) : undefined;
    if (record?.state !== 'issued' || record.fingerprint !== fp)
      throw new EstError('unauthorized', 'client certificate refused: not a certificate of this CA');
    return {
      kind: 'device',
      id: fp,
      requester: `est:device:${fp.slice(0, 16)}`,
      certificate: id.certificate,
      record,
    };
  }

  /** /cacerts: the label's issuer chain, issuing CA first, root last (RFC 7030 §4.1.3). */
  cacerts(label: string | undefined): EstAnswer {
    const c = this.label(label);
    return certsOnly(encodeCertsOnly(this.ca.chain(c.issuer)));
  }

  /**
   * /csrattrs (RFC 7030 §4.5.2): challengePassword when the label requires channel binding, the
   * key type of the profile's first allowed EC curve (or RSA), and the signature algorithm.
   */
  csrattrs(label: string | undefined): EstAnswer {
    const c = this.label(label);
    const profile = this.ca.profile(c.profile)!;
    const attrs: AttrOrOid[] = [];
    if (c.channelBinding === 'require') attrs.push({ oid: OID.challengePassword });
    const curve = profile.keyTypes.find((k) => k === 'ec-p256' || k === 'ec-p384');
    if (curve) {
      const w = new DerWriter();
      w.oid(curveByName(curve === 'ec-p256' ? 'P-256' : 'P-384')!.oid);
      attrs.push({ type: OID.ecPublicKey, values: [w.finish()] });
      attrs.push({ oid: curve === 'ec-p256' ? OID.ecdsaWithSHA256 : OID.ecdsaWithSHA384 });
    }
    return {
      status: 200,
      headers: { 'content-type': EST_MEDIA_TYPES.csrattrs },
      body: encodeBase64Body(encodeCsrAttrs(attrs)),
    };
  }

  /**
   * /simpleenroll, /simplereenroll, /serverkeygen for an authenticated principal; `body` is the
   * base64 CSR (RFC 8951 §3.2), `socket` the connection (for channel binding).
   */
  async enroll(
    label: string | undefined,
    op: 'simpleenroll' | 'simplereenroll' | 'serverkeygen',
    who: EstPrincipal,
    body: string,
    socket: TLSSocket,
  ): Promise<EstAnswer> {
    const st = this.state(label);
    const c = st.config;
    const csr = this.readCsr(body);
    const cn = csr.subject.commonName;

    if (who.kind === 'anonymous') throw new EstError('unauthorized', 'no credential');
    if (!c.credentials.includes(who.kind))
      throw new EstError(
        'credential-not-accepted',
        `label "${c.name}" does not accept ${who.kind} credentials`,
      );
    if (op === 'simplereenroll' && who.kind !== 'device')
      throw new EstError(
        'credential-not-accepted',
        '/simplereenroll needs the certificate being renewed (RFC 7030 §4.2.2)',
      );
    if (op !== 'simplereenroll' && who.kind === 'device')
      throw new EstError(
        'credential-not-accepted',
        `/${op} needs a bootstrap certificate or an enrollment credential; a device re-enrolls with /simplereenroll`,
      );
    if (op === 'serverkeygen' && c.serverKeygen !== 'on')
      throw new EstError('not-found', `label "${c.name}" does not offer /serverkeygen`);
    if (c.channelBinding === 'require') this.checkBinding(csr, socket);

    if (op === 'simplereenroll') return this.reenroll(st, who, csr);

    // First enrollment: the label's subject rule, then the credential's own.
    if (cn === undefined || !st.subject.test(cn))
      throw new EstError(
        'subject-not-authorized',
        `commonName ${q(cn)} is outside label "${c.name}"'s subjects`,
      );
    if (who.kind === 'bootstrap') {
      const own = who.certificate!.subject.commonName ?? '';
      if (!subjectRegExp(c.bootstrapSubject, own).test(cn))
        throw new EstError(
          'subject-not-authorized',
          `bootstrap certificate ${q(own)} may not enroll ${q(cn)}`,
        );
    }
    if (who.kind === 'token' && who.credential!.subject !== undefined && who.credential!.subject !== cn)
      throw new EstError(
        'subject-not-authorized',
        `this enrollment credential may enroll ${q(who.credential!.subject)} only`,
      );
    const profile = this.ca.profile(c.profile)!;
    if (op === 'serverkeygen' && profile.approval === 'manual')
      throw new EstError(
        'forbidden',
        '/serverkeygen is not offered for a profile that needs approval (the key is never stored)',
      );

    const requestId = `est-${sha256(`${c.name}\n${op}\n${who.id}\n`, csr.der).slice(0, 48)}`;
    if (who.kind === 'token') {
      const use = await this.ca.store.useEnrollmentCredential(who.id, { at: this.now(), requestId });
      if (use === 'already-used')
        throw new EstError('credential-used', 'the enrollment credential was used already');
      if (use === 'not-found') throw new EstError('unauthorized', 'invalid enrollment credential');
    }
    try {
      if (op === 'serverkeygen') return await this.serverkeygen(c, who, csr, requestId);
      const r = await this.ca.issue(csr, { profile: c.profile, requester: who.requester, requestId });
      return this.answer(c, r);
    } catch (e) {
      // A request the Authority refused leaves the credential unspent (nothing was issued or held).
      if (
        who.kind === 'token' &&
        e instanceof CaError &&
        (REQUEST_ERROR_CODES.has(e.code) || e.code === 'forbidden')
      )
        await this.ca.store.releaseEnrollmentCredential(who.id, requestId).catch(() => undefined);
      throw e;
    }
  }

  private async reenroll(st: LabelState, who: EstPrincipal, csr: CertificationRequest): Promise<EstAnswer> {
    const rec = who.record!;
    const cert = who.certificate!;
    if (rec.profile !== st.config.profile)
      throw new EstError(
        'reenroll-mismatch',
        `the certificate is of profile ${rec.profile}, not label "${st.config.name}"'s`,
      );
    const sans = (x: { subjectAltName?: readonly Parameters<typeof sanEntry>[0][] }) =>
      (x.subjectAltName ?? []).map(sanEntry).sort().join('\n');
    if (!csr.subject.equals(cert.subject) || sans(csr) !== sans(cert))
      throw new EstError(
        'reenroll-mismatch',
        'a re-enrollment must keep the subject and subjectAltName of the certificate (RFC 7030 §4.2.2)',
      );
    const requestId = `est-${sha256(`${st.config.name}\nreenroll\n${rec.issuerId}/${rec.serialHex}\n`, csr.der).slice(0, 48)}`;
    const o = { requester: who.requester, requestId, issuerId: rec.issuerId };
    const sameKey = bytesEqual(csr.subjectPublicKeyInfo.der, cert.subjectPublicKeyInfo.der);
    const r = sameKey ? await this.ca.renew(rec.serialHex, o) : await this.ca.rekey(rec.serialHex, csr, o);
    return this.answer(st.config, r);
  }

  private async serverkeygen(
    c: EstLabelConfig,
    who: EstPrincipal,
    csr: CertificationRequest,
    requestId: string,
  ): Promise<EstAnswer> {
    const pair = await generateKeyPair(c.serverKeygenKeyType);
    const b = new CsrBuilder().subject(csr.subject);
    if (csr.subjectAltName?.length) b.subjectAltName(csr.subjectAltName);
    const ours = await b.sign(await KeySigner.create(pair.privateKey));
    const r = await this.ca.issue(ours, { profile: c.profile, requester: who.requester, requestId });
    if (r.status !== 'issued') throw new EstError('forbidden', 'the request was held for approval');
    // RFC 7030 §4.4.2: the key as PKCS#8, unencrypted inside this TLS connection; kept nowhere.
    const key = await exportKey(pair.privateKey, { format: 'pkcs8', encoding: 'der' });
    const m = encodeServerKeygenResponse({ privateKey: key, certsOnly: encodeCertsOnly([r.der]) });
    key.fill(0);
    return { status: 200, headers: { 'content-type': m.contentType }, body: m.body };
  }

  private answer(c: EstLabelConfig, r: IssueResult): EstAnswer {
    if (r.status === 'pending')
      // RFC 7030 §4.2.3: 202 and Retry-After; the device repeats the same request.
      return {
        status: 202,
        headers: { 'retry-after': String(c.retryAfterSeconds), 'content-type': 'text/plain; charset=utf-8' },
        body: `request ${r.pendingId} awaits approval; retry after ${c.retryAfterSeconds} s\n`,
      };
    this.log?.info({ serialHex: r.serialHex, profile: r.profile, label: c.name }, 'EST: certificate issued');
    return certsOnly(encodeCertsOnly([r.der]));
  }

  private readCsr(body: string): CertificationRequest {
    let der: Uint8Array;
    try {
      der = decodeBase64Body(body, { maxBytes: 64 * 1024 });
    } catch (e) {
      if (e instanceof EstError)
        throw new EstError('bad-request', `the body is not a base64 CSR: ${e.message}`, { cause: e });
      throw e;
    }
    // Proof of possession and key soundness, before any policy (CaError malformed-csr / bad-csr-signature).
    return verifyRequest(der);
  }

  private checkBinding(csr: CertificationRequest, socket: TLSSocket): void {
    const b = channelBinding(socket, 'server');
    if (!b)
      throw new EstError(
        'channel-binding-failed',
        'this TLS connection has no channel binding (TLS 1.2 or 1.3 needed)',
      );
    if (csr.challengePassword === undefined)
      throw new EstError(
        'channel-binding-failed',
        `the CSR carries no challengePassword with the ${b.type} binding (RFC 7030 §3.5)`,
      );
    if (csr.challengePassword.replace(/\s+/g, '') !== bindingPassword(b))
      throw new EstError(
        'channel-binding-failed',
        `the CSR's challengePassword is not this TLS session's ${b.type} binding: made for another connection?`,
      );
  }
}

/**
 * Revocation for EST client certificates: our own certificates (devices, our intermediates) from
 * the store; a bootstrap CA's from its imported CRL; a bootstrap CA imported without a CRL: not
 * checked (see bootstrap.ts).
 */
class EstRevocation implements RevocationChecker {
  private readonly crls = new Map<string, CrlRevocation>();

  constructor(
    private readonly ca: Authority,
    private readonly ours: ReadonlyMap<string, string>,
    trust: BootstrapTrust,
  ) {
    for (const crl of trust.crls) this.crls.set(toHex(crl.issuer.der), new CrlRevocation([crl]));
  }

  check(ctx: RevocationContext): RevocationStatus | Promise<RevocationStatus> {
    const issuerId = this.ours.get(derKey(ctx.issuer));
    if (issuerId !== undefined)
      return this.ca.store.status(issuerId, ctx.cert.serialHex).then((s) => {
        if (s === undefined) return { status: 'unknown', why: 'this CA has no record of the serial' };
        if (s.status === 'good') return { status: 'good' };
        return { status: 'revoked', reason: s.reason ?? 'unspecified', revocationDate: s.revocationTime };
      });
    const crl = this.crls.get(toHex(ctx.issuer.subject.der));
    return crl ? crl.check(ctx) : { status: 'good' };
  }

  checkSync(ctx: RevocationContext): RevocationStatus {
    if (this.ours.has(derKey(ctx.issuer)))
      throw new RevocationError('async-required', 'the store answers asynchronously');
    const crl = this.crls.get(toHex(ctx.issuer.subject.der));
    return crl ? crl.checkSync(ctx) : { status: 'good' };
  }
}

function certsOnly(der: Uint8Array): EstAnswer {
  return { status: 200, headers: { 'content-type': EST_MEDIA_TYPES.certsOnly }, body: encodeBase64Body(der) };
}

function derKey(c: Certificate): string {
  return Buffer.from(c.der.buffer, c.der.byteOffset, c.der.byteLength).toString('base64');
}

function sha256(prefix: string, der: Uint8Array): string {
  return createHash('sha256').update(prefix, 'utf8').update(der).digest('hex');
}

function q(s: string | undefined): string {
  return s === undefined ? '(none)' : JSON.stringify(s.slice(0, 64));
}
