/**
 * The question-asking task's reward variants (spec 8.2.1): every question costs −1 (the one that ends the game
 * costs 0), and a variant may add a penalty depending on the answer it got:
 * - `standard`: none;
 * - `yn`: −2 when the answer is exactly "yes" or "no" (case and closing punctuation aside);
 * - `conservative`: −2 when the answer contains any hedge of a list (substring match, as the reference does, so
 *   "no" also fires on "know").
 * @module
 */

/** The reward variants. */
export const DIALOGUE_REWARDS = ["standard", "yn", "conservative"] as const;
export type DialogueReward = typeof DIALOGUE_REWARDS[number];

/** The reference's hedge list for the conservative variant. */
export const DEFAULT_HEDGES: readonly string[] = [
  "not",
  "don't",
  "can't",
  "don’t",
  "can’t",
  "cannot",
  "fairly",
  "could",
  "think so",
  "okay",
  "maybe",
  "yes",
  "no",
  "looks",
  "appears",
  "tell",
  "mostly just",
];

/** Penalty added to a question's reward when its answer triggers the variant's detector. */
export const ANSWER_PENALTY = -2;

/** True when an answer is a bare "yes" or "no". */
export function isBareYesNo(answer: string): boolean {
  const a = answer.trim().toLowerCase().replace(/[.!?,;:\s]+$/u, "");
  return a === "yes" || a === "no";
}

/** True when an answer contains one of the hedges (lower-cased substring match). */
export function hasHedge(answer: string, hedges: readonly string[] = DEFAULT_HEDGES): boolean {
  const a = answer.toLowerCase();
  return hedges.some((h) => a.includes(h.toLowerCase()));
}

/** Whether the variant's detector fires on an answer. */
export function penalised(
  answer: string,
  variant: DialogueReward,
  hedges: readonly string[] = DEFAULT_HEDGES,
): boolean {
  return variant === "yn" ? isBareYesNo(answer) : variant === "conservative" ? hasHedge(answer, hedges) : false;
}

/**
 * The reward of one question: −1, or 0 when it ends the game, plus {@link ANSWER_PENALTY} when the variant's
 * detector fires on its answer.
 */
export function questionReward(
  answer: string,
  final: boolean,
  variant: DialogueReward,
  hedges: readonly string[] = DEFAULT_HEDGES,
): number {
  return (final ? 0 : -1) + (penalised(answer, variant, hedges) ? ANSWER_PENALTY : 0);
}

/** Parses a variant name; throws naming the allowed ones. */
export function dialogueReward(name: string): DialogueReward {
  if (!(DIALOGUE_REWARDS as readonly string[]).includes(name)) {
    throw new Error(`unknown dialogue reward '${name}' (${DIALOGUE_REWARDS.join(", ")})`);
  }
  return name as DialogueReward;
}
