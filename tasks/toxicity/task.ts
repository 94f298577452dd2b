/**
 * The toxicity task (spec 8.3): one step, state = the parent comment, action = the reply, then the episode ends
 * (`<s>parent</s>reply</a></eod>`). Offline episodes come from a thread set and a reward; the environment draws a
 * parent and scores the reply; the evaluator samples one reply to each of N test parents and reports the reward
 * with fluency and diversity beside it.
 * @module
 */
import { meanSe } from "../../eval/stats.ts";
import type { Episode, Segment } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import type { LanguageEnv, StepResult } from "../task.ts";
import { toxicityLevel } from "./reward.ts";
import type { Thread, ThreadSet } from "./threads.ts";

/** Scores replies to parents (a batch at a time, so a model-based reward can run batched or asynchronously). */
export type ReplyReward = (items: ReadonlyArray<{ parent: string; reply: string }>) => number[] | Promise<number[]>;

/** The offline episode of a thread with its reward. */
export function threadEpisode(thread: Thread, reward: number): Episode {
  return {
    segments: [{ kind: "state", text: thread.parent }, { kind: "action", text: thread.comment, reward }],
    terminal: true,
  };
}

/** One-step environment: a parent from the given list, then the reply's reward (a synchronous reward only). */
export class ReplyEnv implements LanguageEnv {
  #parent = "";

  constructor(
    private parents: readonly string[],
    private reward: (parent: string, reply: string) => number,
    private prng: Prng,
  ) {
    if (parents.length === 0) throw new Error("ReplyEnv needs at least one parent");
  }

  reset(): Segment[] {
    this.#parent = this.prng.pick(this.parents);
    return [{ kind: "state", text: this.#parent }];
  }

  step(reply: string): StepResult {
    return {
      segments: [],
      reward: this.reward(this.#parent, reply),
      done: true,
    };
  }
}

/** Options of {@link evaluateReplies}. */
export interface ReplyEvalOptions {
  threads: ThreadSet;
  reward: ReplyReward;
  /** Number of test parents (drawn uniformly from the test split with `seed`); default 1,024. */
  parents?: number;
  seed?: number;
  batchSize?: number;
  /**
   * Log-probability and token count of each reply under the behaviour-cloned model, for perplexity and the KL
   * estimate; those metrics are NaN without it.
   */
  reference?: (items: Array<{ history: Segment[]; utterance: string }>) => Array<{ logProb: number; tokens: number }>;
}

/** Result of {@link evaluateReplies}. */
export interface ReplyEvalResult {
  returns: number[];
  replies: string[];
  metrics: {
    /** Fraction of replies the lexicon scorer calls toxic (moderately or very). */
    toxic_rate: number;
    /** exp(−Σ log π_BC / Σ tokens) over the replies (their closing `</a>` included). */
    perplexity: number;
    /** Distinct unigrams / all unigrams, and the same for bigrams, over all replies' words. */
    distinct_1: number;
    distinct_2: number;
    /** Mean words per reply. */
    mean_length: number;
    /** mean (log π(reply) − log π_BC(reply)) for a policy that reports its log-probabilities, else NaN. */
    kl_from_bc: number;
  };
  seconds: number;
}

/** Distinct n-grams / all n-grams over whitespace-separated, lower-cased words. */
export function distinctN(texts: readonly string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const t of texts) {
    const words = t.toLowerCase().split(/\s+/).filter(Boolean);
    for (let i = 0; i + n <= words.length; i++) {
      seen.add(words.slice(i, i + n).join(" "));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/**
 * Samples one reply to each of N test parents and scores them.
 * @param policy returns, per history, the reply text or `{ text, logProb }`
 */
export async function evaluateReplies(
  policy: (histories: readonly Segment[][]) => Array<string | { text: string; logProb: number }>,
  options: ReplyEvalOptions,
  prng: Prng,
): Promise<ReplyEvalResult> {
  const started = performance.now();
  const { threads, splits } = options.threads;
  if (splits.test.length === 0) throw new Error("the thread set has an empty test split");
  const count = options.parents ?? 1024;
  const parents = Array.from({ length: count }, () => threads[prng.pick(splits.test)]!.parent);
  const batchSize = options.batchSize ?? 256;
  const replies: string[] = [];
  const logProbs: number[] = [];
  for (let i = 0; i < count; i += batchSize) {
    const out = policy(parents.slice(i, i + batchSize).map((p) => [{ kind: "state" as const, text: p }]));
    for (const u of out) {
      replies.push(typeof u === "string" ? u : u.text);
      logProbs.push(typeof u === "string" ? NaN : u.logProb);
    }
  }
  const returns = await options.reward(parents.map((parent, i) => ({ parent, reply: replies[i]! })));
  let perplexity = NaN, kl = NaN;
  if (options.reference) {
    const ref = options.reference(
      parents.map((p, i) => ({ history: [{ kind: "state", text: p }], utterance: replies[i]! })),
    );
    const nll = -ref.reduce((s, r) => s + r.logProb, 0);
    perplexity = Math.exp(nll / ref.reduce((s, r) => s + r.tokens, 0));
    kl = meanSe(logProbs.map((lp, i) => lp - ref[i]!.logProb)).mean;
  }
  return {
    returns,
    replies,
    metrics: {
      toxic_rate: replies.filter((r, i) => toxicityLevel(r, parents[i]!) > 0).length / count,
      perplexity,
      distinct_1: distinctN(replies, 1),
      distinct_2: distinctN(replies, 2),
      mean_length: replies.reduce((s, r) => s + r.split(/\s+/).filter(Boolean).length, 0) / count,
      kl_from_bc: kl,
    },
    seconds: (performance.now() - started) / 1000,
  };
}
