import { BoundedMap, isCacheSize } from '../cache/bounded-map.js';
import { CryptoError } from '../crypto/errors.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { bytesEqual, concatBytes, toHex } from '../der/bytes.js';
import { parseSignatureAlgorithm, type SignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { Budget } from './budget.js';
import { needsInheritedParams } from './dsa-params.js';
import { errorRank, isFatal, VerifyError, type VerifyErrorCode } from './errors.js';
import type { ValidationPolicy } from './policy.js';
import { type SignatureVerifier, validatePath } from './validate.js';

/**
 * Path building (RFC 4158): from the leaf, depth-first with backtracking through candidate
 * issuers — trust anchors first, then untrusted intermediates, each group ordered by how well
 * the candidate's subjectKeyIdentifier matches the child's authorityKeyIdentifier (match, then
 * unknown, then mismatch). A candidate whose subject and key are already on the path is skipped
 * (RFC 4158 §5.2), so cross-signing cycles end. Each edge's signature is checked before
 * descending, so a branch that cannot verify costs one signature, not a subtree.
 *
 * Every path that reaches an anchor is handed to `validatePath`; ordinary failures are
 * recorded and the search goes on; a fatal failure (budget) ends it.
 */

export interface Attempt {
  /** Subjects of the path tried, leaf first, anchor last (when one was reached). */
  path: string[];
  code: VerifyErrorCode;
  message: string;
  certIndex: number;
}

export interface Candidate {
  /** Leaf first, ending with the certificate the anchor issued. */
  chain: Certificate[];
  anchor: Certificate;
  policySet: string[];
}

/** Collects failures and keeps the most specific (highest-ranked) one. */
export class AttemptLog {
  readonly attempts: Attempt[] = [];
  best: VerifyError | undefined;
  constructor(private readonly maxKept = 64) {}

  record(path: readonly Certificate[], e: VerifyError): void {
    if (!this.best || errorRank(e.code) > errorRank(this.best.code)) this.best = e;
    if (this.attempts.length < this.maxKept)
      this.attempts.push({
        path: path.map((c) => c.subject.toString()),
        code: e.code,
        message: e.message,
        certIndex: e.certIndex,
      });
  }
}

/**
 * Verified-signature cache shared across verifications: remembers (issuer SPKI, signed data,
 * signature) triples that verified, so repeat chains pay only for new signatures. Keys are
 * SHA-256 digests of the triple; only successes are cached; the least recently used go first
 * (cache/ `BoundedMap`).
 */
export class SignatureCache {
  /** Undefined with maxEntries 0: nothing is remembered. */
  private readonly map: BoundedMap<string, true> | undefined;
  /**
   * Keys already computed for certificates that come back as the same object (intermediates from
   * a `CertificateCache` or a verifier's own list): their key is not hashed again per chain.
   */
  private readonly keys = new WeakMap<Certificate, { spki: Uint8Array; key: string }>();

  /**
   * `leaves: false` remembers only the signatures of certificates above the leaf: for a caller
   * that remembers each leaf's whole validated path itself (`PeerVerifier`), a leaf's entry here
   * would only cost a SHA-256 over the certificate per new leaf and a string per device.
   */
  readonly leaves: boolean;

  constructor(
    readonly maxEntries = 10_000,
    options: { leaves?: boolean } = {},
  ) {
    this.map = boundedCache(maxEntries, 'SignatureCache');
    this.leaves = options.leaves ?? true;
  }

  /** Whether the signature of the certificate at `certIndex` of a path (0: the leaf) is kept. */
  wants(certIndex: number): boolean {
    return certIndex > 0 || this.leaves;
  }

  /** The key of (cert's signature, issuer key); `remember` keeps it with the certificate object. */
  key(crypto: CryptoProvider, cert: Certificate, issuerSpki: Uint8Array, remember = false): string {
    const known = this.keys.get(cert);
    if (known && bytesEqual(known.spki, issuerSpki)) return known.key;
    const key = toHex(crypto.digest('SHA-256', keyInput(cert, issuerSpki)));
    if (remember) this.keys.set(cert, { spki: issuerSpki, key });
    return key;
  }
  /** `key` for providers that digest asynchronously (WebCrypto); not remembered per object. */
  async keyAsync(crypto: CryptoProvider, cert: Certificate, issuerSpki: Uint8Array): Promise<string> {
    return toHex(await crypto.digestAsync('SHA-256', keyInput(cert, issuerSpki)));
  }
  has(key: string): boolean {
    return this.map?.has(key) ?? false;
  }
  add(key: string): void {
    this.map?.set(key, true);
  }
  get size(): number {
    return this.map?.size ?? 0;
  }
}

function keyInput(cert: Certificate, issuerSpki: Uint8Array): Uint8Array {
  return concatBytes(cert.tbs, cert.signatureValue, issuerSpki);
}

/** A cache's map for `maxEntries` (0: none); anything but a non-negative integer is refused. */
export function boundedCache<K, V>(maxEntries: number, what: string): BoundedMap<K, V> | undefined {
  if (!isCacheSize(maxEntries))
    throw new VerifyError(
      'invalid-input',
      `${what}: maxEntries must be a non-negative integer, not ${maxEntries}`,
    );
  return maxEntries > 0 ? new BoundedMap<K, V>(maxEntries) : undefined;
}

interface PendingSignature {
  cert: Certificate;
  issuer: Certificate;
  certIndex: number;
  alg: SignatureAlgorithm;
  spki: Uint8Array;
}

/**
 * Per-verification signature checks: memoised per (cert, issuer) object pair, charged to the budget.
 *
 * With a provider that can only verify asynchronously (WebCrypto in browsers and edge runtimes),
 * the checker runs *deferred*: path building and validation treat an unchecked signature as
 * valid and record it; before a candidate path is accepted, `settle` verifies the recorded
 * signatures on that path. A failure is memoised, so the next search skips that issuer.
 */
export class SignatureChecker implements SignatureVerifier {
  private readonly memo = new Map<Certificate, Map<Certificate, VerifyErrorCode | null>>();
  private readonly messages = new Map<Certificate, string>();
  private pending: PendingSignature[] = [];
  readonly deferred: boolean;

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly budget: Budget,
    private readonly cache?: SignatureCache,
  ) {
    this.deferred = !crypto.supportsSync;
  }

  verify(cert: Certificate, issuer: Certificate, certIndex: number, issuerSpki?: Uint8Array): void {
    if (issuerSpki && !this.deferred) {
      // Inherited DSA parameters: rare; not memoised (the memo is keyed by the issuer's own key).
      this.check(cert, issuer, certIndex, issuerSpki);
      return;
    }
    let row = this.memo.get(cert);
    if (!row) {
      row = new Map();
      this.memo.set(cert, row);
    }
    const known = row.get(issuer);
    if (known === null) return;
    if (known !== undefined) throw new VerifyError(known, this.messages.get(cert) ?? known, certIndex);
    try {
      this.check(cert, issuer, certIndex, issuerSpki);
      row.set(issuer, null);
    } catch (e) {
      if (e instanceof VerifyError && !isFatal(e.code)) this.fail(cert, issuer, e);
      throw e;
    }
  }

  private fail(cert: Certificate, issuer: Certificate, e: VerifyError): void {
    let row = this.memo.get(cert);
    if (!row) {
      row = new Map();
      this.memo.set(cert, row);
    }
    row.set(issuer, e.code);
    this.messages.set(cert, e.message);
  }

  private algorithm(cert: Certificate, certIndex: number): SignatureAlgorithm {
    let alg: SignatureAlgorithm;
    try {
      alg = parseSignatureAlgorithm(cert.signatureAlgorithm);
    } catch (e) {
      throw new VerifyError(
        'unsupported-algorithm',
        `signature algorithm: ${(e as Error).message}`,
        certIndex,
      );
    }
    if (cert.signatureUnusedBits !== 0)
      throw new VerifyError('bad-signature', 'signature BIT STRING has unused bits', certIndex);
    return alg;
  }

  private check(cert: Certificate, issuer: Certificate, certIndex: number, issuerSpki?: Uint8Array): void {
    const alg = this.algorithm(cert, certIndex);
    const spki = issuerSpki ?? issuer.subjectPublicKeyInfo.der;
    if (this.deferred) {
      this.pending.push({ cert, issuer, certIndex, alg, spki });
      return;
    }
    // A leaf is usually a new object per chain; the certificates above it are usually shared.
    const key = this.cache?.wants(certIndex)
      ? this.cache.key(this.crypto, cert, spki, certIndex > 0)
      : undefined;
    if (key !== undefined && this.cache!.has(key)) return;
    this.budget.consumeSignature(certIndex);
    let ok: boolean;
    try {
      ok = this.crypto.verify(alg, spki, cert.tbs, cert.signatureValue);
    } catch (e) {
      throw cryptoFailure(e, certIndex);
    }
    if (!ok)
      throw new VerifyError('bad-signature', "signature does not verify with the issuer's key", certIndex);
    if (key !== undefined) this.cache!.add(key);
  }

  /**
   * Deferred mode: verifies the recorded signatures between certificates of `path` (cert, then
   * issuer, anchor last). Returns the first failure (memoised), or undefined when all verify.
   * Signatures recorded on other branches stay pending until a path needs them.
   */
  async settle(path: readonly Certificate[]): Promise<VerifyError | undefined> {
    const onPath = new Set(path);
    const keep: PendingSignature[] = [];
    const todo: PendingSignature[] = [];
    for (const x of this.pending) (onPath.has(x.cert) && onPath.has(x.issuer) ? todo : keep).push(x);
    this.pending = keep;
    for (let i = 0; i < todo.length; i++) {
      const x = todo[i]!;
      const err = await this.checkAsync(x);
      if (err) {
        this.fail(x.cert, x.issuer, err);
        // Unsettled ones go back; the next candidate path may need them.
        this.pending.push(...todo.slice(i + 1));
        return err;
      }
    }
    return undefined;
  }

  private async checkAsync(x: PendingSignature): Promise<VerifyError | undefined> {
    const key = this.cache?.wants(x.certIndex)
      ? await this.cache.keyAsync(this.crypto, x.cert, x.spki)
      : undefined;
    if (key !== undefined && this.cache!.has(key)) return undefined;
    this.budget.consumeSignature(x.certIndex);
    let ok: boolean;
    try {
      ok = await this.crypto.verifyAsync(x.alg, x.spki, x.cert.tbs, x.cert.signatureValue);
    } catch (e) {
      return cryptoFailure(e, x.certIndex);
    }
    if (!ok)
      return new VerifyError('bad-signature', "signature does not verify with the issuer's key", x.certIndex);
    if (key !== undefined) this.cache!.add(key);
    return undefined;
  }
}

function cryptoFailure(e: unknown, certIndex: number): VerifyError {
  if (e instanceof CryptoError) {
    const code: VerifyErrorCode =
      e.code === 'unsupported-algorithm' || e.code === 'unsupported-key-type'
        ? 'unsupported-algorithm'
        : 'bad-signature';
    return new VerifyError(code, `signature check: ${e.message}`, certIndex);
  }
  throw e;
}

export interface BuildInput {
  leaf: Certificate;
  intermediates: readonly Certificate[];
  anchors: readonly Certificate[];
  policy: ValidationPolicy;
  time: number;
  crypto: CryptoProvider;
  budget: Budget;
  signatures: SignatureChecker;
  log: AttemptLog;
}

function groupBySubject(certs: readonly Certificate[]): Map<string, Certificate[]> {
  const m = new Map<string, Certificate[]>();
  for (const c of certs) {
    const k = c.subject.key;
    const list = m.get(k);
    // Duplicates (the same certificate given twice) are dropped; a duplicate has the same subject,
    // so only its group needs comparing.
    if (!list) m.set(k, [c]);
    else if (!list.some((x) => x === c || bytesEqual(x.der, c.der))) list.push(c);
  }
  return m;
}

function akiScore(child: Certificate, cand: Certificate): number {
  const aki = child.authorityKeyIdentifier?.keyIdentifier;
  const ski = cand.subjectKeyIdentifier;
  if (!aki || !ski) return 1;
  return bytesEqual(aki, ski) ? 0 : 2;
}

function ordered(child: Certificate, list: readonly Certificate[] | undefined): Certificate[] {
  if (!list) return [];
  if (list.length === 1) return [list[0]!];
  return list
    .map((c, i) => ({ c, s: akiScore(child, c) * 1_000_000 + i }))
    .sort((a, b) => a.s - b.s)
    .map((x) => x.c);
}

/** Yields every valid path (validated by `validatePath`) in the order the search finds them. */
export function* buildPaths(input: BuildInput): Generator<Candidate, void, undefined> {
  const { policy, budget, log } = input;
  const anchorsBySubject = groupBySubject(input.anchors);
  const intermediatesBySubject = groupBySubject(input.intermediates);
  const path: Certificate[] = [input.leaf];

  function onPath(c: Certificate): boolean {
    for (const p of path)
      if (
        p.subject.key === c.subject.key &&
        bytesEqual(p.subjectPublicKeyInfo.der, c.subjectPublicKeyInfo.der)
      )
        return true;
    return false;
  }

  function* extend(count: number): Generator<Candidate, void, undefined> {
    const cur = path[path.length - 1]!;
    const issuerKey = cur.issuer.key;
    const anchors = ordered(cur, anchorsBySubject.get(issuerKey));
    const inters = ordered(cur, intermediatesBySubject.get(issuerKey));
    if (anchors.length === 0 && inters.length === 0) {
      log.record(
        path,
        new VerifyError(
          'unknown-issuer',
          `no certificate found for issuer "${cur.issuer.toString()}"`,
          path.length - 1,
        ),
      );
      return;
    }
    for (const anchor of anchors) {
      budget.consumeBuildStep();
      try {
        const policySet = validatePath({
          chain: path,
          anchor,
          policy,
          time: input.time,
          crypto: input.crypto,
          budget,
          signatures: input.signatures,
        });
        yield { chain: path.slice(), anchor, policySet };
      } catch (e) {
        if (!(e instanceof VerifyError) || isFatal(e.code)) throw e;
        log.record([...path, anchor], e);
      }
    }
    // Self-issued certificates do not count toward maxIntermediates (RFC 5280 §4.2.1.9), but a
    // real path holds only a few (key rollover): cap the total length so that a same-subject mesh
    // stays shallow; checked once per node rather than once per candidate.
    if (inters.length > 0 && path.length > 2 * policy.maxIntermediates + 1) {
      const e = new VerifyError(
        'path-too-long',
        `more than ${2 * policy.maxIntermediates + 2} certificates`,
        path.length - 1,
      );
      log.record(path, e);
      return;
    }
    for (const c of inters) {
      budget.consumeBuildStep();
      if (onPath(c)) continue;
      const k = path.length - 1;
      const next = count + (c.isSelfIssued ? 0 : 1);
      try {
        if (next > policy.maxIntermediates)
          throw new VerifyError('path-too-long', `more than ${policy.maxIntermediates} intermediates`, k + 1);
        // Cheap rules that validation would apply anyway: prune before descending.
        if (c.version === 3 && !c.basicConstraints?.cA)
          throw new VerifyError(
            'not-a-ca',
            'issuer is not a CA (basicConstraints cA missing or false)',
            k + 1,
          );
        // A DSA key that inherits its parameters can only be checked on a whole path: validatePath does it.
        if (!needsInheritedParams(c)) input.signatures.verify(cur, c, k);
      } catch (e) {
        if (!(e instanceof VerifyError) || isFatal(e.code)) throw e;
        log.record([...path, c], e);
        continue;
      }
      path.push(c);
      try {
        yield* extend(next);
      } finally {
        path.pop();
      }
    }
  }

  yield* extend(0);
}
