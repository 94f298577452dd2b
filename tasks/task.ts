/**
 * The boundary between tasks and algorithms. A task supplies episodes (offline data), a tokenizer and, when it can
 * be played, an environment; it knows nothing about how a policy is trained.
 * @module
 */
import type { ScoredText } from "../ilql/decode.ts";
import type { UtteranceLogProb, UtteranceValues } from "../ilql/values.ts";
import type { Segment } from "../ilql/episode.ts";

/** One environment reply to an agent utterance. */
export interface StepResult {
  /** Environment text shown to the agent next (may be empty when the episode ends). */
  segments: Segment[];
  /** Reward of the agent utterance just played. */
  reward: number;
  done: boolean;
  /** Task-specific facts about the step (e.g. `invalid: true` for a guess outside the word list). */
  info?: Record<string, number | boolean | string>;
}

/** A multi-turn text environment (the reference's `Language_Environment`). */
export interface LanguageEnv {
  /** Starts an episode; returns the opening environment segments (possibly none). */
  reset(): Segment[];
  /** Plays one agent utterance. */
  step(action: string): StepResult;
}

/** Something that answers a batch of dialogue histories with one utterance each. */
export type BatchPolicy = (histories: readonly Segment[][]) => string[];

/** A batched policy that also reports each utterance's log-probability under the distribution it came from. */
export type ScoredPolicy = (histories: readonly Segment[][]) => ScoredText[];

/** Utterances said after dialogue histories, to be scored by a model. */
export type ScoredItems = ReadonlyArray<{ history: readonly Segment[]; utterance: string }>;

/**
 * What a task may ask of a trained model about dialogues it did not play (e.g. held-out episodes): the policy's
 * log-probability of each utterance, and for a model with learned values its V and Q̄ along the utterance.
 */
export interface ModelScorer {
  logProbs(items: ScoredItems): UtteranceLogProb[];
  /** Null for a model without learned values. */
  values: ((items: ScoredItems) => UtteranceValues[]) | null;
  /** The discount per action token the model's values were learned with. */
  gamma: number;
}

/** The texts of a scored policy. */
export function textsOf(policy: ScoredPolicy): BatchPolicy {
  return (histories) => policy(histories).map((u) => u.text);
}

/** One played episode. */
export interface Rollout {
  segments: Segment[];
  return: number;
  /** False when `maxTurns` cut the episode off. */
  done: boolean;
  /** The `info` of each step. */
  infos: Array<NonNullable<StepResult["info"]>>;
}

/** Plays one episode per environment with a batched policy; returns each episode's segments, return and infos. */
export function rollout(envs: readonly LanguageEnv[], policy: BatchPolicy, maxTurns = 100): Rollout[] {
  const histories = envs.map((env) => env.reset());
  const returns = envs.map(() => 0);
  const live = envs.map(() => true);
  const infos: Array<Rollout["infos"]> = envs.map(() => []);
  for (let turn = 0; turn < maxTurns && live.some(Boolean); turn++) {
    const ids = live.flatMap((on, i) => (on ? [i] : []));
    const actions = policy(ids.map((i) => histories[i]!));
    ids.forEach((i, j) => {
      const result = envs[i]!.step(actions[j]!);
      histories[i]!.push({ kind: "action", text: actions[j]!, reward: result.reward }, ...result.segments);
      returns[i]! += result.reward;
      infos[i]!.push(result.info ?? {});
      if (result.done) live[i] = false;
    });
  }
  return histories.map((segments, i) => ({ segments, return: returns[i]!, done: !live[i], infos: infos[i]! }));
}
