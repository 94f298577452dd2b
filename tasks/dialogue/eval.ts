/**
 * Evaluation of a questioning policy on the hidden-country game: N games (default 1,024) with hidden countries and
 * hints drawn from a seed (the same games for every policy). Metrics: mean return ± s.e., success rate, mean
 * questions per game, and per question: the share answered by a bare yes/no, the share the answerer could not
 * parse, refusals, open questions, guesses and the variant's penalty rate.
 * @module
 */
import { type MeanSe, meanSe } from "../../eval/stats.ts";
import { Prng } from "../../ilql/prng.ts";
import { type BatchPolicy, rollout } from "../task.ts";
import { countries } from "./countries.ts";
import { DialogueEnv, MAX_QUESTIONS } from "./game.ts";
import { DEFAULT_HEDGES, type DialogueReward } from "./reward.ts";

/** Options of {@link evaluateDialogue}. */
export interface DialogueEvalOptions {
  reward: DialogueReward;
  hedges?: readonly string[];
  games?: number;
  /** Seeds the hidden countries and hints. */
  seed?: number;
  /** Games played together (one batch of policy calls). */
  batchSize?: number;
}

/** Metrics of one policy. */
export interface DialogueEvalResult {
  games: number;
  /** Mean return ± s.e. over games. */
  return: MeanSe;
  /** Per-game returns, for statistics across seeds. */
  returns: number[];
  metrics: {
    success_rate: number;
    mean_questions: number;
    /** Share of questions answered exactly "Yes." or "No." (what the `yn` variant penalises). */
    yes_no_rate: number;
    /** The same share among the questions the answerer understood (garbage questions are never yes/no). */
    yes_no_parsed_rate: number;
    unparsed_rate: number;
    refused_rate: number;
    open_rate: number;
    guess_rate: number;
    /** Share of questions the variant's detector penalised. */
    penalised_rate: number;
  };
  seconds: number;
}

/** Plays the evaluation games with a batched policy. */
export function evaluateDialogue(policy: BatchPolicy, options: DialogueEvalOptions): DialogueEvalResult {
  const games = options.games ?? 1024;
  const batchSize = options.batchSize ?? 512;
  const prng = new Prng(options.seed ?? 0);
  // drawn up front so every policy meets the same countries and hints
  const setups = Array.from({ length: games }, () => ({ country: prng.pick(countries()).name, prng: prng.fork() }));
  const started = performance.now();
  const returns: number[] = [];
  const counts: Record<string, number> = {};
  let questions = 0, solved = 0;
  for (let start = 0; start < games; start += batchSize) {
    const envs = setups.slice(start, start + batchSize).map((s) =>
      new DialogueEnv({
        reward: options.reward,
        hedges: options.hedges ?? DEFAULT_HEDGES,
        prng: s.prng,
        schedule: [s.country],
      })
    );
    for (const game of rollout(envs, policy, MAX_QUESTIONS)) {
      returns.push(game.return);
      questions += game.infos.length;
      if (game.infos.some((i) => i.solved === true)) solved++;
      for (const info of game.infos) {
        for (const [k, v] of Object.entries(info)) if (v === true) counts[k] = (counts[k] ?? 0) + 1;
      }
    }
  }
  const rate = (k: string) => (counts[k] ?? 0) / Math.max(questions, 1);
  return {
    games,
    return: meanSe(returns),
    returns,
    metrics: {
      success_rate: solved / games,
      mean_questions: questions / games,
      yes_no_rate: rate("bare_yes_no"),
      yes_no_parsed_rate: (counts.bare_yes_no ?? 0) / Math.max(questions - (counts.unparsed ?? 0), 1),
      unparsed_rate: rate("unparsed"),
      refused_rate: rate("refused"),
      open_rate: rate("open"),
      guess_rate: rate("guess"),
      penalised_rate: rate("penalised"),
    },
    seconds: (performance.now() - started) / 1000,
  };
}
