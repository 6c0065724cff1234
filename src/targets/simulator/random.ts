/** Seedable randomness, so fault dice and generated ids repeat from run to run. */

/** A small deterministic random source. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string;
  /** A version-4 UUID built from this source. */
  uuid(): string;
}

/**
 * mulberry32: tiny, fast and good enough for dice; not for anything secret.
 *
 * @param seed Any number; only its low 32 bits count.
 */
export function createRandom(seed: number): Random {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bytes = (n: number): number[] => Array.from({ length: n }, () => Math.floor(next() * 256));
  const toHex = (b: number[]): string => b.map((x) => x.toString(16).padStart(2, "0")).join("");
  return {
    next,
    hex: (n) => toHex(bytes(n)),
    uuid() {
      const b = bytes(16);
      b[6] = (b[6]! & 0x0f) | 0x40; // version 4
      b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
      const h = toHex(b);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
        h.slice(20)
      }`;
    },
  };
}
