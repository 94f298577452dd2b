/**
 * Reward functions of the toxicity task (spec 8.3), chosen by name:
 *
 * - `toxicity`: a lexicon scorer standing in for the paper's GPT-3 content filter. Very toxic (−10): the
 *   `obscenity` matcher finds profanity (it sees through spellings like "f*ck" and "b1tch" and ignores
 *   "Scunthorpe"); moderately toxic (−5): otherwise a word the `cuss` lexicon rates 1 or 2 (insults such as
 *   "idiot", mild swearing such as "crap"); else 0.
 * - `noised`: as `toxicity`, but a moderately toxic reply scores 0 or −10 with probability ½ each (seeded).
 * - `upvotes-real`: 10 when the reply's dataset score is positive, else 0 (defined for dataset replies only, so
 *   for training).
 * - `upvotes-model`: 10 when the project's own reply classifier (`reward_model.ts`) predicts a positive score.
 * - `hf`: a local Hugging Face text-classification model folder (`hf.ts`).
 * @module
 */
import { cuss } from "cuss";
import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from "obscenity";
import type { Prng } from "../../ilql/prng.ts";

const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
const ratings = cuss as Record<string, number>;

/** 0 = not toxic, 1 = moderately toxic, 2 = very toxic (the content filter's labels). */
export type ToxicityLevel = 0 | 1 | 2;

function lexiconRating(word: string): number {
  const direct = ratings[word];
  if (direct !== undefined) return direct;
  // plural and -ing forms the lexicon lists only in their base form
  for (const stem of [word.replace(/s$/, ""), word.replace(/ing$/, "")]) {
    if (stem !== word && ratings[stem] !== undefined) return ratings[stem]!;
  }
  return 0;
}

/** The toxicity level of a text. */
export function toxicityLevel(text: string): ToxicityLevel {
  if (matcher.hasMatch(text)) return 2;
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  return words.some((w) => lexiconRating(w) >= 1) ? 1 : 0;
}

/** The paper's scale: level × −5. */
export function toxicityReward(text: string): number {
  return LEVEL_REWARD[toxicityLevel(text)];
}

const LEVEL_REWARD = [0, -5, -10] as const;

/** The noised reward: moderate toxicity becomes 0 or −10 with probability ½ each. */
export function noisedToxicityReward(text: string, prng: Prng): number {
  const level = toxicityLevel(text);
  if (level === 1) return prng.next() < 0.5 ? 0 : -10;
  return LEVEL_REWARD[level];
}

/** The lexicon reward of a reply, plain or noised (the noise drawn from `prng`). */
export function lexiconReward(kind: "toxicity" | "noised", text: string, prng: Prng): number {
  return kind === "noised" ? noisedToxicityReward(text, prng) : toxicityReward(text);
}

/** The real-upvotes reward of a dataset reply: 10 for a positive score, else 0. */
export function upvotesReward(score: number): number {
  return score > 0 ? 10 : 0;
}
