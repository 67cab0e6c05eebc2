import { Base64Error, base64Decode, base64Encode } from './base64.js';

/**
 * RFC 7468 textual encoding. `decodePem` finds every `-----BEGIN L-----` … `-----END L-----`
 * block in a text, tolerating explanatory text around blocks (as `openssl x509 -text` output
 * and CA bundles have) and RFC 1421 headers (`Proc-Type:`, `DEK-Info:`) inside a block.
 */

export interface PemBlock {
  label: string;
  der: Uint8Array;
  /** RFC 1421 headers found before the base64 body (legacy encrypted keys), if any. */
  headers: Record<string, string>;
}

export type PemErrorCode = 'no-pem' | 'label-mismatch' | 'unterminated' | 'bad-base64' | 'too-many-blocks';

export class PemError extends Error {
  override readonly name = 'PemError';
  constructor(
    readonly code: PemErrorCode,
    message: string,
    /** Line number (1-based) where the problem was found. */
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

/** Bound on blocks in one text: more than any real bundle (Debian's has ~150). */
export const MAX_PEM_BLOCKS = 100_000;

const BEGIN = /^-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----\s*$/;

export function decodePem(text: string, maxBlocks = MAX_PEM_BLOCKS): PemBlock[] {
  const lines = text.split(/\r?\n|\r/);
  const out: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]!.trim());
    if (!m) continue;
    const label = m[1] ?? '';
    const startLine = i + 1;
    const end = `-----END ${label}-----`;
    const headers: Record<string, string> = {};
    let body = '';
    let done = false;
    let inHeaders = true;
    for (i++; i < lines.length; i++) {
      const l = lines[i]!.trim();
      if (l.startsWith('-----END ')) {
        if (l !== end) throw new PemError('label-mismatch', `expected "${end}"`, i + 1);
        done = true;
        break;
      }
      if (inHeaders) {
        const h = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(l);
        if (h) {
          headers[h[1]!] = h[2]!;
          continue;
        }
        inHeaders = false;
      }
      body += l;
    }
    if (!done) throw new PemError('unterminated', `no "${end}" for block`, startLine);
    let der: Uint8Array;
    try {
      der = base64Decode(body);
    } catch (e) {
      if (e instanceof Base64Error) throw new PemError('bad-base64', `${label}: ${e.message}`, startLine);
      throw e;
    }
    if (out.length >= maxBlocks)
      throw new PemError('too-many-blocks', `more than ${maxBlocks} PEM blocks`, startLine);
    out.push({ label, der, headers });
  }
  return out;
}

/** The single block with one of `labels`; throws `no-pem` when none is present. */
export function decodePemOne(text: string, labels: readonly string[]): PemBlock {
  for (const b of decodePem(text)) if (labels.includes(b.label)) return b;
  throw new PemError('no-pem', `no PEM block labelled ${labels.join(' or ')}`, 1);
}

export function encodePem(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${base64Encode(der, 64)}-----END ${label}-----\n`;
}

/** True when `text` looks like PEM (a BEGIN line somewhere). */
export function looksLikePem(input: string | Uint8Array): boolean {
  if (typeof input === 'string') return input.includes('-----BEGIN ');
  // Scan at most 64 KiB for the marker in bytes form.
  const n = Math.min(input.length, 65536);
  const needle = [45, 45, 45, 45, 45, 66, 69, 71, 73, 78, 32];
  outer: for (let i = 0; i + needle.length <= n; i++) {
    for (let j = 0; j < needle.length; j++) if (input[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
