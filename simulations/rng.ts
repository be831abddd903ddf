// A tiny seeded PRNG (mulberry32) for the synthetic-day generator. Only 32-bit integer arithmetic
// (Math.imul, shifts) and correctly rounded float operations are used, with the portable log of
// the pricing module for normals, so a seed gives the same stream on every machine.
import { portableLog } from "../src/domain/pricing.ts"

export interface Rng {
  /** Uniform in [0, 1). */
  readonly uniform: () => number
  /** Standard normal (Marsaglia polar method). */
  readonly normal: () => number
  /** Uniform in [min, max). */
  readonly between: (min: number, max: number) => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  /** -1 or +1 with equal probability. */
  readonly sign: () => -1 | 1
}

/** mulberry32 seeded with `seed` (taken modulo 2^32). */
export const createRng = (seed: number): Rng => {
  let state = seed >>> 0
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  const uniform = (): number => next32() / 4294967296
  let spare: number | null = null
  const normal = (): number => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    for (;;) {
      const u = 2 * uniform() - 1
      const v = 2 * uniform() - 1
      const q = u * u + v * v
      if (q > 0 && q < 1) {
        const f = Math.sqrt((-2 * portableLog(q)) / q)
        spare = v * f
        return u * f
      }
    }
  }
  return {
    uniform,
    normal,
    between: (min, max) => min + (max - min) * uniform(),
    int: (n) => Math.floor(uniform() * n),
    sign: () => (uniform() < 0.5 ? -1 : 1)
  }
}

/** FNV-1a (32 bit) of the parts joined by ":" — a stable seed from a base seed and labels. */
export const deriveSeed = (...parts: ReadonlyArray<string | number>): number => {
  const text = parts.map(String).join(":")
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
