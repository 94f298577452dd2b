/**
 * Scripted Wordle players (spec 8.1.4), used to make datasets and as reference returns: a random allowed word, a
 * random word consistent with the feedback so far, the greedy maximum-information player over consistent words
 * (the reference's `OptimalPolicy`, with a cache), a player that repeats one of its first words, and mixtures.
 * @module
 */
import type { Prng } from "../../ilql/prng.ts";
import { type ColourRule, patternCode, type Turn, WORD_LENGTH } from "./game.ts";

/** Chooses the next guess from the turns so far. */
export interface Player {
  readonly name: string;
  guess(turns: readonly Turn[], prng: Prng): string;
}

const A = 97;

/** Base-3 feedback code of `guess` against `answer` (0 … 242), the same colours as `feedback()`. */
export function feedbackCode(guess: string, answer: string, rule: ColourRule): number {
  let greens = 0;
  const unmatched = new Int8Array(26);
  for (let i = 0; i < WORD_LENGTH; i++) {
    if (guess.charCodeAt(i) === answer.charCodeAt(i)) greens |= 1 << i;
    else unmatched[answer.charCodeAt(i) - A]!++;
  }
  let code = 0;
  for (let i = 0; i < WORD_LENGTH; i++) {
    let digit = 0;
    if (greens & (1 << i)) digit = 2;
    else {
      const c = guess.charCodeAt(i) - A;
      if (rule === "reference") digit = answer.includes(guess[i]!) ? 1 : 0;
      else if (unmatched[c]! > 0) {
        digit = 1;
        unmatched[c]!--;
      }
    }
    code = code * 3 + digit;
  }
  return code;
}

/** The words of `vocabulary` that agree with every valid turn's feedback. */
export function consistentWords(vocabulary: readonly string[], turns: readonly Turn[], rule: ColourRule): string[] {
  const checks = turns.filter((t) => t.colours !== null).map((t) => [t.guess, patternCode(t.colours!)] as const);
  return vocabulary.filter((w) => checks.every(([g, code]) => feedbackCode(g, w, rule) === code));
}

/** Uniformly random word from a list of allowed guesses. */
export class RandomPlayer implements Player {
  readonly name = "random";
  constructor(private words: readonly string[]) {}
  guess(_turns: readonly Turn[], prng: Prng): string {
    return prng.pick(this.words);
  }
}

/** Uniformly random word of the vocabulary that is consistent with the feedback so far. */
export class ConsistentPlayer implements Player {
  readonly name = "random-consistent";
  constructor(private vocabulary: readonly string[], private rule: ColourRule = "official") {}
  guess(turns: readonly Turn[], prng: Prng): string {
    const candidates = consistentWords(this.vocabulary, turns, this.rule);
    return prng.pick(candidates.length > 0 ? candidates : this.vocabulary);
  }
}

/**
 * Greedy information player: among the consistent words, the guess whose feedback splits them most evenly
 * (maximum entropy of the feedback pattern, i.e. log|V| − E[log|V'|]); ties broken at random. The best guesses of
 * each state are cached, so repeated states (every opening) cost nothing.
 */
export class InfoPlayer implements Player {
  readonly name = "information";
  #cache = new Map<string, string[]>();

  constructor(private vocabulary: readonly string[], private rule: ColourRule = "official") {}

  guess(turns: readonly Turn[], prng: Prng): string {
    return prng.pick(this.bestGuesses(turns));
  }

  /** Every guess of maximum information at this state. */
  bestGuesses(turns: readonly Turn[]): string[] {
    const key = turns.map((t) => `${t.guess}:${t.colours === null ? "x" : patternCode(t.colours)}`).join(",");
    let best = this.#cache.get(key);
    if (best === undefined) {
      const candidates = consistentWords(this.vocabulary, turns, this.rule);
      best = candidates.length <= 2 ? candidates.slice(0, 1) : maxEntropy(candidates, this.rule);
      if (best.length === 0) best = [...this.vocabulary];
      this.#cache.set(key, best);
    }
    return best;
  }
}

/**
 * Σ n log n over the groups of `words` that answer `guess` with the same colours (`counts`: 243 slots of scratch):
 * `words.length` times the expected log-size of the group left, so smaller splits the words better.
 */
function splitCost(guess: string, words: readonly string[], rule: ColourRule, counts: Int32Array): number {
  counts.fill(0);
  for (const w of words) counts[feedbackCode(guess, w, rule)]!++;
  let cost = 0;
  for (const n of counts) if (n > 1) cost += n * Math.log(n);
  return cost;
}

function maxEntropy(candidates: readonly string[], rule: ColourRule): string[] {
  const counts = new Int32Array(243);
  let bestScore = -Infinity;
  let best: string[] = [];
  for (const g of candidates) {
    // entropy up to constants (larger is better)
    const score = -splitCost(g, candidates, rule, counts);
    if (score > bestScore + 1e-9) {
      bestScore = score;
      best = [g];
    } else if (Math.abs(score - bestScore) <= 1e-9) best.push(g);
  }
  return best;
}

/**
 * A player with two habits of weak human play: it reads only the green letters, so it reuses letters the game has
 * already marked grey and ignores yellow ones. Per move, a random unplayed vocabulary word that keeps every green
 * letter in place.
 */
export class GreensOnlyPlayer implements Player {
  readonly name = "greens-only";
  constructor(private vocabulary: readonly string[]) {}
  guess(turns: readonly Turn[], prng: Prng): string {
    const played = new Set(turns.map((t) => t.guess));
    const candidates = this.vocabulary.filter((w) =>
      !played.has(w) &&
      turns.every((t) => t.colours === null || t.colours.every((c, i) => c !== "g" || w[i] === t.guess[i]))
    );
    return prng.pick(candidates.length > 0 ? candidates : this.vocabulary);
  }
}

/** Opens with a word drawn from `openers` (one word: always the same), then plays as `then`. */
export class OpenerPlayer implements Player {
  readonly name: string;
  constructor(private openers: readonly string[], private then: Player) {
    if (openers.length === 0) throw new Error("OpenerPlayer needs at least one opener");
    this.name = `${then.name} opening with ${openers.length === 1 ? `'${openers[0]}'` : `${openers.length} words`}`;
  }
  guess(turns: readonly Turn[], prng: Prng): string {
    if (turns.length > 0) return this.then.guess(turns, prng);
    return this.openers.length === 1 ? this.openers[0]! : prng.pick(this.openers);
  }
}

/**
 * Each vocabulary word as an opening guess, scored by the expected log-size of the words left after its feedback
 * (lower is more informative), in list order.
 */
export function openerScores(vocabulary: readonly string[], rule: ColourRule): Array<[string, number]> {
  const counts = new Int32Array(243);
  return vocabulary.map((guess) => [guess, splitCost(guess, vocabulary, rule, counts) / vocabulary.length]);
}

/** The `count` most informative openers of the vocabulary, best first (ties in list order: the sort is stable). */
export function bestOpeners(vocabulary: readonly string[], rule: ColourRule, count: number): string[] {
  return openerScores(vocabulary, rule).sort(([, a], [, b]) => a - b).slice(0, count).map(([w]) => w);
}

/** The least informative opener of the vocabulary (ties: the first in list order). */
export function worstOpener(vocabulary: readonly string[], rule: ColourRule): string {
  let worst: [string, number] = ["", -Infinity];
  for (const entry of openerScores(vocabulary, rule)) if (entry[1] > worst[1]) worst = entry;
  return worst[0];
}

/** Repeats one of its first `firstN` guesses forever (made by `opening` before then): it can never win. */
export class RepeatPlayer implements Player {
  readonly name = "repeat";
  constructor(private opening: Player, private firstN = 2) {}
  guess(turns: readonly Turn[], prng: Prng): string {
    if (turns.length < this.firstN) return this.opening.guess(turns, prng);
    return turns[prng.int(this.firstN)]!.guess;
  }
}

/** Picks one of its players at every move, with the given weights. */
export class MixturePlayer implements Player {
  readonly name: string;

  constructor(private parts: ReadonlyArray<readonly [Player, number]>) {
    if (parts.some(([, w]) => !(w >= 0)) || !parts.some(([, w]) => w > 0)) {
      throw new Error("MixturePlayer needs weights >= 0, at least one of them positive");
    }
    this.parts = parts.filter(([, w]) => w > 0);
    const total = this.parts.reduce((s, [, w]) => s + w, 0);
    this.name = "mixture(" + this.parts.map(([p, w]) => `${p.name} ${+(w / total).toFixed(3)}`).join(", ") + ")";
  }

  guess(turns: readonly Turn[], prng: Prng): string {
    return prng.weighted(this.parts).guess(turns, prng);
  }
}
