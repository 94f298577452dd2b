/**
 * Statistics for result tables: mean ± standard error over episodes, and across seeds the mean with a 95 %
 * percentile-bootstrap interval and the interquartile mean; normalized scores.
 * @module
 */
import { Prng } from "../ilql/prng.ts";

/** Arithmetic mean (NaN for no values). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Standard error of the mean, std/√n. */
export function standardError(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : std(xs) / Math.sqrt(xs.length);
}

/** Mean ± standard error of per-episode values. */
export interface MeanSe {
  mean: number;
  se: number;
  n: number;
}

/** Mean and standard error of a sample. */
export function meanSe(xs: readonly number[]): MeanSe {
  return { mean: mean(xs), se: standardError(xs), n: xs.length };
}

/** Interquartile mean: the mean of the middle 50 % (fractional weights at the cut points, as in rliable). */
export function iqm(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  const lo = n * 0.25;
  const hi = n * 0.75;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const weight = Math.max(0, Math.min(i + 1, hi) - Math.max(i, lo));
    total += weight * s[i]!;
  }
  return total / (hi - lo);
}

/** Mean over seeds with a percentile-bootstrap interval. */
export interface SeedSummary {
  mean: number;
  low: number;
  high: number;
  iqm: number;
  n: number;
}

/**
 * Mean of per-seed values with a `level` (default 95 %) percentile-bootstrap interval from `resamples` seeded
 * resamples. With one seed the interval is that value.
 */
export function bootstrapMean(xs: readonly number[], { level = 0.95, resamples = 10_000, seed = 0 } = {}): SeedSummary {
  const n = xs.length;
  if (n === 0) return { mean: NaN, low: NaN, high: NaN, iqm: NaN, n };
  const prng = new Prng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[prng.int(n)]!;
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  return { mean: mean(xs), low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), iqm: iqm(xs), n };
}

/** Whether two summaries' intervals over seeds are disjoint; a single seed has no interval to compare. */
export function intervalVerdict(
  a: SeedSummary,
  b: SeedSummary,
): "one seed, no interval" | "intervals apart" | "intervals overlap" {
  if (Math.min(a.n, b.n) < 2) return "one seed, no interval";
  return a.low > b.high || b.low > a.high ? "intervals apart" : "intervals overlap";
}

/** Normalized score: 0 at `floor`, 50 at `datasetAverage`, 100 at `ceiling`, piecewise linear (LMRL-Gym style). */
export function normalizedScore(value: number, anchors: { floor: number; datasetAverage: number; ceiling: number }) {
  const { floor, datasetAverage, ceiling } = anchors;
  if (!(floor < datasetAverage && datasetAverage < ceiling)) {
    throw new Error(
      `normalizedScore needs floor < dataset average < ceiling, got ${floor}, ${datasetAverage}, ${ceiling}`,
    );
  }
  return value <= datasetAverage
    ? 50 * (value - floor) / (datasetAverage - floor)
    : 50 + 50 * (value - datasetAverage) / (ceiling - datasetAverage);
}

/** Ranks of `xs` from 1, ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation of paired samples (ties at mean ranks); NaN when either side is constant. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new Error(`spearman needs pairs, got ${xs.length} and ${ys.length} values`);
  const rx = ranks(xs), ry = ranks(ys);
  const mx = mean(rx), my = mean(ry);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
