/**
 * A small seeded pseudo-random generator for the memory transport's fault
 * injection. It uses only 32-bit integer arithmetic (`Math.imul`, shifts)
 * and one exact floating-point scaling, so a seed yields the same numbers
 * on every JavaScript engine: a schedule recorded on Node.js replays on
 * Deno and Bun.
 *
 * @module
 */

/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffff_ffff;

/** Scrambles a 32-bit value (the finalizer of MurmurHash3). */
function mix32(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Derives an independent seed from a base seed and a path of small
 * integers (connection number, direction), so each stream of draws has its
 * own generator and one stream's use never shifts another's numbers.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  let hash = mix32(seed ^ 0x9e37_79b9);
  for (const step of path) hash = mix32(hash ^ mix32(step + 0x632b_e5ab));
  return hash;
}

/** A fresh seed for a run that did not ask for one; it is reported so the run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * (MAX_SEED + 1));
}

/** A Weyl sequence scrambled by `mix32`: fast, and good enough to pick chunk sizes and delays. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed | 0;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e37_79b9) | 0;
    return mix32(this.#state);
  }

  /** An integer from `min` to `max`, both included (`max - min` below 2^32). */
  integer(min: number, max: number): number {
    if (min === max) return min;
    return min + Math.floor((this.nextUint32() / 0x1_0000_0000) * (max - min + 1));
  }
}
