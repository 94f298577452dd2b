/**
 * Training speed of an algorithm on a task's data, measured alone between two log points of a fresh run (after a
 * warm-up), in optimizer steps and real (non-padding) tokens per second; for online algorithms, seconds per
 * iteration. The results scripts report it beside their tables.
 * @module
 */
import { type RunConfig, runConfig, trainAlgorithm } from "../baselines/algorithm.ts";
import { filterEpisodes } from "../ilql/data.ts";
import { encodeEpisode, type Episode } from "../ilql/episode.ts";
import { tokenContextOf } from "../ilql/model.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import type { LanguageEnv } from "../tasks/task.ts";
import { ALGORITHMS } from "./registry.ts";

/** Training speed of one algorithm. */
export interface SpeedRow {
  algo: string;
  /** Offline steps per second (NaN for online algorithms). */
  stepsPerSecond: number;
  /** Real tokens of training sequences per second. */
  tokensPerSecond: number;
  /** Online algorithms: seconds per iteration (play, then update). */
  secondsPerIteration: number;
}

/**
 * Times `algo` with `config` (its seed and model; the length is set here): offline steps 50 → 250, or PPO
 * iterations 1 → 6 from the seeded initial model.
 */
export async function trainingSpeed(
  algo: string,
  config: RunConfig,
  episodes: readonly Episode[],
  tokenizer: Tokenizer,
  environments?: (count: number, seed: number) => LanguageEnv[],
  recentWindow = false,
): Promise<SpeedRow> {
  const online = ALGORITHMS[algo]!.train !== undefined;
  const timed = runConfig({
    ...config,
    train: { ...config.train, steps: online ? 0 : 250, logEvery: 50 },
    ppo: { ...config.ppo, iterations: 6, valueWarmup: 0 },
  });
  const stamps: number[] = [];
  const trained = await trainAlgorithm(ALGORITHMS[algo]!, {
    episodes,
    tokenizer,
    config: timed,
    ...(environments ? { environments } : {}),
    recentWindow,
    onLog: () => stamps.push(performance.now()),
  });
  trained.dispose();
  const seconds = (stamps[stamps.length - 1]! - stamps[0]!) / 1000;
  if (online) return { algo, stepsPerSecond: NaN, tokensPerSecond: NaN, secondsPerIteration: seconds / 5 };
  const kept = filterEpisodes(episodes, timed.data);
  const context = tokenContextOf(timed.model);
  const meanTokens = kept.reduce((n, e) => n + encodeEpisode(e, tokenizer, { context }).tokens.length, 0) / kept.length;
  const stepsPerSecond = 200 / seconds;
  return {
    algo,
    stepsPerSecond,
    tokensPerSecond: stepsPerSecond * timed.train.batchSize * meanTokens,
    secondsPerIteration: NaN,
  };
}

/** The speed rows as a markdown table. */
export function speedTable(rows: readonly SpeedRow[]): string[] {
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "–");
  return [
    "| algorithm | steps/s | tokens/s (real tokens) | s per PPO iteration |",
    "|---|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.algo} | ${f(r.stepsPerSecond, 1)} | ${f(r.tokensPerSecond, 0)} | ${f(r.secondsPerIteration, 2)} |`
    ),
  ];
}
