import { latin1 } from '../der/bytes.js';
import { decodePem, looksLikePem, PemError } from '../pem/pem.js';
import { X509Error } from './errors.js';

/** Accepts DER bytes, PEM text, or PEM bytes; returns the DER of the first block with one of `labels`. */
export function toDer(input: Uint8Array | string, labels: readonly string[]): Uint8Array {
  // Fast path: a DER SEQUENCE with a long-form length (every real certificate/CRL/CSR) cannot be
  // PEM text, whose second byte is ASCII; skip scanning the bytes for "-----BEGIN ".
  if (typeof input !== 'string' && input.length > 1 && input[0] === 0x30 && input[1]! >= 0x81) return input;
  if (typeof input !== 'string' && !looksLikePem(input)) {
    if (input.length === 0) throw new X509Error('bad-input', 'empty input');
    return input;
  }
  const text = typeof input === 'string' ? input : latin1(input);
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(text);
  } catch (e) {
    if (e instanceof PemError) throw new X509Error('bad-input', `PEM: ${e.message}`);
    throw e;
  }
  const b = blocks.find((x) => labels.includes(x.label));
  if (!b)
    throw new X509Error(
      'bad-input',
      blocks.length
        ? `expected PEM ${labels.join(' or ')}, found ${blocks.map((x) => x.label).join(', ')}`
        : 'no PEM block found',
    );
  return b.der;
}
