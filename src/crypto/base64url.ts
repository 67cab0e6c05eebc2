import { base64Decode, base64Encode } from '../pem/base64.js';
import { CryptoError } from './errors.js';

/** RFC 4648 §5 base64url without padding, as JWK uses it (RFC 7518 §2). */
export function base64UrlEncode(b: Uint8Array): string {
  let s = base64Encode(b);
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  s = s.slice(0, end);
  return s.replaceAll('+', '-').replaceAll('/', '_');
}

export function base64UrlDecode(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || /[^A-Za-z0-9_-]/.test(s) || s.length % 4 === 1)
    throw new CryptoError('bad-key', `JWK member ${what} is not base64url`);
  const pad = (4 - (s.length % 4)) % 4;
  try {
    return base64Decode(s.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat(pad));
  } catch (e) {
    throw new CryptoError('bad-key', `JWK member ${what} is not base64url`, { cause: e });
  }
}
