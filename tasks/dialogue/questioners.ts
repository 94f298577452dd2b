/**
 * Scripted questioners of the hidden-country game, for offline datasets and as reference policies. They share a
 * question bank (canonical phrasings of every question kind the answerer parses, plus a few it cannot answer) and
 * track the countries still consistent with the hint and the answers so far:
 * - `random`: a uniformly random bank question, or (25 %) a guess among the remaining countries;
 * - `greedy`: the question whose answer has the highest entropy over the remaining countries (information gain);
 *   it guesses once one country is left;
 * - `human`: prefers yes/no questions (85 %), picks among the ten most informative rather than the best, sometimes
 *   asks something the answerer cannot answer, and guesses early;
 * - mixtures of these, per question.
 * @module
 */
import type { Segment } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import type { BatchPolicy } from "../task.ts";
import { OPEN_KINDS, parseQuestion, type Question, respond, UNKNOWN_ANSWER } from "./answerer.ts";
import { countries, type Country, initialOf, placePhrase } from "./countries.ts";
import { hintFact } from "./game.ts";

/** One bank entry: phrasings that all parse to `question` (null: the answerer does not understand them). */
export interface BankQuestion {
  phrasings: string[];
  question: Question | null;
}

/** Questions the answerer cannot answer or refuses: no information, a wasted turn. */
export const UNANSWERABLE = [
  "Is it hot there?",
  "How many people live there?",
  "What currency do they use?",
  "Is it a rich country?",
  "What is its capital?",
  "Which country is it?",
];

const THE =
  /^(?:United|Central African|Dominican|Marshall|Solomon|Netherlands|Bahamas|Philippines|Gambia|Maldives|Comoros|Seychelles|DR Congo|Republic of|Vatican)/;
/** A country name as said in a sentence ("the Netherlands"). */
export const spoken = (name: string) => (THE.test(name) ? `the ${name}` : name);

let bank: { items: BankQuestion[]; answers: Int16Array[]; texts: string[][] } | null = null;

/**
 * The question bank and, per entry, the answer id each country gets (`answers[i][countryIndex]`, ids into
 * `texts[i]`).
 */
export function questionBank(): { items: BankQuestion[]; answers: Int16Array[]; texts: string[][] } {
  if (bank !== null) return bank;
  const all = countries();
  const uniq = <T>(xs: T[]) => [...new Set(xs)].sort();
  const q = (phrasings: string[]): BankQuestion => ({ phrasings, question: parseQuestion(phrasings[0]!) });
  const items: BankQuestion[] = [
    q(["Which region is it in?", "What continent is it on?"]),
    q(["Where exactly is it?", "Which subregion is it in?"]),
    q(["What languages are spoken there?", "What language do they speak?"]),
    q(["Which countries does it border?", "What are its neighbours?"]),
    q(["How many countries does it border?"]),
    q(["How big is it?", "What is its area?"]),
    q(["Which hemisphere is it in?"]),
    q(["What letter does its capital start with?"]),
    q(["What letter does its name start with?"]),
    q(["Is it landlocked?"]),
    q(["Does it have a coastline?"]),
    q(["Is it an island nation?"]),
    q(["Is it a big country?"]),
    q(["Is it a small country?"]),
    q(["Is it near the equator?"]),
    q(["Is it in the northern hemisphere?", "Is it north of the equator?"]),
    q(["Is it in the southern hemisphere?", "Is it south of the equator?"]),
    q(["Is it in the eastern hemisphere?"]),
    q(["Is it in the western hemisphere?"]),
    ...uniq(all.map((c) => c.region)).map((r) =>
      q([`Is it in ${placePhrase(r)}?`, `Is it a country in ${placePhrase(r)}?`])
    ),
    ...uniq(all.map((c) => c.subregion)).map((s) => q([`Is it in ${placePhrase(s)}?`])),
    ...uniq(all.flatMap((c) => c.languages)).map((l) => q([`Do they speak ${l}?`, `Is ${l} spoken there?`])),
    ...uniq(all.flatMap((c) => c.borders)).map((b) =>
      q([`Does it border ${spoken(b)}?`, `Is it next to ${spoken(b)}?`])
    ),
    ...uniq(all.map((c) => initialOf(c.capital))).map((l) => q([`Does its capital start with ${l}?`])),
    ...uniq(all.map((c) => initialOf(c.name))).map((l) => q([`Does its name start with ${l}?`])),
    ...all.map((c) => q([`Is it bigger than ${spoken(c.name)}?`])),
    ...all.map((c) => q([`Is it north of ${spoken(c.name)}?`])),
    ...all.map((c) => q([`Is it west of ${spoken(c.name)}?`])),
    ...all.map((c) => q([`Is it ${spoken(c.name)}?`, `Is the country ${spoken(c.name)}?`])),
    ...UNANSWERABLE.map((u) => q([u])),
  ];
  const answers: Int16Array[] = [];
  const texts: string[][] = [];
  for (const item of items) {
    const ids = new Map<string, number>();
    answers.push(Int16Array.from(all, (c) => {
      const a = item.question === null ? UNKNOWN_ANSWER : respond(item.question, c);
      if (!ids.has(a)) ids.set(a, ids.size);
      return ids.get(a)!;
    }));
    texts.push([...ids.keys()]);
  }
  return bank = { items, answers, texts };
}

/**
 * Indices (into `countries()`) of the countries consistent with a dialogue so far: the opening hint's fact and
 * every answered question the answerer understands.
 */
export function candidatesOf(history: readonly Segment[]): number[] {
  const all = countries();
  const checks: Array<(c: Country) => boolean> = [];
  for (let i = 0; i < history.length; i++) {
    const seg = history[i]!;
    if (seg.kind === "state" && i === 0) {
      const fact = hintFact(seg.text);
      if (fact !== null) checks.push((c) => respond(fact.question, c) === fact.answer);
    } else if (seg.kind === "action") {
      const question = parseQuestion(seg.text);
      const reply = history[i + 1];
      if (question !== null && reply?.kind === "state") checks.push((c) => respond(question, c) === reply.text);
    }
  }
  const out: number[] = [];
  all.forEach((c, i) => {
    if (checks.every((check) => check(c))) out.push(i);
  });
  return out;
}

/** Per country, the answer id of every bank question, with each question's offset into one count buffer. */
let byCountry: { rows: Int32Array[]; offsets: Int32Array; counts: Int32Array } | null = null;

/**
 * Entropy (bits) of every bank question's answer over the candidates, in one pass over the candidates: the scripted
 * questioners score the whole bank every question, and that was most of a dataset's time. The same sums in the same
 * order, so the values (and the datasets drawn with them) are the same to the bit.
 */
export function bankEntropies(candidates: readonly number[]): Float64Array {
  // a game's first questions share the few candidate sets the hints leave, and those are the large, costly ones
  const key = candidates.length >= MEMO_FROM ? candidates.join(",") : null;
  const known = key === null ? undefined : entropyMemo.get(key);
  if (known !== undefined) return known;
  const out = entropiesOf(candidates);
  if (key !== null) {
    if (entropyMemo.size >= MEMO_LIMIT) entropyMemo.clear();
    entropyMemo.set(key, out);
  }
  return out;
}
const entropyMemo = new Map<string, Float64Array>();
const MEMO_FROM = 8, MEMO_LIMIT = 4096;

function entropiesOf(candidates: readonly number[]): Float64Array {
  const { answers, texts } = questionBank();
  if (byCountry === null) {
    const offsets = new Int32Array(texts.length + 1);
    texts.forEach((t, i) => offsets[i + 1] = offsets[i]! + t.length);
    const rows = countries().map((_, c) => Int32Array.from(answers, (row, i) => offsets[i]! + row[c]!));
    byCountry = { rows, offsets, counts: new Int32Array(offsets[texts.length]!) };
  }
  const { rows, offsets, counts } = byCountry;
  counts.fill(0);
  for (const c of candidates) for (const slot of rows[c]!) counts[slot]!++;
  const n = candidates.length;
  return Float64Array.from(texts, (_, i) => {
    let h = 0;
    for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
      const m = counts[k]!;
      if (m > 0) h -= (m / n) * Math.log2(m / n);
    }
    return h;
  });
}

/** A scripted player of the questioning side. */
export interface Questioner {
  readonly name: string;
  ask(history: readonly Segment[], prng: Prng): string;
  /**
   * Every text `ask(history, ·)` can return, with its probability: the exact policy the datasets are drawn from,
   * against which a cloned policy's likelihood can be measured.
   */
  distribution(history: readonly Segment[]): Map<string, number>;
}

const guessText = (country: number) => `Is it ${spoken(countries()[country]!.name)}?`;
/** The countries a guess picks among: the candidates, or any country once none is consistent. */
const guessPool = (candidates: readonly number[]) => candidates.length > 0 ? candidates : countries().map((_, i) => i);

function guessAmong(candidates: readonly number[], prng: Prng): string {
  return guessText(prng.pick(guessPool(candidates)));
}

/** Adds `weight` times the distribution of {@link guessAmong} to `into`. */
function addGuesses(into: Map<string, number>, candidates: readonly number[], weight: number): void {
  const pool = guessPool(candidates);
  for (const c of pool) add(into, guessText(c), weight / pool.length);
}

const phrase = (item: number, prng: Prng) => prng.pick(questionBank().items[item]!.phrasings);

/** Adds `weight` times the distribution of `phrase(prng.pick(items))` to `into`. */
function addPhrasings(into: Map<string, number>, items: readonly number[], weight: number): void {
  const bankItems = questionBank().items;
  for (const i of items) {
    const phrasings = bankItems[i]!.phrasings;
    for (const p of phrasings) add(into, p, weight / items.length / phrasings.length);
  }
}

const add = (into: Map<string, number>, text: string, p: number) => into.set(text, (into.get(text) ?? 0) + p);
const isGuess = (item: BankQuestion) => item.question?.kind === "guess";
const isOpen = (item: BankQuestion) => item.question !== null && OPEN_KINDS.has(item.question.kind);

/** Uniformly random questions; a guess among the remaining countries with probability `guessRate`. */
export class RandomQuestioner implements Questioner {
  readonly name = "random";
  /** Bank indices of every question that is not a guess. */
  readonly #asks = questionBank().items.flatMap((item, i) => (isGuess(item) ? [] : [i]));
  constructor(private guessRate = 0.25) {}
  ask(history: readonly Segment[], prng: Prng): string {
    if (prng.next() < this.guessRate) return guessAmong(candidatesOf(history), prng);
    return phrase(prng.pick(this.#asks), prng);
  }
  distribution(history: readonly Segment[]): Map<string, number> {
    const out = new Map<string, number>();
    addGuesses(out, candidatesOf(history), this.guessRate);
    addPhrasings(out, this.#asks, 1 - this.guessRate);
    return out;
  }
}

/** Greedy information gain over the remaining countries (ties broken at random). */
export class GreedyQuestioner implements Questioner {
  readonly name = "greedy";
  ask(history: readonly Segment[], prng: Prng): string {
    const candidates = candidatesOf(history);
    const best = GreedyQuestioner.#best(candidates);
    return best.length === 0 ? guessAmong(candidates, prng) : phrase(prng.pick(best), prng);
  }
  distribution(history: readonly Segment[]): Map<string, number> {
    const candidates = candidatesOf(history);
    const best = GreedyQuestioner.#best(candidates);
    const out = new Map<string, number>();
    if (best.length === 0) addGuesses(out, candidates, 1);
    else addPhrasings(out, best, 1);
    return out;
  }
  /** The most informative bank questions; none (a guess) once one country is left or the rest are indistinguishable. */
  static #best(candidates: readonly number[]): number[] {
    if (candidates.length <= 1) return [];
    let best: number[] = [], bestH = 1e-9;
    bankEntropies(candidates).forEach((h, i) => {
      if (h > bestH + 1e-9) [best, bestH] = [[i], h];
      else if (h > bestH - 1e-9) best.push(i);
    });
    return best;
  }
}

/** Shares of the human-like questioner's questions: yes/no (of those it answers), unanswerable. */
const YES_NO_RATE = 0.85, UNANSWERABLE_RATE = 0.1;

/**
 * A human-like questioner: yes/no questions 85 % of the time, chosen among the ten most informative; 10 % of its
 * questions are ones the answerer cannot answer; it guesses with probability 0.2, 0.6 once five or fewer countries
 * remain, and always when one does.
 */
export class HumanQuestioner implements Questioner {
  readonly name = "human";
  ask(history: readonly Segment[], prng: Prng): string {
    const candidates = candidatesOf(history);
    if (candidates.length <= 1 || prng.next() < HumanQuestioner.#guessRate(candidates)) {
      return guessAmong(candidates, prng);
    }
    if (prng.next() < UNANSWERABLE_RATE) return prng.pick(UNANSWERABLE);
    const top = HumanQuestioner.#top(bankEntropies(candidates), prng.next() >= YES_NO_RATE);
    return top.length === 0 ? guessAmong(candidates, prng) : phrase(prng.pick(top), prng);
  }
  distribution(history: readonly Segment[]): Map<string, number> {
    const candidates = candidatesOf(history);
    const out = new Map<string, number>();
    const rate = candidates.length <= 1 ? 1 : HumanQuestioner.#guessRate(candidates);
    addGuesses(out, candidates, rate);
    for (const u of UNANSWERABLE) add(out, u, ((1 - rate) * UNANSWERABLE_RATE) / UNANSWERABLE.length);
    const entropies = bankEntropies(candidates);
    for (const [open, share] of [[true, 1 - YES_NO_RATE], [false, YES_NO_RATE]] as const) {
      const weight = (1 - rate) * (1 - UNANSWERABLE_RATE) * share;
      const top = HumanQuestioner.#top(entropies, open);
      if (top.length === 0) addGuesses(out, candidates, weight);
      else addPhrasings(out, top, weight);
    }
    return out;
  }
  static #guessRate = (candidates: readonly number[]) => candidates.length <= 5 ? 0.6 : 0.2;
  /** The ten most informative open (or yes/no) bank questions that still tell candidates apart ({@link bankEntropies}). */
  static #top(entropies: Float64Array, open: boolean): number[] {
    return questionBank().items.flatMap((item, i) =>
      isGuess(item) || item.question === null || isOpen(item) !== open ? [] : [{ i, h: entropies[i]! }]
    ).filter((s) => s.h > 1e-9).sort((a, b) => b.h - a.h || a.i - b.i).slice(0, 10).map((s) => s.i);
  }
}

/** Each question from one of the parts, drawn by weight. */
export class MixtureQuestioner implements Questioner {
  readonly name: string;
  constructor(private parts: ReadonlyArray<readonly [Questioner, number]>) {
    if (parts.some(([, w]) => !(w >= 0)) || !parts.some(([, w]) => w > 0)) {
      throw new Error("MixtureQuestioner needs weights >= 0, at least one of them positive");
    }
    const total = parts.reduce((s, [, w]) => s + w, 0);
    this.name = `mixture(${parts.map(([p, w]) => `${p.name} ${+(w / total).toFixed(3)}`).join(", ")})`;
  }
  ask(history: readonly Segment[], prng: Prng): string {
    return prng.weighted(this.parts).ask(history, prng);
  }
  distribution(history: readonly Segment[]): Map<string, number> {
    const total = this.parts.reduce((s, [, w]) => s + w, 0);
    const out = new Map<string, number>();
    for (const [part, w] of this.parts) {
      for (const [text, p] of part.distribution(history)) add(out, text, (w / total) * p);
    }
    return out;
  }
}

/** A questioner as a batched policy. */
export function questionerPolicy(questioner: Questioner, prng: Prng): BatchPolicy {
  return (histories) => histories.map((h) => questioner.ask(h, prng));
}
