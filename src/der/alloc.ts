/**
 * Allocation of small *public*, intermediate DER (extension TLVs that a builder copies into the
 * certificate it assembles) from shared 8 KiB slabs. V8 gives typed arrays over 64 bytes their
 * own off-heap backing store, which costs about 0.3–1 µs each; a view into a slab costs ~0.15 µs
 * (the same trick as Node's Buffer pool). The views share an ArrayBuffer with other outputs, so
 * never use this for secrets (keys, passphrases) — anyone holding `.buffer` of one view can read
 * its neighbours. Issued certificates have slabs of their own, which hold certificates only
 * (issue/assemble.ts).
 */
const SLAB_SIZE = 8192;
/** Larger outputs get their own buffer: they would waste most of a slab. */
const MAX_POOLED = 1024;

let slab = new Uint8Array(SLAB_SIZE);
let pos = 0;

/** `n` zeroed octets: a view into the current slab (or an array of their own above 1 KiB). */
export function allocPublicBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (pos + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    pos = 0;
  }
  const v = slab.subarray(pos, pos + n);
  // Keep every view 8-byte aligned, as independent allocations would be.
  pos += (n + 7) & ~7;
  return v;
}
