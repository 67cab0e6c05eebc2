import { CryptoError } from '../crypto/errors.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { Signer } from '../crypto/signer.js';
import { assembleSigned } from '../issue/assemble.js';
import { CertificateBuilder, type Prepared } from '../issue/certificate.js';
import { verifyCsr, verifyCsrAsync } from '../issue/csr.js';
import { IssueError, LintError } from '../issue/errors.js';
import type { Issuer } from '../issue/issuer.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { type CertificationRequest, parseCsr } from '../x509/csr.js';
import { keyUsage as makeKeyUsage } from '../x509/extensions/key-usage.js';
import type { GeneralName } from '../x509/general-name.js';
import type { Name } from '../x509/name.js';
import type { SubjectPublicKeyInfo } from '../x509/spki.js';
import { CaError, type CaErrorCode } from './errors.js';
import { type LoadedIssuer, sha256Hex } from './hierarchy.js';
import { checkKeyParameters, invalidKey } from './key-check.js';
import type { CaLogger } from './logger.js';
import { checkPolicy, type PolicyInput, sanEntry, type Validator } from './policy.js';
import { type CaProfile, ekuOids, RULE_SECTIONS, requesterAllowed } from './profiles.js';
import { type AuditEvent, type Store, StoreError } from './store/types.js';

/**
 * The issuance pipeline (STYLE §5): fixed, typed stages, in this order —
 *
 *   1. verify    parse the CSR (`malformed-csr`), check its key is sound (`weak-key`), verify its
 *                signature with that key: proof of possession (`bad-csr-signature`)
 *   2. authorise the profile exists (`unknown-profile`), the requester may use it (`forbidden`),
 *                its issuer is active (`issuer-unavailable`)
 *   3. build     the certificate from the profile only (CSR extensions are never copied: the
 *                subject, key and SAN are all a requester chooses); validity within the profile's
 *   4. policy    the `Validator`s of policy.ts: key type and size, subject ≠ CA, subject, SAN,
 *                wildcards, URI schemes, CN in SAN, the issuing chain's name constraints
 *   5. lint      issue/lint.ts on the exact TBSCertificate about to be signed (`lint-failed`)
 *   6. reserve   `store.reserve`: the serial and the proposed TBS, durable (a taken serial is redrawn)
 *   7. sign      with the issuer's real key; the signature is verified before it leaves
 *   8. store     `store.complete` with its audit record (the same transaction), then return
 *
 * Everything that can refuse a request runs before stage 6: a refused request writes one audit
 * record `refused:<code>` and nothing else, and no CA key is used. A failure in 7–8 voids the
 * reservation (`failed:<code>`), so a serial no client received never becomes `good` in OCSP.
 */

/** What stages 2–8 work on: the request as the certificate will carry it. */
export interface IssuanceInput {
  action: 'issue' | 'renew' | 'rekey' | 'approve';
  profile: CaProfile;
  requester: string;
  requestId?: string;
  subject: Name;
  spki: SubjectPublicKeyInfo;
  sans: readonly GeneralName[];
  validityDays?: number;
  /** Extra audit detail (e.g. the certificate renewed, the pending request approved). */
  detail?: Record<string, unknown>;
}

/** A freshly issued certificate and where it sits. */
export interface IssuedResult {
  status: 'issued';
  /** The certificate, parsed (on first use). */
  readonly certificate: Certificate;
  der: Uint8Array;
  serialHex: string;
  issuerId: string;
  profile: string;
  /** The subject as RFC 4514 text and the subjectAltName entries (`dns:…`), as stored. */
  subject: string;
  sans: readonly string[];
  notBefore: number;
  notAfter: number;
  /** SHA-256 of `der`, lower-case hex. */
  fingerprint: string;
  /** The issuing CA's certificate then the ones above it, root last (what EST's certs-only returns with the leaf). */
  chain: readonly Certificate[];
  /** True when a retried `requestId` returned the certificate issued the first time. */
  replayed: boolean;
}

/** A request stored for manual approval (EST answers 202 with Retry-After). */
export interface PendingResult {
  status: 'pending';
  pendingId: string;
  profile: string;
}

/** What `Authority.issue` resolves to. */
export type IssueResult = IssuedResult | PendingResult;

/** An IssuedResult whose `certificate` is parsed on first use (EST and the CLI only need `der`). */
function issuedResult(r: Omit<IssuedResult, 'status' | 'certificate'>): IssuedResult {
  let parsed: Certificate | undefined;
  return {
    status: 'issued',
    get certificate() {
      parsed ??= parseCertificate(r.der);
      return parsed;
    },
    ...r,
  };
}

/** What the pipeline needs from the Authority. */
export interface PipelineDeps {
  store: Store;
  /** Verifies each new signature before it leaves (`verifyAsync`). */
  crypto: CryptoProvider;
  now: () => number;
  logger: CaLogger;
  validators: readonly Validator[];
  /** The active issuer of a lineage, and its signer (`issuer-unavailable` when there is none). */
  issuerFor(lineage: string): Promise<{ issuer: LoadedIssuer; signer: Signer; ca: Issuer }>;
  /** Any stored issuer by id. */
  issuerForId(id: string): LoadedIssuer | undefined;
  /** cRLDistributionPoints and OCSP URLs for an issuer id. */
  revocationUrls(profile: CaProfile, issuerId: string): { crl: string[]; ocsp: string[] };
}

/** How many times a taken serial is redrawn (134 random bits: a second draw never collides in practice). */
const MAX_SERIAL_DRAWS = 4;
const DAY_MS = 86_400_000;

/**
 * Request objects that passed stage 1 here. A front end that verifies a CSR before its own policy
 * (EST: proof of possession first, then the label's rules) hands the same object to
 * `Authority.issue`, which then does not verify the signature a second time. Keyed by identity:
 * only objects this module verified are in it (bytes and text never are), and their fields are
 * read-only.
 */
const proven = new WeakSet<CertificationRequest>();

/** Stage 1: parse, key soundness, proof of possession. */
export function verifyRequest(input: CertificationRequest | Uint8Array | string): CertificationRequest {
  if (proven.has(input as CertificationRequest)) return input as CertificationRequest;
  const csr = parseRequest(input);
  try {
    verifyCsr(csr);
  } catch (e) {
    throw verifyFailure(csr, e);
  }
  proven.add(csr);
  return csr;
}

/**
 * Stage 1 with the signature checked by `crypto.verifyAsync` — a provider may run it off the event
 * loop (crypto/ `VerifyPool`). Same answers and errors as `verifyRequest`.
 */
export async function verifyRequestAsync(
  input: CertificationRequest | Uint8Array | string,
  crypto: CryptoProvider,
): Promise<CertificationRequest> {
  if (proven.has(input as CertificationRequest)) return input as CertificationRequest;
  const csr = parseRequest(input);
  try {
    await verifyCsrAsync(csr, { provider: crypto });
  } catch (e) {
    throw verifyFailure(csr, e);
  }
  proven.add(csr);
  return csr;
}

function parseRequest(input: CertificationRequest | Uint8Array | string): CertificationRequest {
  let csr: CertificationRequest;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      csr = parseCsr(input);
    } catch (e) {
      throw new CaError('malformed-csr', `malformed CSR: ${(e as Error).message}`);
    }
  } else csr = input;
  checkKeyParameters(csr.subjectPublicKeyInfo);
  return csr;
}

function verifyFailure(csr: CertificationRequest, e: unknown): unknown {
  // The platform decodes the key before it verifies anything: a key it refuses is unsound.
  if (isBadKey(e) || isBadKey((e as Error).cause)) return invalidKey(csr.subjectPublicKeyInfo);
  if (e instanceof IssueError) {
    const code: CaErrorCode =
      e.code === 'csr-bad-signature'
        ? 'bad-csr-signature'
        : e.code === 'csr-unsupported-algorithm'
          ? 'unsupported-algorithm'
          : 'malformed-csr';
    return new CaError(code, e.message, {
      rule: 'proofOfPossession',
      section: RULE_SECTIONS.proofOfPossession,
    });
  }
  if (e instanceof CryptoError) return new CaError('unsupported-algorithm', e.message);
  return e;
}

function isBadKey(e: unknown): boolean {
  return e instanceof CryptoError && e.code === 'bad-key';
}

/** Stage 2 (the part that needs no store): the requester may use the profile. */
export function authorise(profile: CaProfile, requester: string): void {
  if (!requesterAllowed(profile.requesters, requester))
    throw new CaError('forbidden', `${requester} may not use profile ${profile.name}`, {
      profile: profile.name,
    });
}

/** Stages 2–8 (stage 1 is `verifyRequest`). */
export class IssuancePipeline {
  constructor(private readonly d: PipelineDeps) {}

  /**
   * Stages 2–5 for a request whose CSR (if any) passed stage 1: returns the prepared TBS and the
   * issuer to sign with, or throws the refusal (after auditing it).
   */
  async check(input: IssuanceInput): Promise<Checked> {
    try {
      authorise(input.profile, input.requester);
      const { issuer, signer, ca } = await this.d.issuerFor(input.profile.issuer);
      const policy: PolicyInput = {
        profile: input.profile,
        subject: input.subject,
        spki: input.spki,
        sans: input.sans,
        issuer: issuer.certificate,
        issuerChain: issuer.chain,
      };
      const builder = this.build(input, issuer, ca);
      checkPolicy(policy, this.d.validators);
      return { builder, issuer, signer, prepared: this.lint(builder) };
    } catch (e) {
      throw await this.refused(input, e);
    }
  }

  /** Stages 6–8 for a checked request. */
  async issue(input: IssuanceInput, c: Checked): Promise<IssuedResult> {
    const { store, now } = this.d;
    let prepared = c.prepared;
    const issuerId = c.issuer.id;
    let serialHex = '';
    const subject = input.subject.toString();
    const sans = input.sans.map(sanEntry);
    for (let draw = 1; ; draw++) {
      serialHex = serialKeyOf(prepared.serialNumber);
      const r = await this.store(() =>
        store.reserve({
          issuerId,
          serialHex,
          profile: input.profile.name,
          subject,
          sans,
          notBefore: prepared.notBefore,
          notAfter: prepared.notAfter,
          // A compact copy: `tbs` is a view into the buffer the certificate is assembled in, with
          // room for its signature (issue/assemble.ts), and the store posts it to its writer thread.
          tbs: prepared.tbs.slice(),
          requester: input.requester,
          requestId: input.requestId,
          reservedAt: now(),
        }),
      );
      if (r === 'reserved') break;
      if (r === 'request-exists') return this.replay(input);
      if (draw >= MAX_SERIAL_DRAWS)
        throw new CaError('store-failure', `serial collided ${draw} times: is the random source broken?`);
      prepared = this.lint(c.builder); // a fresh random serial
    }

    let der: Uint8Array;
    try {
      const s = c.signer;
      const sig = s.signSync ? s.signSync(prepared.tbs) : await s.sign(prepared.tbs);
      // A faulty signer (or an RSA-CRT fault that would leak the key) never releases a bad signature.
      if (
        !(await this.d.crypto.verifyAsync(
          s.algorithm,
          c.issuer.certificate.subjectPublicKeyInfo.der,
          prepared.tbs,
          sig,
        ))
      )
        throw new CaError('sign-failed', 'the new signature does not verify with the issuer key');
      // An exact copy: the assembly buffer may end with unused room for a longer signature.
      der = assembleSigned(prepared.assembly, prepared.issuer.signatureAlgorithm, sig).der.slice();
    } catch (e) {
      const err =
        e instanceof CaError ? e : new CaError('sign-failed', `signing failed: ${(e as Error).message}`);
      await this.voidReservation(issuerId, serialHex, input, err.code);
      throw err;
    }

    const fingerprint = sha256Hex(der);
    const issuedAt = now();
    try {
      await this.store(() =>
        store.complete(
          { issuerId, serialHex, der, fingerprint, issuedAt },
          this.audit(input, 'ok', { issuerId, serialHex, fingerprint }),
        ),
      );
    } catch (e) {
      await this.voidReservation(issuerId, serialHex, input, 'store-failure');
      throw e;
    }
    this.d.logger.info(
      { action: input.action, profile: input.profile.name, issuerId, serialHex, requester: input.requester },
      'certificate issued',
    );
    return issuedResult({
      der,
      serialHex,
      issuerId,
      profile: input.profile.name,
      subject,
      sans,
      notBefore: prepared.notBefore,
      notAfter: prepared.notAfter,
      fingerprint,
      chain: [c.issuer.certificate, ...c.issuer.chain],
      replayed: false,
    });
  }

  /** A request with a `requestId` seen before: the certificate issued then, if it is for the same key. */
  async replay(input: IssuanceInput): Promise<IssuedResult> {
    const rec = input.requestId ? await this.d.store.findByRequestId(input.requestId) : undefined;
    if (rec?.state !== 'issued' || !rec.der)
      throw new CaError(
        'request-conflict',
        `request ${input.requestId} was made before and ${rec?.state === 'reserved' ? 'is still in progress' : 'did not complete'}`,
      );
    const certificate = parseCertificate(rec.der);
    const same =
      sha256Hex(certificate.subjectPublicKeyInfo.der) === sha256Hex(input.spki.der) &&
      certificate.subject.equals(input.subject);
    if (!same)
      throw new CaError('request-conflict', `request ${input.requestId} was used for a different request`);
    const issuer = this.d.issuerForId(rec.issuerId);
    return issuedResult({
      der: rec.der,
      serialHex: rec.serialHex,
      issuerId: rec.issuerId,
      profile: rec.profile,
      subject: rec.subject,
      sans: rec.sans,
      notBefore: rec.notBefore,
      notAfter: rec.notAfter,
      fingerprint: rec.fingerprint ?? sha256Hex(rec.der),
      chain: issuer ? [issuer.certificate, ...issuer.chain] : [],
      replayed: true,
    });
  }

  /** Stage 3: the certificate from the profile (subject, key and SAN are all the request supplies). */
  private build(input: IssuanceInput, issuer: LoadedIssuer, ca: Issuer): CertificateBuilder {
    const p = input.profile;
    const days = input.validityDays ?? p.validityDays;
    if (!Number.isInteger(days) || days < 1 || days > p.maxValidityDays)
      throw new CaError(
        'validity-not-allowed',
        `validity of ${days} days is outside 1..${p.maxValidityDays} for profile ${p.name}`,
        { rule: 'validity', section: RULE_SECTIONS.validity },
      );
    const eku = ekuOids(p);
    const b = new CertificateBuilder(eku.includes(EKU_SERVER_AUTH) ? 'server' : 'device', {
      now: this.d.now,
      validityClamp: 'clamp',
    })
      .subject(input.subject)
      .publicKey(input.spki)
      .issuer(ca)
      .notBefore(this.d.now() - BACKDATE_MS)
      .notAfter(this.d.now() + days * DAY_MS)
      .extKeyUsage(eku);
    if (input.sans.length) b.subjectAltName(input.sans, input.subject.isEmpty);
    if (p.keyUsage) b.keyUsage(makeKeyUsage(...p.keyUsage));
    const urls = this.d.revocationUrls(p, issuer.id);
    b.crlDistributionPoints(urls.crl.length ? urls.crl : null);
    b.authorityInfoAccess(urls.ocsp.length ? { ocsp: urls.ocsp } : null);
    return b;
  }

  /** Stage 5: the TBS with a fresh random serial, linted. */
  private lint(b: CertificateBuilder): Prepared {
    try {
      return b.prepare();
    } catch (e) {
      if (e instanceof LintError)
        throw new CaError('lint-failed', e.message, {
          rule: 'lint',
          section: RULE_SECTIONS.lint,
          findings: e.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
        });
      if (e instanceof IssueError) throw new CaError('lint-failed', e.message, { rule: 'lint' });
      throw e;
    }
  }

  /** Audits a refusal and returns the error to throw. */
  async refused(
    input: Pick<IssuanceInput, 'action' | 'requester' | 'detail'> & {
      profile?: CaProfile;
      subject?: Name;
    },
    e: unknown,
  ): Promise<unknown> {
    if (!(e instanceof CaError) || !isRefusal(e.code)) return e;
    try {
      await this.d.store.appendAudit([
        {
          time: this.d.now(),
          actor: input.requester,
          action: input.action,
          result: `refused:${e.code}`,
          detail: {
            profile: input.profile?.name,
            subject: input.subject?.toString().slice(0, 256),
            reason: e.message.slice(0, 300),
            ...(input.detail ?? {}),
          },
        },
      ]);
    } catch (err) {
      this.d.logger.error({ err: String(err) }, 'cannot audit a refused request');
    }
    this.d.logger.info({ action: input.action, code: e.code, requester: input.requester }, 'request refused');
    return e;
  }

  private audit(
    input: IssuanceInput,
    result: string,
    cert: { issuerId: string; serialHex: string; fingerprint?: string },
  ): AuditEvent {
    return {
      time: this.d.now(),
      actor: input.requester,
      action: input.action,
      result,
      issuerId: cert.issuerId,
      serialHex: cert.serialHex,
      fingerprint: cert.fingerprint,
      detail: {
        profile: input.profile.name,
        subject: input.subject.toString().slice(0, 256),
        ...(input.requestId ? { requestId: input.requestId.slice(0, 128) } : {}),
        ...(input.detail ?? {}),
      },
    };
  }

  private async voidReservation(
    issuerId: string,
    serialHex: string,
    input: IssuanceInput,
    code: CaErrorCode,
  ) {
    try {
      await this.d.store.voidReservation(
        issuerId,
        serialHex,
        this.audit(input, `failed:${code}`, { issuerId, serialHex }),
      );
    } catch (e) {
      // The recovery pass voids it later.
      this.d.logger.error({ err: String(e), issuerId, serialHex }, 'cannot void a reservation');
    }
  }

  private async store<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof StoreError)
        throw new CaError('store-failure', `store: ${e.message}`, {}, { cause: e });
      throw e;
    }
  }
}

/** A request that passed stages 2–5, ready to reserve and sign. */
export interface Checked {
  builder: CertificateBuilder;
  issuer: LoadedIssuer;
  signer: Signer;
  prepared: Prepared;
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** notBefore is set back so devices with slightly slow clocks accept a fresh certificate. */
const BACKDATE_MS = 5 * 60 * 1000;

function isRefusal(code: CaErrorCode): boolean {
  return ![
    'store-failure',
    'sign-failed',
    'closed',
    'key-unavailable',
    'passphrase-required',
    'bad-passphrase',
  ].includes(code);
}

function serialKeyOf(serial: Uint8Array): string {
  let s = serial;
  if (s.length > 1 && s[0] === 0) s = s.subarray(1);
  let h = '';
  for (const b of s) h += (b < 16 ? '0' : '') + b.toString(16);
  return h;
}
