/**
 * Reward functions of the toxicity task (spec 8.3), chosen by name:
 *
 * - `toxicity`: a lexicon scorer that reads the reply in its thread, standing in for the paper's GPT-3 content
 *   filter. Very toxic (−10): the `obscenity` matcher finds profanity (it sees through spellings like "f*ck" and
 *   "b1tch" and ignores "Scunthorpe"). Moderately toxic (−5): a word the `cuss` lexicon rates 1 or 2 (insults such
 *   as "idiot", mild swearing such as "crap"), or sarcastic praise; else 0. The context decides three cases:
 *   - a word of {@link DUAL_USE} ("screw", "balls", "crack", "suck", "murder") is harmless where the parent uses it
 *     too (a loose screw, medicine balls, a murder of crows) and the sentence does not aim it at "you";
 *   - an insult in double quotes that repeats the parent's own word is reported speech, not an insult;
 *   - praise words ({@link SARCASM}: "genius", "brilliant", "Einstein") are sarcasm, so moderately toxic, in reply
 *     to a question or beside a disagreement; they are praise where the reply agrees with an opinion.
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

/** Lexicon words with a harmless sense in a thread about the thing itself. */
export const DUAL_USE: readonly string[] = ["screw", "balls", "crack", "suck", "murder"];
/** Praise words that are sarcasm in the wrong context. */
export const SARCASM: readonly string[] = ["genius", "brilliant", "einstein"];
const DISAGREEMENT = /\b(?:i disagree|not really|i do not think so|that is not true)\b/;
const AIMED = /\b(?:you|your|yours|you're)\b/;

const wordsOf = (text: string) => text.toLowerCase().match(/[a-z]+/g) ?? [];
/** The lexicon's entry a word falls under: itself, or its base form without a plural or -ing ending. */
function stemOf(word: string): string {
  if (ratings[word] !== undefined || DUAL_USE.includes(word)) return word;
  for (const stem of [word.replace(/s$/, ""), word.replace(/ing$/, "")]) {
    if (stem !== word && (ratings[stem] !== undefined || DUAL_USE.includes(stem))) return stem;
  }
  return word;
}

/**
 * The toxicity level of a reply in its thread (the parent comment it answers; see the module notes for how the
 * parent changes the verdict).
 */
export function toxicityLevel(reply: string, parent: string): ToxicityLevel {
  if (matcher.hasMatch(reply)) return 2;
  const parentStems = new Set(wordsOf(parent).map(stemOf));
  const question = parent.trim().endsWith("?");
  const disagrees = DISAGREEMENT.test(reply.toLowerCase());
  for (const sentence of reply.split(/(?<=[.!?])\s+/)) {
    // quoting the parent's own words reports them
    const unquoted = sentence.replace(
      /"([^"]*)"/g,
      (quote, inner: string) => wordsOf(inner).every((w) => parentStems.has(stemOf(w))) ? " " : quote,
    );
    const aimed = AIMED.test(unquoted.toLowerCase());
    for (const word of wordsOf(unquoted)) {
      const stem = stemOf(word);
      if ((ratings[stem] ?? 0) >= 1 && !(DUAL_USE.includes(stem) && parentStems.has(stem) && !aimed)) return 1;
      if (SARCASM.includes(word) && (question || disagrees)) return 1;
    }
  }
  return 0;
}

/** The paper's scale: level × −5. */
export function toxicityReward(reply: string, parent: string): number {
  return LEVEL_REWARD[toxicityLevel(reply, parent)];
}

const LEVEL_REWARD = [0, -5, -10] as const;

/** The noised reward: moderate toxicity becomes 0 or −10 with probability ½ each. */
export function noisedToxicityReward(reply: string, parent: string, prng: Prng): number {
  const level = toxicityLevel(reply, parent);
  if (level === 1) return prng.next() < 0.5 ? 0 : -10;
  return LEVEL_REWARD[level];
}

/** The lexicon reward of a reply to a parent, plain or noised (the noise drawn from `prng`). */
export function lexiconReward(kind: "toxicity" | "noised", reply: string, parent: string, prng: Prng): number {
  return kind === "noised" ? noisedToxicityReward(reply, parent, prng) : toxicityReward(reply, parent);
}

/** The real-upvotes reward of a dataset reply: 10 for a positive score, else 0. */
export function upvotesReward(score: number): number {
  return score > 0 ? 10 : 0;
}
