/**
 * Wordle evaluation (spec 9): N games (default 1,024) on the evaluation vocabulary with a seeded environment, for
 * any batched policy (scripted players through `playerPolicy`, trained models through value-guided decoding).
 * Metrics: mean return ± standard error, win rate, mean guesses of won games, invalid-guess rate and the most
 * common first guesses.
 * @module
 */
import type { Segment } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import { type MeanSe, meanSe } from "../../eval/stats.ts";
import { type BatchPolicy, rollout } from "../task.ts";
import { type ColourRule, WordleEnv } from "./game.ts";
import { turnsFromSegments } from "./data.ts";
import type { Player } from "./players.ts";

/** Options of {@link evaluateWordle}. */
export interface WordleEvalOptions {
  /** Hidden words are drawn from these (the paper: a 200-word subset of the answers). */
  vocabulary: readonly string[];
  /** Words accepted as guesses, or `"any"` five-letter a–z string (the reference's game). */
  allowed: readonly string[] | "any";
  games?: number;
  /** Seeds the hidden words (the same seed gives the same games for every policy). */
  seed?: number;
  rule?: ColourRule;
  /** Games played together (one batch of policy calls). */
  batchSize?: number;
}

/** Wordle metrics of one policy. */
export interface WordleEvalResult {
  games: number;
  /** Mean return ± s.e. over games (range −6 … 0). */
  return: MeanSe;
  winRate: number;
  /** Mean number of guesses of the won games. */
  meanGuessesOfWins: number;
  /** Fraction of all guesses that were not allowed words. */
  invalidRate: number;
  /** The most frequent first guesses with their counts. */
  topFirstGuesses: Array<[string, number]>;
  /** Per-game returns, for statistics across seeds. */
  returns: number[];
  seconds: number;
}

/** The hidden words of `games` evaluation games: uniform draws from the vocabulary with a seeded generator. */
export function evaluationAnswers(vocabulary: readonly string[], games: number, seed: number): string[] {
  const prng = new Prng(seed);
  return Array.from({ length: games }, () => prng.pick(vocabulary));
}

/** Plays the evaluation games with a batched policy. */
export function evaluateWordle(policy: BatchPolicy, options: WordleEvalOptions): WordleEvalResult {
  const games = options.games ?? 1024;
  const batchSize = options.batchSize ?? 256;
  const answers = evaluationAnswers(options.vocabulary, games, options.seed ?? 0);
  const allowed = options.allowed === "any" ? "any" : new Set(options.allowed);
  const started = performance.now();
  const returns: number[] = [];
  let wins = 0, winGuesses = 0, guesses = 0, invalid = 0;
  const firsts = new Map<string, number>();
  for (let start = 0; start < games; start += batchSize) {
    const chunk = answers.slice(start, start + batchSize);
    const envs = chunk.map((answer) =>
      new WordleEnv({
        answers: options.vocabulary,
        allowed,
        prng: new Prng(0),
        rule: options.rule ?? "official",
        schedule: [answer],
      })
    );
    for (const ep of rollout(envs, policy, 6)) {
      returns.push(ep.return);
      const moves = ep.infos.length;
      guesses += moves;
      invalid += ep.infos.filter((i) => i.invalid === true).length;
      if (ep.infos.some((i) => i.solved === true)) {
        wins++;
        winGuesses += moves;
      }
      const first = ep.segments.find((s) => s.kind === "action")!.text;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
  }
  return {
    games,
    return: meanSe(returns),
    winRate: wins / games,
    meanGuessesOfWins: wins === 0 ? NaN : winGuesses / wins,
    invalidRate: guesses === 0 ? 0 : invalid / guesses,
    topFirstGuesses: [...firsts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5),
    returns,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A scripted player as a batched policy (each history is turned back into turns). */
export function playerPolicy(player: Player, prng: Prng): BatchPolicy {
  return (histories: readonly Segment[][]) => histories.map((h) => player.guess(turnsFromSegments(h), prng));
}
