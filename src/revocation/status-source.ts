import { fromHex, toHex } from '../der/bytes.js';
import type { CRLReason } from '../x509/extensions/types.js';

/**
 * What the CA knows about the certificates it issued: the single source for the OCSP responder
 * and the CRL publisher. The CA service backs it with its database; `MemoryStatusSource` is the
 * in-memory implementation for tests and small deployments.
 *
 * Serial numbers are keyed by `serialKey`: lower-case hex of the INTEGER content with a leading
 * 00 sign octet removed — the same string as `Certificate.serialHex` and `RevokedCertificate.serialHex`.
 */
export type SerialStatus =
  | { status: 'good' }
  | {
      status: 'revoked';
      revocationTime: number;
      /** RFC 5280 §5.3.1; `certificateHold` may later be released (removeFromCRL in a delta). */
      reason?: CRLReason;
      /** RFC 5280 §5.3.2: when the key is known or suspected to have been compromised. */
      invalidityDate?: number;
    };

/** A revoked certificate as a `StatusSource` lists it for the CRL publisher. */
export interface RevokedSerial {
  /** userCertificate INTEGER content (two's complement, minimal). */
  serialNumber: Uint8Array;
  revocationTime: number;
  reason?: CRLReason;
  invalidityDate?: number;
}

/** The status store the OCSP responder and the CRL publisher read (see the header above). */
export interface StatusSource {
  /**
   * The status of `serialHex` issued by `issuerId`, or `undefined` when that issuer never issued
   * it (the responder then answers `unknown`, RFC 6960 §2.2).
   */
  lookup(issuerId: string, serialHex: string): SerialStatus | undefined | Promise<SerialStatus | undefined>;
  /** Every revoked certificate of the issuer still to be listed on its CRL (ascending serial order preferred). */
  revoked(issuerId: string): readonly RevokedSerial[] | Promise<readonly RevokedSerial[]>;
  /** Notifies status changes so that caches drop stale answers; returns an unsubscribe function. */
  onChange?(listener: (issuerId: string, serialHex: string) => void): () => void;
}

/** Normalises a serial (INTEGER content bytes or hex text) to the map key described above. */
export function serialKey(serial: Uint8Array | string): string {
  if (typeof serial !== 'string')
    return toHex(serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial);
  let h = serial.toLowerCase();
  if (h.startsWith('0x')) h = h.slice(2);
  if (h.length % 2) h = `0${h}`;
  while (h.length > 2 && h.startsWith('00')) h = h.slice(2);
  return h;
}

/** INTEGER content bytes for a non-negative serial in `serialKey` form (a 00 octet added when the top bit is set). */
export function serialBytes(key: string): Uint8Array {
  const b = fromHex(key);
  if (b.length > 0 && b[0]! & 0x80) {
    const out = new Uint8Array(b.length + 1);
    out.set(b, 1);
    return out;
  }
  return b;
}

interface MemoryIssuer {
  status: Map<string, SerialStatus>;
  revokedCache?: RevokedSerial[];
}

/** An in-memory StatusSource; synchronous, so the responder's fast path never awaits it. */
export class MemoryStatusSource implements StatusSource {
  private readonly issuers = new Map<string, MemoryIssuer>();
  private readonly listeners = new Set<(issuerId: string, serialHex: string) => void>();

  private issuer(id: string): MemoryIssuer {
    let i = this.issuers.get(id);
    if (!i) {
      i = { status: new Map() };
      this.issuers.set(id, i);
    }
    return i;
  }

  /** Records an issued certificate (status good). */
  issue(issuerId: string, serial: Uint8Array | string): void {
    const k = serialKey(serial);
    const i = this.issuer(issuerId);
    if (!i.status.has(k)) i.status.set(k, { status: 'good' });
  }

  revoke(
    issuerId: string,
    serial: Uint8Array | string,
    info: { revocationTime: number; reason?: CRLReason; invalidityDate?: number },
  ): void {
    const k = serialKey(serial);
    const i = this.issuer(issuerId);
    i.status.set(k, { status: 'revoked', ...info });
    i.revokedCache = undefined;
    this.emit(issuerId, k);
  }

  /** Releases a hold (or undoes a revocation entered by mistake): the serial is good again. */
  release(issuerId: string, serial: Uint8Array | string): void {
    const k = serialKey(serial);
    const i = this.issuer(issuerId);
    if (!i.status.has(k)) return;
    i.status.set(k, { status: 'good' });
    i.revokedCache = undefined;
    this.emit(issuerId, k);
  }

  lookup(issuerId: string, serialHex: string): SerialStatus | undefined {
    return this.issuers.get(issuerId)?.status.get(serialHex);
  }

  revoked(issuerId: string): readonly RevokedSerial[] {
    const i = this.issuers.get(issuerId);
    if (!i) return [];
    if (!i.revokedCache) {
      const out: RevokedSerial[] = [];
      for (const [k, s] of i.status)
        if (s.status === 'revoked')
          out.push({
            serialNumber: serialBytes(k),
            revocationTime: s.revocationTime,
            reason: s.reason,
            invalidityDate: s.invalidityDate,
          });
      i.revokedCache = out;
    }
    return i.revokedCache;
  }

  onChange(listener: (issuerId: string, serialHex: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(issuerId: string, serialHex: string): void {
    for (const l of this.listeners) l(issuerId, serialHex);
  }
}
