import { CaError } from './errors.js';

/**
 * RFC 7512 PKCS#11 URIs, the subset a CA key reference needs:
 *
 *   pkcs11:token=fleet-ca;object=issuing-1;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so
 *   pkcs11:token=fleet-ca;id=%01%a2?pin-source=file:/run/secrets/hsm-pin
 *
 * Path attributes (§2.3): `token` (label), `object` (CKA_LABEL), `id` (CKA_ID, percent-encoded
 * bytes), `type` (must be `private` when given); others (`manufacturer`, `serial`, …) are accepted
 * and ignored. Query attributes: `module-path`, `pin-source` (a `file:` URI or path, §2.4).
 * `pin-value` is refused: the URI is stored in the database, and a PIN must never be.
 */
export interface Pkcs11Uri {
  token: string;
  object?: string;
  id?: Uint8Array;
  modulePath?: string;
  pinSource?: string;
}

const MAX_URI = 4096;

function pctDecode(s: string, what: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw bad(`bad percent-encoding in ${what}`);
      out.push(Number.parseInt(h, 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else out.push(...new TextEncoder().encode(s[i]!));
  }
  return Uint8Array.from(out);
}

function bad(message: string): CaError {
  return new CaError('key-unavailable', `PKCS#11 URI: ${message}`);
}

/** Parses a key's URI (`key-unavailable` with the reason when it is not one we accept). */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (uri.length > MAX_URI || !uri.startsWith('pkcs11:')) throw bad('must start with "pkcs11:"');
  const body = uri.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const path = q >= 0 ? body.slice(0, q) : body;
  const query = q >= 0 ? body.slice(q + 1) : '';
  const out: Partial<Pkcs11Uri> = {};
  const text = (v: string, what: string) =>
    new TextDecoder('utf-8', { fatal: true }).decode(pctDecode(v, what));
  for (const part of path.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(`bad path attribute "${part}"`);
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === 'token') out.token = text(v, k);
    else if (k === 'object') out.object = text(v, k);
    else if (k === 'id') out.id = pctDecode(v, k);
    else if (k === 'type') {
      if (v !== 'private') throw bad('type must be "private" (a signing key)');
    } else if (k === 'pin-value') throw bad('pin-value is not allowed (PINs are never stored)');
  }
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(`bad query attribute "${part}"`);
    const k = part.slice(0, eq);
    const v = text(part.slice(eq + 1), k);
    if (k === 'module-path') out.modulePath = v;
    else if (k === 'pin-source')
      out.pinSource = v.startsWith('file:') ? v.slice('file:'.length).replace(/^\/\/(?=\/)/, '') : v;
    else if (k === 'pin-value') throw bad('pin-value is not allowed (PINs are never stored)');
  }
  if (!out.token) throw bad('the token attribute is required');
  if (out.object === undefined && out.id === undefined) throw bad('object or id is required');
  return out as Pkcs11Uri;
}
