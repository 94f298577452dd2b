/**
 * Wordle: five-letter words, six guesses, colour feedback (spec 8.1). Colours follow the official rules by
 * default — greens first, then yellows left to right up to the number of that letter's occurrences not already
 * matched — or, as an option, the reference code's simpler rule (every non-green occurrence of a letter that is in
 * the answer is yellow). A guess scores −1, the solving guess 0, so a game returns −(n−1) when solved in n guesses
 * and −6 when not. A guess outside the allowed list costs a turn, scores −1 and gets no feedback.
 * @module
 */
import type { Segment } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import { CharTokenizer } from "../../ilql/tokenizer.ts";
import type { LanguageEnv, StepResult } from "../task.ts";

/** Guesses per game. */
export const MAX_GUESSES = 6;
/** Letters per word. */
export const WORD_LENGTH = 5;

/** One tile's colour: green (right letter, right place), yellow (elsewhere in the word), black (not in it). */
export type Colour = "g" | "y" | "b";

/** How duplicate letters are coloured. */
export type ColourRule = "official" | "reference";

/** Colour tokens, as they appear in observations. */
export const COLOUR_TOKENS = { g: "<g>", y: "<y>", b: "<b>" } as const;

/** The Wordle tokenizer of the reference (35 ids): the six specials, three colour tokens, a–z. */
export const WORDLE_TOKENIZER = new CharTokenizer({
  alphabet: "abcdefghijklmnopqrstuvwxyz",
  symbols: [COLOUR_TOKENS.g, COLOUR_TOKENS.b, COLOUR_TOKENS.y],
});

const A = "a".charCodeAt(0);

/** Colours of `guess` against `answer` (both five lowercase letters). */
export function feedback(guess: string, answer: string, rule: ColourRule = "official"): Colour[] {
  const out: Colour[] = new Array(WORD_LENGTH).fill("b");
  if (rule === "reference") {
    for (let i = 0; i < WORD_LENGTH; i++) {
      out[i] = guess[i] === answer[i] ? "g" : answer.includes(guess[i]!) ? "y" : "b";
    }
    return out;
  }
  const unmatched = new Array<number>(26).fill(0);
  for (let i = 0; i < WORD_LENGTH; i++) {
    if (guess[i] === answer[i]) out[i] = "g";
    else unmatched[answer.charCodeAt(i) - A]!++;
  }
  for (let i = 0; i < WORD_LENGTH; i++) {
    if (out[i] === "g") continue;
    const c = guess.charCodeAt(i) - A;
    if (unmatched[c]! > 0) {
      out[i] = "y";
      unmatched[c]!--;
    }
  }
  return out;
}

/** A base-3 code of a colour pattern (0 … 242), handy for grouping candidates. */
export function patternCode(colours: readonly Colour[]): number {
  let code = 0;
  for (const c of colours) code = code * 3 + (c === "g" ? 2 : c === "y" ? 1 : 0);
  return code;
}

/** Observation text of a colour pattern, e.g. `<g><b><y><b><b>`. */
export function coloursText(colours: readonly Colour[]): string {
  return colours.map((c) => COLOUR_TOKENS[c]).join("");
}

/** Parses observation text back into colours; throws on anything else. */
export function parseColours(text: string): Colour[] {
  const m = /^(?:<([gyb])>){5}$/.test(text) ? [...text.matchAll(/<([gyb])>/g)].map((x) => x[1] as Colour) : null;
  if (m === null) throw new Error(`'${text}' is not a pattern of five colour tokens`);
  return m;
}

/** A guess made so far and its feedback (null for an invalid guess). */
export interface Turn {
  guess: string;
  colours: Colour[] | null;
}

/** Whether `word` could be the answer given the turns so far (the same rule that produced the feedback). */
export function isConsistent(word: string, turns: readonly Turn[], rule: ColourRule = "official"): boolean {
  for (const t of turns) {
    if (t.colours === null) continue;
    const f = feedback(t.guess, word, rule);
    for (let i = 0; i < WORD_LENGTH; i++) if (f[i] !== t.colours[i]) return false;
  }
  return true;
}

/** Options of {@link WordleEnv}. */
export interface WordleEnvOptions {
  /** Hidden words are drawn uniformly from these. */
  answers: readonly string[];
  /**
   * Words accepted as guesses (the answers are always accepted too), or `"any"`: every five-letter a–z string, the
   * reference implementation's game.
   */
  allowed: ReadonlySet<string> | "any";
  /** Seeded source of hidden words. */
  prng: Prng;
  rule?: ColourRule;
  /** Fixes the hidden word of the next games in order (for evaluation over a list); overrides the draw. */
  schedule?: readonly string[];
}

/** Wordle as a language environment: the agent speaks first; each valid guess is answered with its colours. */
export class WordleEnv implements LanguageEnv {
  readonly rule: ColourRule;
  #answers: readonly string[];
  #allowed: ReadonlySet<string> | "any";
  #prng: Prng;
  #schedule: readonly string[];
  #games = 0;
  #answer = "";
  #turns: Turn[] = [];
  #done = true;

  constructor(options: WordleEnvOptions) {
    if (options.answers.length === 0) throw new Error("WordleEnv needs at least one answer");
    this.rule = options.rule ?? "official";
    this.#answers = options.answers;
    this.#allowed = options.allowed;
    this.#prng = options.prng;
    this.#schedule = options.schedule ?? [];
  }

  /** The hidden word of the current game. */
  get answer(): string {
    return this.#answer;
  }

  /** The guesses of the current game so far. */
  get turns(): readonly Turn[] {
    return this.#turns;
  }

  reset(): Segment[] {
    this.#answer = this.#games < this.#schedule.length ? this.#schedule[this.#games]! : this.#prng.pick(this.#answers);
    this.#games++;
    this.#turns = [];
    this.#done = false;
    return [];
  }

  step(action: string): StepResult {
    if (this.#done) throw new Error("WordleEnv.step called after the game ended; call reset first");
    const valid = isWord(action) &&
      (this.#allowed === "any" || this.#allowed.has(action) || this.#answers.includes(action));
    const colours = valid ? feedback(action, this.#answer, this.rule) : null;
    this.#turns.push({ guess: action, colours });
    const solved = action === this.#answer;
    this.#done = solved || this.#turns.length >= MAX_GUESSES;
    return {
      segments: colours === null ? [] : [{ kind: "state", text: coloursText(colours) }],
      reward: solved ? 0 : -1,
      done: this.#done,
      info: { invalid: !valid, solved },
    };
  }
}

/** True for exactly five lowercase ASCII letters. */
export function isWord(text: string): boolean {
  return /^[a-z]{5}$/.test(text);
}
