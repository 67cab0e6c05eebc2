import { ProvisionError } from './errors.js';

/**
 * A bounded pre-check of a CBOR payload (RFC 8949) before it reaches the decoder: the payload is
 * walked once, iteratively, and refused unless it is a single well-formed data item (§5.1) in the
 * small subset provisioning messages use —
 * - major types 0 (unsigned), 1 (negative), 2 (byte string), 3 (text string, valid UTF-8 §3.1),
 *   4 (array), 5 (map with text keys, no duplicate key §5.6), and the simple values false, true,
 *   null (§3.3);
 * - definite lengths only (no indefinite-length items, §3.2.2), no tags (§3.4: the decoder would
 *   otherwise build typed arrays, records or dates from them), no floats;
 * - at most `maxDepth` levels of nesting and `maxItems` data items in all, every length within the
 *   remaining input, and no bytes after the item.
 * Every loop is bounded by the input length and `maxItems`, so a hostile payload costs at most
 * linear time and no recursion.
 */
export interface CborLimits {
  /** Most nesting levels (the top-level map is level 1). Default 4. */
  maxDepth?: number;
  /** Most data items in all (keys and values count). Default 512. */
  maxItems?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): never {
  throw new ProvisionError('malformed-payload', `CBOR: ${message}`);
}

/** Checks `b` as described above; throws `ProvisionError('malformed-payload' | 'payload-too-large')`. */
export function checkCbor(b: Uint8Array, limits: CborLimits = {}): void {
  const maxDepth = limits.maxDepth ?? 4;
  const maxItems = limits.maxItems ?? 512;
  let pos = 0;
  let items = 0;
  // Open containers: how many items each still expects, and for maps the keys seen so far.
  const stack: { left: number; keys?: Set<string>; expectKey: boolean }[] = [];

  const head = (): { major: number; info: number; arg: number } => {
    if (pos >= b.length) bad('truncated');
    const ib = b[pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (info < 24) return { major, info, arg: info };
    if (info > 27)
      bad(
        info === 31 ? 'indefinite-length items are not accepted' : `reserved additional information ${info}`,
      );
    const n = 1 << (info - 24); // 1, 2, 4 or 8 argument bytes
    if (pos + n > b.length) bad('truncated');
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + b[pos++]!;
    // Lengths and counts beyond 2^53 cannot fit the input anyway; refuse rather than lose precision.
    if (!Number.isSafeInteger(arg)) bad('argument too large');
    return { major, info, arg };
  };

  do {
    if (++items > maxItems)
      throw new ProvisionError('payload-too-large', `CBOR: more than ${maxItems} items`);
    const top = stack[stack.length - 1];
    const isKey = top?.keys !== undefined && top.expectKey;
    const { major, info, arg } = head();
    if (isKey && major !== 3) bad('map keys must be text strings');
    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3: {
        if (arg > b.length - pos) bad('string longer than the input');
        if (major === 3) {
          let text: string;
          try {
            text = utf8.decode(b.subarray(pos, pos + arg));
          } catch {
            bad('text string is not valid UTF-8');
          }
          if (isKey) {
            if (top.keys!.has(text)) bad(`duplicate map key "${text.slice(0, 40)}"`);
            // A decoder building plain objects would set the prototype rather than a field.
            if (text === '__proto__') bad('map key "__proto__" is not accepted');
            top.keys!.add(text);
          }
        }
        pos += arg;
        break;
      }
      case 4:
      case 5: {
        // Each entry needs at least one byte: a count beyond the input is malformed, not a big allocation.
        if ((major === 5 ? 2 * arg : arg) > b.length - pos) bad('container longer than the input');
        if (stack.length + 1 > maxDepth)
          throw new ProvisionError('payload-too-large', `CBOR: nested deeper than ${maxDepth} levels`);
        if (top) consume(top);
        if (arg > 0)
          stack.push(
            major === 5
              ? { left: 2 * arg, keys: new Set(), expectKey: true }
              : { left: arg, expectKey: false },
          );
        unwind();
        continue;
      }
      case 6:
        bad('tags are not accepted');
        break;
      case 7:
        // §3.3: false, true, null are additional information 20..22 in the initial byte itself;
        // floats (25..27) and the two-byte simple values (24) are refused.
        if (info !== 20 && info !== 21 && info !== 22)
          bad('only false, true and null simple values are accepted');
        break;
    }
    if (top) consume(top);
    unwind();
  } while (stack.length > 0);
  if (pos !== b.length) bad(`${b.length - pos} bytes after the data item`);

  function consume(c: { left: number; keys?: Set<string>; expectKey: boolean }): void {
    c.left--;
    if (c.keys) c.expectKey = !c.expectKey;
  }
  function unwind(): void {
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop();
  }
}
