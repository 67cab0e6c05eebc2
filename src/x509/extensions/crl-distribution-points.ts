import type { DerReader } from '../../der/reader.js';
import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue } from './common.js';
import { readDistributionPoint, writeDistributionPoint } from './distribution-point.js';
import type { CRLDistributionPoints, DistributionPoint } from './types.js';

/**
 * RFC 5280 §4.2.1.13 cRLDistributionPoints (2.5.29.31):
 *   CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint  (see distribution-point.ts)
 * Empty → `empty-sequence`. A DistributionPoint with neither distributionPoint nor cRLIssuer
 * violates a §4.2.1.13 MUST for issuers; it is decoded, and the revocation layer ignores it.
 */
export function parseCRLDistributionPoints(value: Uint8Array, offset = 0): CRLDistributionPoints {
  return parseValue(value, offset, (r) => readDistributionPoints(r, 'CRLDistributionPoints'));
}

/** SEQUENCE SIZE (1..MAX) OF DistributionPoint (shared with freshestCRL). */
export function readDistributionPoints(r: DerReader, name: string): DistributionPoint[] {
  const s = r.readSequence(name);
  const out: DistributionPoint[] = [];
  s.forEach('DistributionPoint', (e) => out.push(readDistributionPoint(e)));
  if (out.length === 0) fail(r, 'empty-sequence', `${name} must not be empty`, 0);
  return out;
}

export function encodeDistributionPoints(v: readonly DistributionPoint[], name: string): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', `${name} must not be empty`);
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const d of v) writeDistributionPoint(w, d);
    }),
  );
}

export function encodeCRLDistributionPoints(v: CRLDistributionPoints): Uint8Array {
  return encodeDistributionPoints(v, 'cRLDistributionPoints');
}
