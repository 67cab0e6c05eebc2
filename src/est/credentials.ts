import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Authority } from '../ca/authority.js';
import type { EnrollmentCredential } from '../ca/store/types.js';
import { EstError } from './errors.js';

/**
 * Single-use enrollment credentials for HTTP Basic (RFC 7030 §3.2.3): for a device that has no
 * bootstrap certificate, an operator makes one (`fleetpki est token`, or the admin API) and hands
 * `USERNAME:PASSWORD` to the device's installer.
 *
 * - The user name is `est-` and 16 hex digits; the password 32 random bytes (base64url, 43
 *   characters). The store keeps only SHA-256 of the password: with 256 bits of entropy a fast hash
 *   is as good as a slow one, and a copy of the database yields no usable credential.
 * - A credential is bound to one label and, optionally, to the commonName it may enroll; it
 *   expires after the label's `tokenValidityHours`.
 * - It is spent by the enrollment it authenticates, atomically in the store
 *   (`useEnrollmentCredential`): of two uses — on any instance — one wins. A retry of the same
 *   request (a 202 being polled) is not a second use; a request refused before anything was issued
 *   or held gives the credential back.
 */
export interface NewEnrollmentCredential {
  username: string;
  password: string;
  label: string;
  subject?: string;
  expiresAt: number;
}

const USERNAME = /^est-[0-9a-f]{16}$/;
const PASSWORD = /^[A-Za-z0-9_-]{43}$/;
/** Compared against when the user name is unknown, so that the answer takes the same time. */
const DUMMY = createHash('sha256').update('fleetpki: no such enrollment credential').digest();

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Makes and stores a credential (audited `est-token`); returns it with its password (shown once). */
export async function createEnrollmentCredential(
  ca: Authority,
  o: { label: string; subject?: string; validityHours: number; requester: string; now?: number },
): Promise<NewEnrollmentCredential> {
  if (
    o.subject !== undefined &&
    (o.subject.length === 0 || o.subject.length > 256 || /[\u0000-\u001f]/.test(o.subject))
  )
    throw new EstError('bad-input', 'subject: 1 to 256 printable characters');
  const now = o.now ?? Date.now();
  const username = `est-${randomBytes(8).toString('hex')}`;
  const password = randomBytes(32).toString('base64url');
  const rec: EnrollmentCredential = {
    id: username,
    label: o.label,
    ...(o.subject !== undefined ? { subject: o.subject } : {}),
    secretHash: sha256Hex(password),
    createdAt: now,
    expiresAt: now + o.validityHours * 3_600_000,
    createdBy: o.requester,
  };
  const r = await ca.store.addEnrollmentCredential(rec, {
    time: now,
    actor: o.requester,
    action: 'est-token',
    result: 'ok',
    detail: { username, label: o.label, ...(o.subject !== undefined ? { subject: o.subject } : {}) },
  });
  if (r !== 'added') throw new EstError('bad-input', 'credential id collision; try again');
  return { username, password, label: o.label, subject: o.subject, expiresAt: rec.expiresAt };
}

/**
 * Checks `username`/`password` against the store: the record, unless the password is wrong, the
 * credential expired or it is bound to another label (`EstError('unauthorized')` each, with the
 * same message for an unknown name and a wrong password). Whether it is spent is decided when it
 * is used (`useEnrollmentCredential`).
 */
export async function checkEnrollmentCredential(
  ca: Authority,
  username: string,
  password: string,
  label: string,
  now = Date.now(),
): Promise<EnrollmentCredential> {
  const rec = USERNAME.test(username) ? await ca.store.getEnrollmentCredential(username) : undefined;
  const given = createHash('sha256').update(password, 'utf8').digest();
  const want = rec ? Buffer.from(rec.secretHash, 'hex') : DUMMY;
  const ok = PASSWORD.test(password) && timingSafeEqual(want, given);
  if (!rec || !ok) throw new EstError('unauthorized', 'invalid enrollment credential');
  if (rec.expiresAt <= now) throw new EstError('credential-expired', 'the enrollment credential has expired');
  if (rec.label !== label)
    throw new EstError('unauthorized', `the enrollment credential is not for label "${label}"`);
  if (rec.usedAt !== undefined && rec.usedFor === undefined)
    throw new EstError('credential-used', 'the enrollment credential was used already');
  return rec;
}

/** Parses `Authorization: Basic …` (RFC 7617 §2); undefined for another scheme or none. */
export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header.trim());
  if (!m) {
    if (/^basic\b/i.test(header)) throw new EstError('unauthorized', 'malformed Basic credentials');
    return undefined;
  }
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) throw new EstError('unauthorized', 'malformed Basic credentials');
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}
