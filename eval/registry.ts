/**
 * The registered tasks and algorithms of the benchmark harness. This is the one place that joins the two: tasks
 * (under `tasks/`) know nothing about algorithms, and algorithms (presets of the ILQL update and its decoding) know
 * nothing about tasks.
 * @module
 */
import type { Episode } from "../ilql/episode.ts";
import { Prng } from "../ilql/prng.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import { STITCH_TOKENIZER, stitchDataset, StitchEnv } from "../tasks/stitch/stitch.ts";
import { type BatchPolicy, rollout } from "../tasks/task.ts";
import { mixedDataset } from "../tasks/wordle/data.ts";
import { evaluateWordle, playerPolicy } from "../tasks/wordle/eval.ts";
import { WORDLE_TOKENIZER } from "../tasks/wordle/game.ts";
import { InfoPlayer } from "../tasks/wordle/players.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "../tasks/wordle/words.ts";

/** Config overrides per section, e.g. `{ model: { width: 64 } }`. */
export type Overrides = Record<string, Record<string, unknown>>;

/** What one evaluation of a policy on a task returns. */
export interface TaskEvaluation {
  /** Return of each evaluation episode. */
  returns: number[];
  /** Task-specific metrics (e.g. `win_rate`), each a number. */
  metrics: Record<string, number>;
}

/** A benchmark task: data, tokenizer, evaluation and the anchors of its normalized score. */
export interface TaskDefinition {
  description: string;
  tokenizer: Tokenizer;
  /** Training episodes: `size` of them (the task's default when undefined), drawn with `seed`. */
  dataset(size: number | undefined, seed: number): Episode[];
  /** Plays `episodes` evaluation episodes (seeded, the same for every policy). */
  evaluate(policy: BatchPolicy, episodes: number, seed: number): TaskEvaluation;
  /** Worst possible return and the return of the best known (scripted) policy; the dataset average is measured. */
  anchors(): { floor: number; ceiling: number };
  /** Config every run of the task starts from (model size, context, decoding length). */
  defaults: Overrides;
}

let wordleLists: { vocabulary: string[]; allowed: string[] } | null = null;
function wordle() {
  return wordleLists ??= { vocabulary: loadWordList(WORD_LISTS.eval200), allowed: officialAllowed() };
}
let wordleCeiling: number | null = null;

/** The registered tasks, by name. */
export const TASKS: Record<string, TaskDefinition> = {
  stitch: {
    description: "two-turn diagnostic: the best behaviour is 5 % of the data and must be stitched from parts",
    tokenizer: STITCH_TOKENIZER,
    dataset: (size, seed) => stitchDataset(size ?? 1000, new Prng(seed)),
    evaluate: (policy, episodes) => {
      const returns = rollout(Array.from({ length: episodes }, () => new StitchEnv()), policy).map((r) => r.return);
      return { returns, metrics: { optimal_rate: returns.filter((r) => r === 0).length / episodes } };
    },
    anchors: () => ({ floor: -2, ceiling: 0 }),
    defaults: {
      model: { width: 32, layers: 2, heads: 2, context: 16, dropout: 0 },
      optim: { lr: 3e-3 },
      ilql: { polyak: 0.1 },
      train: { steps: 200, batchSize: 64 },
      decode: { beta: 16, maxTokens: 4 },
    },
  },
  wordle: {
    description: "Wordle on the paper's 200-word vocabulary, mixed-skill data (50 % random word, 50 % consistent word)",
    tokenizer: WORDLE_TOKENIZER,
    dataset: (size, seed) => {
      const { vocabulary, allowed } = wordle();
      return mixedDataset({ answers: vocabulary, allowed, rule: "official" }, size ?? 10_000, new Prng(seed));
    },
    evaluate: (policy, episodes, seed) => {
      const { vocabulary, allowed } = wordle();
      const r = evaluateWordle(policy, { vocabulary, allowed, games: episodes, seed });
      return { returns: r.returns, metrics: { win_rate: r.winRate, invalid_rate: r.invalidRate } };
    },
    anchors: () => {
      if (wordleCeiling === null) {
        const { vocabulary, allowed } = wordle();
        const player = playerPolicy(new InfoPlayer(vocabulary), new Prng(1));
        wordleCeiling = evaluateWordle(player, { vocabulary, allowed, games: 1024, seed: 0 }).return.mean;
      }
      return { floor: -6, ceiling: wordleCeiling };
    },
    defaults: {
      model: { layout: "shared", width: 64, layers: 2, heads: 2, context: 80, dropout: 0 },
      optim: { lr: 1e-3 },
      ilql: { cqlWeight: 1e-4, polyak: 0.05, expectile: 0.9 },
      train: { batchSize: 32 },
      decode: { beta: 16, advClip: 0, maxTokens: 6 },
    },
  },
};

/** An algorithm: a preset of the ILQL update, its data and its decoding, applied over a task's config. */
export interface AlgorithmDefinition {
  description: string;
  /** Overrides that define the algorithm; they win over task, suite and command-line settings. */
  preset: Overrides;
  /** The algorithm's own defaults for settings a user may change (`--set`, `--sweep`). */
  defaults?: Overrides;
}

const BC_PRESET: Overrides = { ilql: { qWeight: 0, vWeight: 0, cqlWeight: 0 }, decode: { beta: 0 } };

/** The registered algorithms, by name. */
export const ALGORITHMS: Record<string, AlgorithmDefinition> = {
  bc: {
    description: "behaviour cloning: the policy head trained alone, decoded without values (β = 0)",
    preset: BC_PRESET,
  },
  "filtered-bc": {
    description: "filtered (%) BC: behaviour cloning on the episodes whose return is in the top `data.topFraction` " +
      "(default 0.1) or at least `data.minReturn`",
    preset: BC_PRESET,
    defaults: { data: { topFraction: 0.1 } },
  },
  ilql: {
    description: "implicit language Q-learning with value-guided decoding",
    preset: {},
  },
  "single-step": {
    description:
      "single-step offline RL: ILQL with expectile 0.5 learns the behaviour policy's values (SARSA-style), " +
      "then one step of improvement through the same value-guided decoding",
    preset: { ilql: { expectile: 0.5 } },
  },
  "mc-returns": {
    description: "MC-return values: ILQL whose V regresses on the discounted reward-to-go instead of Q̄, same decoding",
    preset: { ilql: { mcReturns: true } },
  },
};
