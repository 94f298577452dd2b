/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna) seeded through splitmix32.
 * Every random choice in the project (init, batches, dropout, sampling) draws from one of these,
 * so a run is a pure function of its seed.
 * @module
 */

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** A generator's state ({@link Prng.snapshot}), plain data for a checkpoint's metadata. */
export interface PrngState {
  words: number[];
  spareNormal: number | null;
}

/** A seeded generator; `fork` derives independent streams for sub-components. */
export class Prng {
  #s = new Uint32Array(4);
  #spareNormal: number | null = null;

  /** @param seed any integer; equal seeds give equal streams */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Prng seed must be a finite number, got ${seed}`);
    // the high word is scrambled before mixing so seeds above 2^32 do not collide with small seeds
    let st = (Math.trunc(seed) | 0) ^ Math.imul(Math.trunc(seed / 4294967296) | 0, 0x9e3779b1);
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      this.#s[i] = out;
    }
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) this.#s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Prng.int needs n >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box-Muller, caching the second value). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const v = this.#spareNormal;
      this.#spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Prng.pick needs a non-empty array");
    return items[this.int(items.length)]!;
  }

  /** An item drawn with probability proportional to its weight (weights >= 0, summing to more than 0). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    let u = this.next() * items.reduce((s, [, w]) => s + w, 0);
    for (const [item, w] of items) {
      u -= w;
      if (u < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** The generator's state, to {@link restore} it later (a resumed training continues the same stream). */
  snapshot(): PrngState {
    return { words: [...this.#s], spareNormal: this.#spareNormal };
  }

  /** Puts back a state from {@link snapshot}. */
  restore(state: PrngState): void {
    if (state.words.length !== 4 || state.words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Prng state needs four unsigned 32-bit words, got ${JSON.stringify(state.words)}`);
    }
    this.#s.set(state.words);
    this.#spareNormal = state.spareNormal;
  }

  /** An independent generator seeded from this one. */
  fork(): Prng {
    return new Prng(this.nextUint32() ^ Math.imul(this.nextUint32(), 0x27d4eb2d));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit integer hash with full avalanche (Wellons' `lowbias32`), as an unsigned integer. */
function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The dropout mask of `seed` (a uint32): element i is 1/(1−rate) when the top 16 bits of
 * lowbias32(lowbias32(i) ⊕ seed) are at or above rate·2^16, else 0 (inverted dropout; the rate is quantized to
 * 1/65,536). Counter-based, so any element is computed on its own: the wasm kernel (`_wasm_simd.ts`) makes four at a
 * time and gives the same mask. One seed per mask, drawn from the run's generator, keeps masks seeded and
 * independent.
 */
export function fillDropoutMask(out: Float32Array, seed: number, rate: number): void {
  const threshold = Math.floor(rate * 65536);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < out.length; i++) out[i] = lowbias32(lowbias32(i) ^ seed) >>> 16 >= threshold ? scale : 0;
}
