/**
 * The hidden-country game (the paper's question-asking task, played against a rule-based answerer): the agent sees
 * an opening hint (the caption analogue), asks up to 20 questions and wins by naming the country ("Is it Peru?").
 * Every question costs −1, the winning guess 0, plus the reward variant's penalty on the answer (see `reward.ts`).
 * @module
 */
import type { Segment } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import type { LanguageEnv, StepResult } from "../task.ts";
import { answer, CORRECT_ANSWER, OPEN_KINDS, type Question, REFUSAL, respond } from "./answerer.ts";
import { countries, type Country, countryByName, initialOf, placePhrase } from "./countries.ts";
import { DEFAULT_HEDGES, type DialogueReward, isBareYesNo, penalised, questionReward } from "./reward.ts";

/** Questions per game. */
export const MAX_QUESTIONS = 20;

/** What an opening hint tells: the answer a question would get. */
export interface HintFact {
  question: Question;
  answer: string;
}

/** Every hint the game may open with for a country: its text and the fact it states. */
export function hintsOf(c: Country): Array<{ text: string; fact: HintFact }> {
  const hints = [
    { text: `It is a country in ${placePhrase(c.region)}.`, fact: { question: { kind: "region", region: c.region } } },
    {
      text: c.landlocked ? "It is landlocked." : "It has a coastline.",
      fact: { question: { kind: "landlocked", negated: !c.landlocked } },
    },
    {
      text: `It lies in the ${c.latitude >= 0 ? "northern" : "southern"} hemisphere.`,
      fact: { question: { kind: "hemisphere", side: c.latitude >= 0 ? "northern" : "southern" } },
    },
    {
      text: `Its name starts with ${initialOf(c.name)}.`,
      fact: { question: { kind: "name-letter", letter: initialOf(c.name) } },
    },
    ...c.languages.map((l) => ({
      text: `People there speak ${l}.`,
      fact: { question: { kind: "speaks", language: l } },
    })),
    ...(c.borders.length === 0
      ? [{ text: "It has no land borders.", fact: { question: { kind: "has-borders" } } }]
      : c.borders.map((b) => ({ text: `It borders ${b}.`, fact: { question: { kind: "borders", country: b } } }))),
  ] as Array<{ text: string; fact: { question: Question } }>;
  return hints.map((h) => ({ text: h.text, fact: { question: h.fact.question, answer: respond(h.fact.question, c) } }));
}

let hintTable: Map<string, HintFact> | null = null;
/** The fact an opening hint states (null for a text the game never opens with). */
export function hintFact(text: string): HintFact | null {
  hintTable ??= new Map(countries().flatMap((c) => hintsOf(c).map((h) => [h.text, h.fact] as const)));
  return hintTable.get(text) ?? null;
}

/** A hint drawn for a country: one of four attribute kinds, then one statement of that kind (seeded). */
export function drawHint(c: Country, prng: Prng): string {
  const hints = hintsOf(c);
  const kinds = [...new Set(hints.map((h) => h.fact.question.kind))];
  const kind = prng.pick(kinds);
  return prng.pick(hints.filter((h) => h.fact.question.kind === kind)).text;
}

/** Options of a {@link DialogueEnv}. */
export interface DialogueEnvOptions {
  reward: DialogueReward;
  /** The conservative variant's hedge list. */
  hedges?: readonly string[];
  /** Draws the hidden countries and hints. */
  prng: Prng;
  /** Hidden countries by name, one per reset in order (cycled); drawn uniformly when absent. */
  schedule?: readonly string[];
  /** Questions before the game ends unsolved. */
  maxQuestions?: number;
}

/** The game as a language environment. */
export class DialogueEnv implements LanguageEnv {
  #country: Country | null = null;
  #questions = 0;
  #resets = 0;
  readonly #options: Required<Omit<DialogueEnvOptions, "schedule">> & { schedule?: readonly string[] };

  constructor(options: DialogueEnvOptions) {
    this.#options = { hedges: DEFAULT_HEDGES, maxQuestions: MAX_QUESTIONS, ...options };
    for (const name of options.schedule ?? []) {
      if (countryByName(name) === undefined) throw new Error(`unknown country '${name}' in the schedule`);
    }
  }

  /** The hidden country of the current game. */
  get country(): Country {
    if (this.#country === null) throw new Error("DialogueEnv: reset() before reading the country");
    return this.#country;
  }

  reset(): Segment[] {
    const { schedule, prng } = this.#options;
    const name = schedule?.length ? schedule[this.#resets % schedule.length] : undefined;
    this.#resets++;
    this.#country = name === undefined ? prng.pick(countries()) : countryByName(name)!;
    this.#questions = 0;
    return [{ kind: "state", text: drawHint(this.#country, prng) }];
  }

  step(question: string): StepResult {
    const country = this.country;
    if (this.#questions >= this.#options.maxQuestions) throw new Error("DialogueEnv: the game is over; reset()");
    this.#questions++;
    const { answer: reply, question: parsed } = answer(question, country);
    const solved = reply === CORRECT_ANSWER;
    const done = solved || this.#questions >= this.#options.maxQuestions;
    const { reward: variant, hedges } = this.#options;
    return {
      segments: [{ kind: "state", text: reply }],
      reward: questionReward(reply, solved, variant, hedges),
      done,
      info: {
        solved,
        bare_yes_no: isBareYesNo(reply),
        penalised: penalised(reply, variant, hedges),
        unparsed: parsed === null,
        refused: reply === REFUSAL,
        open: parsed !== null && OPEN_KINDS.has(parsed.kind),
        guess: parsed?.kind === "guess",
      },
    };
  }
}
