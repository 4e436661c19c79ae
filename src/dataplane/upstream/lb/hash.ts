// A fast non-cryptographic string hash for the ring: FNV-1a 32 over UTF-16 code units, then
// MurmurHash3's fmix32 finaliser. FNV-1a alone mixes the high bits poorly for short keys that
// differ only in their last characters (`10.0.0.1:80_1`, `_2`, ...), which would bunch ring points;
// fmix32 spreads every input bit over the whole word. node:crypto costs microseconds per call and
// allocates; this is a handful of integer operations.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  // fmix32 (MurmurHash3)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
