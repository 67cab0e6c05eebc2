/**
 * Small *public* byte arrays from shared 8 KiB slabs. V8 gives typed arrays over 64 bytes their
 * own off-heap backing store, which costs about 0.3–1 µs each (more beside OpenSSL, whose mallocs
 * it interleaves with); a view into a slab costs ~0.15 µs (the same trick as Node's Buffer pool).
 * The views share an ArrayBuffer with other outputs of the same `Slabs`, so never use this for
 * secrets (keys, passphrases) — anyone holding `.buffer` of one view can read its neighbours —
 * and keep one `Slabs` per kind of data: intermediate DER here (extension TLVs that a builder
 * copies into the certificate it assembles), issued certificates in issue/assemble.ts.
 */
export class Slabs {
  private slab: Uint8Array;
  private pos = 0;

  /** Requests above `maxPooled` octets get an array of their own: they would waste a slab. */
  constructor(
    private readonly slabSize = 8192,
    private readonly maxPooled = 1024,
  ) {
    this.slab = new Uint8Array(slabSize);
  }

  /** `n` zeroed octets: a view into the current slab (or an array of their own above `maxPooled`). */
  alloc(n: number): Uint8Array {
    if (n > this.maxPooled) return new Uint8Array(n);
    if (this.pos + n > this.slabSize) {
      this.slab = new Uint8Array(this.slabSize);
      this.pos = 0;
    }
    const v = this.slab.subarray(this.pos, this.pos + n);
    // Keep every view 8-byte aligned, as independent allocations would be.
    this.pos += (n + 7) & ~7;
    return v;
  }
}

const intermediate = new Slabs();

/** `n` zeroed octets of public, intermediate DER (see `Slabs`). */
export function allocPublicBytes(n: number): Uint8Array {
  return intermediate.alloc(n);
}
