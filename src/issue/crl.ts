import { encodePem } from '../pem/pem.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { encodeSigned, encodeTbsCertList } from '../x509/encode.js';
import type { CRLReason, Extension, IssuingDistributionPoint } from '../x509/extensions/types.js';
import { DEFAULT_BACKDATE_MS } from './certificate.js';
import {
  crlNumberExtension,
  deltaCrlIndicatorExtension,
  invalidityDateExtension,
  isCrlReason,
  issuingDistributionPointExtension,
  reasonCodeExtension,
} from './crl-extensions.js';
import { IssueError, LintError } from './errors.js';
import type { Issuer } from './issuer.js';
import { hasErrors, type LintFinding, lintCrl } from './lint.js';
import { serialFromInput } from './serial.js';

/** One revoked certificate to list, as `CrlBuilder.revoke` takes it. */
export interface CrlEntryInput {
  /** INTEGER content octets, a hex string (colons allowed), or a bigint. */
  serialNumber: Uint8Array | string | bigint;
  /** Default: the CRL's thisUpdate when one was set, else the moment of signing. */
  revocationDate?: number | Date;
  reason?: CRLReason;
  invalidityDate?: number | Date;
}

/** Options of `CrlBuilder`. */
export interface CrlBuilderOptions {
  /** Default nextUpdate − thisUpdate when nextUpdate is not set. Default 7 days. */
  validityMs?: number;
  /** Re-verify the fresh signature with the issuer's key. Default 'none'. */
  selfCheck?: 'none' | 'signature';
  /** How far the default thisUpdate is set back from now, ms. Default `DEFAULT_BACKDATE_MS` (5 minutes). */
  backdateMs?: number;
  now?: () => number;
}

export const DEFAULT_CRL_VALIDITY_MS = 7 * 86_400_000;

/** A freshly signed CRL: its DER, TBS, number and times; `crl` parses it on first use. */
export class IssuedCrl {
  private parsed?: CertificateList;
  constructor(
    readonly der: Uint8Array,
    readonly tbs: Uint8Array,
    readonly crlNumber: bigint,
    readonly thisUpdate: number,
    readonly nextUpdate: number,
    readonly findings: readonly LintFinding[],
  ) {}

  get crl(): CertificateList {
    this.parsed ??= parseCrl(this.der);
    return this.parsed;
  }

  toPem(): string {
    return encodePem('X509 CRL', this.der);
  }
}

interface Entry {
  serialNumber: Uint8Array;
  revocationDate?: number;
  reason?: CRLReason;
  invalidityDate?: number;
}

const secs = (t: number) => t - (t % 1000);

/**
 * Builds and signs v2 CRLs (RFC 5280 §5): cRLNumber and authorityKeyIdentifier always,
 * thisUpdate/nextUpdate (default now − `backdateMs` .. now + 7 days), revoked entries with
 * reasonCode and invalidityDate, delta CRLs (deltaCRLIndicator) and issuingDistributionPoint.
 * thisUpdate is backdated by the same 5 minutes as a certificate's notBefore, so a relying party
 * whose clock is slow accepts a CRL signed a moment ago (it must refuse a thisUpdate in its
 * future, RFC 5280 §6.3.3 (a)).
 *
 *   const crl = await new CrlBuilder(ca).crlNumber(42n)
 *     .revoke({ serialNumber: 'a1b2…', reason: 'keyCompromise' }).sign();
 *
 * Entry decisions: reason 'unspecified' is written as no reasonCode (RFC 5280 §5.3.1 SHOULD);
 * times are whole seconds; entries are written in the order added. The linter (lintCrl) runs
 * before signing; `removeFromCRL` is only accepted in a delta CRL.
 */
export class CrlBuilder {
  private _number?: bigint;
  private _base?: bigint;
  private _thisUpdate?: number;
  private _nextUpdate?: number;
  private _idp?: Partial<IssuingDistributionPoint>;
  private readonly entries: Entry[] = [];
  private readonly extra: Extension[] = [];

  constructor(
    private readonly issuer: Issuer,
    private readonly opts: CrlBuilderOptions = {},
  ) {}

  crlNumber(n: bigint | number): this {
    this._number = toBig(n, 'cRLNumber');
    return this;
  }

  /** Makes this a delta CRL against the complete CRL numbered `base` (RFC 5280 §5.2.4). */
  deltaOf(base: bigint | number): this {
    this._base = toBig(base, 'BaseCRLNumber');
    return this;
  }

  thisUpdate(t: number | Date): this {
    this._thisUpdate = toMs(t, 'thisUpdate');
    return this;
  }

  nextUpdate(t: number | Date): this {
    this._nextUpdate = toMs(t, 'nextUpdate');
    return this;
  }

  issuingDistributionPoint(idp: Partial<IssuingDistributionPoint>): this {
    this._idp = idp;
    return this;
  }

  /** An extra CRL extension, written as is after ours. */
  extension(e: Extension): this {
    this.extra.push(e);
    return this;
  }

  revoke(e: CrlEntryInput): this {
    const serialNumber =
      e.serialNumber instanceof Uint8Array
        ? e.serialNumber
        : serialFromInput(e.serialNumber as string | bigint);
    if (!serialNumber || serialNumber.length === 0)
      throw new IssueError('bad-input', `bad serial number ${String(e.serialNumber)}`);
    if (e.reason !== undefined && !isCrlReason(e.reason))
      throw new IssueError('bad-input', `unknown CRL reason "${e.reason}"`);
    this.entries.push({
      serialNumber,
      revocationDate: e.revocationDate === undefined ? undefined : toMs(e.revocationDate, 'revocationDate'),
      reason: e.reason,
      invalidityDate: e.invalidityDate === undefined ? undefined : toMs(e.invalidityDate, 'invalidityDate'),
    });
    return this;
  }

  private prepare(): { tbs: Uint8Array; findings: LintFinding[]; thisUpdate: number; nextUpdate: number } {
    const now = (this.opts.now ?? Date.now)();
    // Without an explicit thisUpdate: backdated; nextUpdate and entry dates count from now.
    const base = this._thisUpdate ?? now;
    const thisUpdate = secs(this._thisUpdate ?? now - (this.opts.backdateMs ?? DEFAULT_BACKDATE_MS));
    const nextUpdate = secs(this._nextUpdate ?? base + (this.opts.validityMs ?? DEFAULT_CRL_VALIDITY_MS));
    const exts: Extension[] = [this.issuer.akiExtension];
    if (this._number !== undefined) exts.push(crlNumberExtension(this._number));
    if (this._base !== undefined) exts.push(deltaCrlIndicatorExtension(this._base));
    if (this._idp) exts.push(issuingDistributionPointExtension(this._idp));
    exts.push(...this.extra);
    const revoked = this.entries.map((e) => {
      const x: Extension[] = [];
      if (e.reason && e.reason !== 'unspecified') x.push(reasonCodeExtension(e.reason));
      if (e.invalidityDate !== undefined) x.push(invalidityDateExtension(e.invalidityDate));
      return {
        serialNumber: e.serialNumber,
        revocationDate: secs(e.revocationDate ?? base),
        extensions: x,
      };
    });
    const findings = lintCrl({
      thisUpdate,
      nextUpdate,
      crlNumber: this._number,
      deltaBase: this._base,
      authorityKeyIdentifier: this.issuer.authorityKeyIdentifier,
      issuerKeyUsage: this.issuer.keyUsage,
      signatureAlgorithm: this.issuer.signer.algorithm,
      extensions: exts,
      entries: this.entries.map((e, i) => ({
        serialNumber: e.serialNumber,
        reason: e.reason,
        revocationDate: revoked[i]!.revocationDate,
        invalidityDate: e.invalidityDate,
      })),
    });
    if (hasErrors(findings)) throw new LintError(findings);
    const tbs = encodeTbsCertList({
      version: 2,
      signature: this.issuer.signatureAlgorithm,
      issuer: this.issuer.name,
      thisUpdate,
      nextUpdate,
      revoked,
      extensions: exts,
    });
    return { tbs, findings, thisUpdate, nextUpdate };
  }

  private finish(p: ReturnType<CrlBuilder['prepare']>, sig: Uint8Array): IssuedCrl {
    const i = this.issuer;
    if (this.opts.selfCheck === 'signature' && !i.provider.verify(i.signer.algorithm, i.spki.der, p.tbs, sig))
      throw new IssueError(
        'signature-check-failed',
        'the new CRL signature does not verify with the issuer key',
      );
    const der = encodeSigned(p.tbs, i.signatureAlgorithm, sig);
    return new IssuedCrl(der, p.tbs, this._number!, p.thisUpdate, p.nextUpdate, p.findings);
  }

  signSync(): IssuedCrl {
    const p = this.prepare();
    const s = this.issuer.signer;
    if (!s.signSync) throw new IssueError('bad-input', 'this signer cannot sign synchronously; use sign()');
    return this.finish(p, s.signSync(p.tbs));
  }

  async sign(): Promise<IssuedCrl> {
    const p = this.prepare();
    const s = this.issuer.signer;
    return this.finish(p, s.signSync ? s.signSync(p.tbs) : await s.sign(p.tbs));
  }
}

function toBig(n: bigint | number, what: string): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n))
    throw new IssueError('bad-input', `${what} must be an integer`);
  return BigInt(n);
}

function toMs(t: number | Date, what: string): number {
  const v = typeof t === 'number' ? t : t.getTime();
  if (!Number.isFinite(v)) throw new IssueError('bad-input', `${what} is not a valid time`);
  return v;
}
