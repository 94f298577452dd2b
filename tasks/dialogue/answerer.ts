/**
 * The rule-based answerer of the hidden-country game: parses a question into a {@link Question} (yes/no questions
 * about attributes, guesses, open questions) and answers it in words for a given country. A question it cannot
 * parse gets "I don't know."; one that asks for the answer itself gets "I can't tell you that."
 * @module
 */
import { countries, type Country, countryByName, initialOf } from "./countries.ts";

/** A parsed question. Yes/no kinds are answered "Yes." / "No." (a few fuzzy ones with a hedge), open kinds in words. */
export type Question =
  | { kind: "guess"; country: string }
  | { kind: "region"; region: string }
  | { kind: "subregion"; subregion: string }
  | { kind: "hemisphere"; side: "northern" | "southern" | "eastern" | "western" }
  | { kind: "landlocked"; negated: boolean }
  | { kind: "island" }
  | { kind: "has-borders" }
  | { kind: "borders"; country: string }
  | { kind: "speaks"; language: string }
  | { kind: "capital-is"; capital: string }
  | { kind: "capital-letter"; letter: string }
  | { kind: "name-letter"; letter: string }
  | { kind: "size"; relation: "bigger" | "smaller"; country: string }
  | { kind: "big" }
  | { kind: "small" }
  | { kind: "near-equator" }
  | { kind: "direction"; direction: "north" | "south" | "east" | "west"; country: string }
  | { kind: "which-region" }
  | { kind: "which-subregion" }
  | { kind: "which-languages" }
  | { kind: "which-borders" }
  | { kind: "border-count" }
  | { kind: "area" }
  | { kind: "which-hemisphere" }
  | { kind: "capital-initial" }
  | { kind: "name-initial" }
  | { kind: "refused" };

/** Kinds answered in words rather than yes/no. */
export const OPEN_KINDS: ReadonlySet<Question["kind"]> = new Set([
  "which-region",
  "which-subregion",
  "which-languages",
  "which-borders",
  "border-count",
  "area",
  "which-hemisphere",
  "capital-initial",
  "name-initial",
]);

/** The answer to a question the answerer cannot parse. */
export const UNKNOWN_ANSWER = "I don't know.";
/** The answer to a question that asks for the hidden country (or its capital) outright. */
export const REFUSAL = "I can't tell you that.";
/** The answer to a correct guess (it ends the game). */
export const CORRECT_ANSWER = "Correct!";

/** Lower case, no accents, straight apostrophes, no closing punctuation, single spaces, no fillers. */
export function normalizeQuestion(text: string): string {
  let q = text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[’‘`]/g, "'")
    .replace(/[?!.,;:]+/g, " ").replace(/\s+/g, " ").trim();
  for (let before = ""; before !== q;) {
    before = q;
    q = q.replace(/^(?:ok|okay|so|and|then|well|hmm|alright|right|great|please|now|next) /, "")
      .replace(/ please$/, "");
  }
  return q;
}

const REGION_PHRASES: Record<string, string> = {
  africa: "Africa",
  americas: "Americas",
  america: "Americas",
  "the americas": "Americas",
  asia: "Asia",
  europe: "Europe",
  oceania: "Oceania",
};
const ADJECTIVES: Record<string, Question> = {
  european: { kind: "region", region: "Europe" },
  african: { kind: "region", region: "Africa" },
  asian: { kind: "region", region: "Asia" },
  american: { kind: "region", region: "Americas" },
  oceanian: { kind: "region", region: "Oceania" },
  "south american": { kind: "subregion", subregion: "South America" },
  "central american": { kind: "subregion", subregion: "Central America" },
  "north american": { kind: "subregion", subregion: "North America" },
  caribbean: { kind: "subregion", subregion: "Caribbean" },
  landlocked: { kind: "landlocked", negated: false },
  coastal: { kind: "landlocked", negated: true },
  island: { kind: "island" },
  big: { kind: "big" },
  large: { kind: "big" },
  huge: { kind: "big" },
  small: { kind: "small" },
  tiny: { kind: "small" },
};

interface Lookups {
  countries: Map<string, string>;
  places: Map<string, Question>;
  languages: Map<string, string>;
}
let lookups: Lookups | null = null;
function tables(): Lookups {
  if (lookups !== null) return lookups;
  const all = countries();
  const key = (s: string) => normalizeQuestion(s).replace(/^the /, "");
  const names = new Map<string, string>();
  for (const c of all) for (const n of [...c.aliases, c.name]) names.set(key(n), c.name);
  const places = new Map<string, Question>();
  for (const [phrase, region] of Object.entries(REGION_PHRASES)) places.set(phrase, { kind: "region", region });
  for (const c of all) {
    const sub: Question = { kind: "subregion", subregion: c.subregion };
    places.set(key(c.subregion), sub);
    // "South-Eastern Asia" is also said "southeast asia"
    places.set(key(c.subregion.replace(/-eastern/i, "east")), sub);
  }
  const languages = new Map<string, string>();
  for (const c of all) for (const l of c.languages) languages.set(key(l), l);
  return lookups = { countries: names, places, languages };
}

function entity<T>(map: Map<string, T>, text: string | undefined): T | null {
  if (text === undefined) return null;
  const t = text.replace(/^the /, "").replace(/ (?:language|continent|region)$/, "");
  return map.get(t) ?? null;
}

const S = "(?:it|the country|this country|your country|the hidden country|the mystery country|this place)";
type Rule = [RegExp, (g: Record<string, string>) => Question | null];
const rule = (pattern: string, build: Rule[1]): Rule => [new RegExp(`^(?:${pattern.replaceAll("S", S)})$`), build];
const country = (g: Record<string, string>) => entity(tables().countries, g.e);
const SIDE = { north: "northern", south: "southern", east: "eastern", west: "western" } as const;

// Ordered: the first rule whose pattern matches and whose entities are known wins.
const RULES: Rule[] = [
  // refusals: the answer itself
  rule(
    "(?:what|which) country is (?:it|this)|what(?:'s| is) (?:its|the country's|the) name|what is it called|" +
      "(?:can|could|will) you tell me (?:the|its) (?:name|answer|country)|tell me the (?:answer|name|country)|" +
      "what(?:'s| is) (?:the|its|S's) capital(?: city)?|which city is (?:the|its) capital|name the country",
    () => ({ kind: "refused" }),
  ),
  // open questions
  rule(
    "(?:which|what) (?:continent|region)(?: is S(?: located| found| situated)?(?: in| on| part of)?| does S belong to)?|" +
      "(?:on|in) (?:which|what) (?:continent|region) is S(?: located| found| situated)?|" +
      "where is S(?: located| situated| in the world)?|what part of the world is S(?: in)?",
    () => ({ kind: "which-region" }),
  ),
  rule(
    "(?:which|what) (?:subregion|sub-region|sub region)(?: is S(?: in| part of)?)?|" +
      "(?:which|what) (?:part|area) of (?:the )?(?:continent|region|africa|the americas|americas|asia|europe|oceania) " +
      "is S(?: in| on)?|where exactly is S(?: located)?|in (?:which|what) (?:subregion|sub-region|part of the continent) is S",
    () => ({ kind: "which-subregion" }),
  ),
  rule(
    "(?:what|which) languages?(?: do| are| is)?(?: they| people| the people| the locals)? (?:speak|spoken)" +
      "(?: there| in it| in S)?|what (?:is|are) (?:the|its) (?:official )?languages?|what do (?:they|people) speak(?: there)?",
    () => ({ kind: "which-languages" }),
  ),
  rule(
    "(?:which|what) countries (?:does S border|border S|are next to S|are (?:its|S's) neighbou?rs|neighbou?r S)|" +
      "(?:what|which|who) are (?:its|S's) neighbou?rs|(?:what|which) (?:countries|nations) (?:is|are) S next to",
    () => ({ kind: "which-borders" }),
  ),
  rule(
    "how many (?:countries|neighbou?rs|nations|neighbou?ring countries) (?:does S (?:border|have)|border S|are next to S)",
    () => ({ kind: "border-count" }),
  ),
  rule(
    "how (?:big|large) is S|what(?:'s| is) (?:its|the|S's) (?:area|size|surface area)|what size is S|" +
      "how many square (?:kilometres|kilometers|km) is S",
    () => ({ kind: "area" }),
  ),
  rule("(?:which|what) hemispheres? is S in|in (?:which|what) hemispheres? is S", () => ({ kind: "which-hemisphere" })),
  rule(
    "(?:what|which) letter does (?:the|its) capital(?: city)?(?:'s name)? (?:start|begin) with",
    () => ({ kind: "capital-initial" }),
  ),
  rule(
    "(?:what|which) letter does (?:its|the|the country's) name (?:start|begin) with|what letter does S (?:start|begin) with",
    () => ({ kind: "name-initial" }),
  ),
  // yes/no questions
  rule(
    "is S (?:in|located in|found in|on) the (?<h>northern|southern|eastern|western|north|south|east|west) hemisphere",
    (g) => ({ kind: "hemisphere", side: SIDE[g.h!.replace(/ern$/, "") as keyof typeof SIDE] }),
  ),
  rule(
    "is S (?<d>north|south|above|below) (?:of )?the equator",
    (g) => ({ kind: "hemisphere", side: g.d === "north" || g.d === "above" ? "northern" : "southern" }),
  ),
  rule("is S (?:near|close to|on) the equator", () => ({ kind: "near-equator" })),
  rule(
    "does S have (?:a |any )?(?:coast|coastline|sea coast|seacoast|access to the sea|sea access|ocean access|" +
      "access to the ocean|beaches)|is S (?:on|by|at) the (?:coast|sea|ocean)",
    () => ({ kind: "landlocked", negated: true }),
  ),
  rule("is S surrounded by land", () => ({ kind: "landlocked", negated: false })),
  rule(
    "does S have (?:any )?(?:land )?(?:borders|neighbou?rs|neighbou?ring countries)",
    () => ({ kind: "has-borders" }),
  ),
  rule("is S (?:a |an )?(?:very )?(?<a>[a-z ]+?)(?: country| nation| state)?", (g) => ADJECTIVES[g.a!] ?? null),
  rule(
    "(?:is S|is S located|is S situated|is S found|does S lie|does S belong) (?:a country |a nation )?" +
      "(?:in|on|to|part of|within) (?:the continent of |the region of )?(?<e>.+)",
    (g) => entity(tables().places, g.e),
  ),
  rule(
    "(?:does S (?:border|share a border with|share a land border with|neighbou?r|touch)|" +
      "is S (?:next to|adjacent to|bordering|a neighbou?r of|neighbou?ring|beside)) (?<e>.+)",
    (g) => map(country(g), (c) => ({ kind: "borders", country: c })),
  ),
  rule("does (?<e>.+) border S", (g) => map(country(g), (c) => ({ kind: "borders", country: c }))),
  rule(
    "(?:do (?:they|people|the people|the locals|locals|people there)|does S) (?:speak|have) (?<e>.+?)" +
      "(?: there| as an official language| as a language)?",
    (g) => map(entity(tables().languages, g.e), (l) => ({ kind: "speaks", language: l })),
  ),
  rule(
    "is (?<e>.+?) (?:spoken|an official language|the official language|one of the official languages|a language)" +
      "(?: there| in it| in S| in the country)?|is (?:the )?(?:official )?language (?<f>.+)",
    (g) => map(entity(tables().languages, g.e ?? g.f), (l) => ({ kind: "speaks", language: l })),
  ),
  rule(
    "is (?:the|its|S's) capital(?: city)?(?: called| named)? (?<e>.+)",
    (g) => ({ kind: "capital-is", capital: g.e! }),
  ),
  rule(
    "does (?:the|its) capital(?: city)?(?:'s name)? (?:start|begin) with(?: the letter| an| a)? (?<l>[a-z])",
    (g) => ({ kind: "capital-letter", letter: g.l! }),
  ),
  rule(
    "(?:does (?:its|the|the country's|S's) name|does S(?:'s name)?) (?:start|begin) with(?: the letter| an| a)? (?<l>[a-z])",
    (g) => ({ kind: "name-letter", letter: g.l! }),
  ),
  rule(
    "is S (?<r>bigger|larger|smaller) than (?<e>.+)",
    (g) => map(country(g), (c) => ({ kind: "size", relation: g.r === "smaller" ? "smaller" : "bigger", country: c })),
  ),
  rule(
    "is S (?:to the |located )?(?<d>north|south|east|west) of (?<e>.+)|is S (?:further|farther|more) " +
      "(?<d2>north|south|east|west)(?:ern)? than (?<e2>.+)",
    (g) =>
      map(
        entity(tables().countries, g.e ?? g.e2),
        (c) => ({ kind: "direction", direction: (g.d ?? g.d2) as "north" | "south" | "east" | "west", country: c }),
      ),
  ),
  // guesses last: "is it in europe" must not be read as a guess of "in europe"
  rule(
    "(?:(?:is S|could it be|are you thinking of|is the answer|is it maybe|my guess is|i guess|i think it is|" +
      "i think it's|it is|it's) )?(?<e>.+)",
    (g) => map(country(g), (c) => ({ kind: "guess", country: c })),
  ),
];

function map<T>(value: T | null, f: (v: T) => Question): Question | null {
  return value === null ? null : f(value);
}

/** Parses a question; null when the answerer does not understand it. */
export function parseQuestion(text: string): Question | null {
  const q = normalizeQuestion(text);
  if (q === "") return null;
  for (const [pattern, build] of RULES) {
    const m = pattern.exec(q);
    if (m === null) continue;
    const question = build(m.groups ?? {});
    if (question !== null) return question;
  }
  return null;
}

const NUMBERS = [
  "None",
  "One",
  "Two",
  "Three",
  "Four",
  "Five",
  "Six",
  "Seven",
  "Eight",
  "Nine",
  "Ten",
  "Eleven",
  "Twelve",
  "Thirteen",
  "Fourteen",
  "Fifteen",
];

/** "A", "A and B", "A, B and C", "A, B, C and 4 more". */
function listText(items: readonly string[]): string {
  if (items.length <= 3) return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
  return `${items.slice(0, 3).join(", ")} and ${items.length - 3} more`;
}

/** Area as one of five bands (an exact figure would name most countries by itself). */
function areaText(area: number): string {
  if (area >= 1e6) return "More than a million square kilometres.";
  if (area >= 3e5) return "Between 300,000 and a million square kilometres.";
  if (area >= 1e5) return "Between 100,000 and 300,000 square kilometres.";
  if (area >= 1e4) return "Between 10,000 and 100,000 square kilometres.";
  return "Less than 10,000 square kilometres.";
}

const yesNo = (b: boolean) => (b ? "Yes." : "No.");
const regionName = (r: string) => (r === "Americas" ? "The Americas." : `${r}.`);

/** The answer to a parsed question about a country. */
export function respond(q: Question, c: Country): string {
  switch (q.kind) {
    case "guess":
      return q.country === c.name ? CORRECT_ANSWER : "No.";
    case "region":
      return yesNo(c.region === q.region);
    case "subregion":
      return yesNo(c.subregion === q.subregion);
    case "hemisphere":
      return yesNo(
        q.side === "northern"
          ? c.latitude >= 0
          : q.side === "southern"
          ? c.latitude < 0
          : q.side === "eastern"
          ? c.longitude >= 0
          : c.longitude < 0,
      );
    case "landlocked":
      return yesNo(c.landlocked !== q.negated);
    case "island":
      return yesNo(c.borders.length === 0 && !c.landlocked);
    case "has-borders":
      return yesNo(c.borders.length > 0);
    case "borders":
      return yesNo(c.borders.includes(q.country));
    case "speaks":
      return yesNo(c.languages.includes(q.language));
    case "capital-is":
      return yesNo(normalizeQuestion(q.capital) === normalizeQuestion(c.capital));
    case "capital-letter":
      return yesNo(initialOf(c.capital) === q.letter.toUpperCase());
    case "name-letter":
      return yesNo(initialOf(c.name) === q.letter.toUpperCase());
    case "size": {
      const other = countryByName(q.country)!.area;
      return yesNo(q.relation === "bigger" ? c.area > other : c.area < other);
    }
    case "big":
      return c.area >= 1e6 ? "Yes." : c.area >= 3e5 ? "Fairly big." : "No.";
    case "small":
      return c.area < 1e5 ? "Yes." : c.area < 3e5 ? "Fairly small." : "No.";
    case "near-equator":
      return Math.abs(c.latitude) < 10 ? "Yes." : Math.abs(c.latitude) < 23.5 ? "Fairly close." : "No.";
    case "direction": {
      const o = countryByName(q.country)!;
      const d = q.direction;
      return yesNo(
        d === "north"
          ? c.latitude > o.latitude
          : d === "south"
          ? c.latitude < o.latitude
          : d === "east"
          ? c.longitude > o.longitude
          : c.longitude < o.longitude,
      );
    }
    case "which-region":
      return regionName(c.region);
    case "which-subregion":
      return `${c.subregion}.`;
    case "which-languages":
      return c.languages.length === 0 ? UNKNOWN_ANSWER : `${listText(c.languages)}.`;
    case "which-borders":
      return c.borders.length === 0 ? "It has no land borders." : `${listText(c.borders)}.`;
    case "border-count":
      return `${NUMBERS[c.borders.length] ?? String(c.borders.length)}.`;
    case "area":
      return areaText(c.area);
    case "which-hemisphere":
      return c.latitude >= 0 ? "The northern hemisphere." : "The southern hemisphere.";
    case "capital-initial":
      return `It starts with ${initialOf(c.capital)}.`;
    case "name-initial":
      return `It starts with ${initialOf(c.name)}.`;
    case "refused":
      return REFUSAL;
  }
}

/** Parses and answers a question about a country in one call. */
export function answer(text: string, c: Country): { answer: string; question: Question | null } {
  const question = parseQuestion(text);
  return { answer: question === null ? UNKNOWN_ANSWER : respond(question, c), question };
}
