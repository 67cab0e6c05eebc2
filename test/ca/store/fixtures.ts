import { createHash, randomBytes } from 'node:crypto';
import { auditHash, GENESIS_HASH } from '../../../src/ca/audit-hash.js';
import type {
  AuditEvent,
  AuditRecord,
  IssuerRecord,
  OpenStoreOptions,
  Reservation,
  Store,
  StoreKind,
} from '../../../src/ca/store/index.js';

/**
 * Test data for the store suite: certificates shaped like X.509 (Certificate ::= SEQUENCE
 * { tbsCertificate, signatureAlgorithm, signatureValue }, RFC 5280 §4.1) without a real signature
 * — the store only keeps bytes and checks that the certificate carries the reserved TBS — issuer
 * records, and an audit-chain check independent of the store.
 */

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const ECDSA_SHA256 = tlv(0x30, tlv(0x06, Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));

export interface FakeCert {
  tbs: Uint8Array;
  der: Uint8Array;
  fingerprint: string;
}

/** A TBSCertificate-shaped SEQUENCE of about `size` bytes, and a certificate around it. */
export function fakeCert(serialHex: string, size = 400): FakeCert {
  const tbs = tlv(
    0x30,
    concat(tlv(0x02, Buffer.from(serialHex, 'hex')), tlv(0x04, randomBytes(Math.max(1, size - 30)))),
  );
  const der = tlv(0x30, concat(tbs, ECDSA_SHA256, tlv(0x03, concat(Uint8Array.of(0), randomBytes(70)))));
  return { tbs, der, fingerprint: createHash('sha256').update(der).digest('hex') };
}

export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

export function issuer(id: string, role: IssuerRecord['role'], parentId?: string): IssuerRecord {
  const r: IssuerRecord = {
    id,
    role,
    status: 'active',
    certificate: fakeCert(randomSerial(), 300).der,
    key: { kind: 'file', path: `keys/${id}.key` },
    createdAt: 1_700_000_000_000,
  };
  if (parentId !== undefined) r.parentId = parentId;
  return r;
}

export const HIERARCHY: readonly IssuerRecord[] = [
  issuer('root', 'root'),
  issuer('devices-1', 'intermediate', 'root'),
];

export function ev(action: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return { time: 1_700_000_000_000, actor: 'cli:test', action, result: 'ok', ...extra };
}

export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const DAY = 86_400_000;

export function reservation(
  serialHex: string,
  over: Partial<Reservation> = {},
): Reservation & { cert: FakeCert } {
  const cert = fakeCert(serialHex);
  return {
    issuerId: 'devices-1',
    serialHex,
    profile: 'device',
    subject: `CN=device-${serialHex.slice(0, 16)},O=Acme`,
    sans: [`dns:device-${serialHex.slice(0, 16)}.fleet.example`],
    notBefore: T0,
    notAfter: T0 + 30 * DAY,
    tbs: cert.tbs,
    requester: 'admin:token:test',
    reservedAt: T0,
    ...over,
    cert,
  };
}

/** reserve + complete, the issuance's two store calls. */
export async function issue(
  store: Store,
  serialHex: string,
  over: Partial<Reservation> = {},
  issuedAt = T0,
): Promise<Reservation & { cert: FakeCert }> {
  const r = reservation(serialHex, over);
  const { cert, ...res } = r;
  const got = await store.reserve({ ...res, tbs: cert.tbs });
  if (got !== 'reserved') throw new Error(`reserve ${serialHex}: ${got}`);
  await store.complete(
    { issuerId: r.issuerId, serialHex, der: cert.der, fingerprint: cert.fingerprint, issuedAt },
    ev('issue', { issuerId: r.issuerId, serialHex, fingerprint: cert.fingerprint }),
  );
  return r;
}

/** Reads the whole audit log and checks seq, links and hashes; returns the records. */
export async function verifyChain(store: Store): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (;;) {
    const page = await store.readAudit(all.length, 1000);
    for (const r of page) {
      if (r.seq !== all.length + 1) throw new Error(`audit seq ${r.seq} after ${all.length}`);
      if (r.prevHash !== prev) throw new Error(`audit ${r.seq}: prevHash does not link`);
      if (auditHash(prev, r.seq, r) !== r.hash) throw new Error(`audit ${r.seq}: hash does not match`);
      prev = r.hash;
      all.push(r);
    }
    if (page.length < 1000) return all;
  }
}

/** How a suite reaches one backend: fresh store URLs and raw SQL on them. */
export interface Harness {
  kind: StoreKind;
  /** Shown in suite names when one backend runs in several configurations. */
  variant?: string;
  /** Passed to `openStore`. */
  options?: OpenStoreOptions;
  /** `concurrency`: register only the tests about concurrent callers. */
  only?: 'concurrency';
  /** A URL for a new, empty store. */
  freshUrl(): Promise<string>;
  /** Runs one SQL statement directly on the database behind `url` (`?` placeholders). */
  sql(url: string, text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}
