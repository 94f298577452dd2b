/**
 * The Q-ranking diagnostic of the paper's section 5 (reference `Action_Ranking_Evaluator_Adversarial`): at the
 * lava dataset's branch states (the expert's state after two guesses), does the value function rank the expert's
 * next guess above the adversarial guess that repeats an earlier word? And at the opening state, the expert's
 * first guess above a suboptimal player's? Values are compared token by token over the guess's six action tokens
 * (five letters and `</a>`), counted from the end as the reference does (−1 is `</a>`, −6 the first letter).
 *
 * The task only pairs states and actions; the caller supplies the values (tasks know nothing about algorithms).
 * @module
 */
import type { Segment } from "../../ilql/episode.ts";
import type { WordleEpisode, WordleMeta } from "./data.ts";

/** A state with the expert action and a worse one. */
export interface RankingPair {
  history: Segment[];
  expert: string;
  other: string;
}

/** Values of each action token of `utterance` after `history` (in order). */
export type UtteranceScorer = (items: Array<{ history: Segment[]; utterance: string }>) => number[][];

/** History segments of the first `guesses` guesses of an episode (each guess and its colours). */
function prefix(episode: WordleEpisode, guesses: number): Segment[] {
  const out: Segment[] = [];
  let seen = 0;
  for (const seg of episode.segments) {
    if (seg.kind === "action" && seen++ === guesses) break;
    out.push(seg);
  }
  return out;
}

/** Branch pairs: (expert state after two guesses, expert third guess, adversarial third guess), one per lava game. */
export function branchPairs(episodes: readonly WordleEpisode[]): RankingPair[] {
  const experts = new Map<string, WordleEpisode>();
  for (const e of episodes) {
    if (e.meta.kind === "expert" && e.meta.branch) experts.set(`${e.meta.answer}|${e.meta.branch.before}`, e);
  }
  const pairs: RankingPair[] = [];
  for (const e of episodes) {
    if (e.meta.kind !== "adversarial" || !e.meta.branch) continue;
    const expert = experts.get(`${e.meta.answer}|${e.meta.branch.before}`);
    if (expert === undefined) continue;
    pairs.push({ history: prefix(expert, 2), expert: expert.meta.branch!.action, other: e.meta.branch.action });
  }
  return pairs;
}

/**
 * Opening pairs: the first guess of each `worse` game (the lava data's suboptimal mixture by default) against the
 * first guess of a `better` game (its expert), taken in turn.
 */
export function openingPairs(
  episodes: readonly WordleEpisode[],
  better: WordleMeta["kind"] = "expert",
  worse: WordleMeta["kind"] = "suboptimal",
): RankingPair[] {
  const firsts = (kind: WordleMeta["kind"]) =>
    episodes.filter((e) => e.meta.kind === kind).map((e) => e.segments.find((s) => s.kind === "action")!.text);
  const expert = firsts(better);
  if (expert.length === 0) return [];
  return firsts(worse).map((other, i) => ({ history: [], expert: expert[i % expert.length]!, other }));
}

/** Q-ranking accuracy per action-token position (index 0 = position −1 = `</a>`) and its mean. */
export interface RankingAccuracy {
  byPosition: number[];
  mean: number;
  pairs: number;
  /** Mean value of the expert's and of the other guesses at their last token (the value of the whole guess). */
  expertValue: number;
  otherValue: number;
  /** The same at their first token: at a shared state, what decoding weighs when it picks the guess's first letter. */
  expertFirstValue: number;
  otherFirstValue: number;
}

/** Fraction of pairs where the expert token's value exceeds the other's, at each position counted from the end. */
export function rankingAccuracy(pairs: readonly RankingPair[], score: UtteranceScorer): RankingAccuracy {
  if (pairs.length === 0) throw new Error("no ranking pairs (is this a lava dataset with branch metadata?)");
  const values = score(pairs.flatMap((p) => [
    { history: p.history, utterance: p.expert },
    { history: p.history, utterance: p.other },
  ]));
  const positions = 6;
  const correct = new Array<number>(positions).fill(0);
  pairs.forEach((_, i) => {
    const e = values[2 * i]!;
    const o = values[2 * i + 1]!;
    for (let j = 0; j < positions; j++) if (e[e.length - 1 - j]! > o[o.length - 1 - j]!) correct[j]!++;
  });
  const byPosition = correct.map((c) => c / pairs.length);
  const meanAt = (offset: number, position: number) =>
    pairs.reduce((s, _, i) => s + values[2 * i + offset]!.at(position)!, 0) / pairs.length;
  return {
    byPosition,
    mean: byPosition.reduce((s, x) => s + x, 0) / positions,
    pairs: pairs.length,
    expertValue: meanAt(0, -1),
    otherValue: meanAt(1, -1),
    expertFirstValue: meanAt(0, -positions),
    otherFirstValue: meanAt(1, -positions),
  };
}
