/**
 * Allocation of small *public* DER outputs (certificates, TBS, CRLs we issue) from shared 8 KiB
 * slabs. V8 gives typed arrays over 64 bytes their own off-heap backing store, which costs about
 * 1.5–2.5 µs each — as much as the rest of building a certificate; a view into a slab costs
 * ~0.15 µs (the same trick as Node's Buffer pool). The views share an ArrayBuffer with other
 * outputs, so never use this for secrets (keys, passphrases): anyone holding `.buffer` of one
 * view can read its neighbours.
 */
const SLAB_SIZE = 8192;
/** Larger outputs get their own buffer: they would waste most of a slab. */
const MAX_POOLED = 1024;

let slab = new Uint8Array(SLAB_SIZE);
let pos = 0;

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
