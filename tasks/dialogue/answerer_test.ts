import assert from "node:assert/strict";
import { answer, normalizeQuestion, parseQuestion, REFUSAL, UNKNOWN_ANSWER } from "./answerer.ts";
import { countries, type Country } from "./countries.ts";
import { questionBank } from "./questioners.ts";

const byName = (name: string): Country => {
  const c = countries().find((x) => x.name === name);
  if (c === undefined) throw new Error(`no ${name}`);
  return c;
};
const ask = (q: string, country = "Peru") => answer(q, byName(country)).answer;

Deno.test("the countries come from world-countries: 194 UN members with their attributes", () => {
  assert.equal(countries().length, 194);
  const peru = byName("Peru");
  assert.equal(peru.region, "Americas");
  assert.equal(peru.subregion, "South America");
  assert.equal(peru.capital, "Lima");
  assert.deepEqual(peru.borders, ["Bolivia", "Brazil", "Chile", "Colombia", "Ecuador"]);
  assert.ok(peru.languages.includes("Spanish"));
  assert.equal(peru.landlocked, false);
  assert.equal(byName("Bolivia").landlocked, true);
});

Deno.test("yes/no questions about attributes, in many phrasings", () => {
  const cases: Array<[string, string, string?]> = [
    ["Is it in Europe?", "No."],
    ["is it in the americas", "Yes."],
    ["Is it located in South America?", "Yes."],
    ["Is it a European country?", "No."],
    ["Is it a South American country?", "Yes."],
    ["Is the country part of Africa?", "No."],
    ["Does it lie in the continent of America?", "Yes."],
    ["Is it in Southeast Asia?", "Yes.", "Vietnam"],
    ["Is it landlocked?", "No."],
    ["Is it a landlocked country?", "Yes.", "Bolivia"],
    ["Does it have a coastline?", "Yes."],
    ["Does it have access to the sea?", "No.", "Bolivia"],
    ["Is it an island nation?", "Yes.", "Japan"],
    ["Does it have any neighbours?", "No.", "Japan"],
    ["Does it border Brazil?", "Yes."],
    ["Is it next to Mexico?", "No."],
    ["Does Chile border it?", "Yes."],
    ["Is it a neighbor of the United States?", "Yes.", "Canada"],
    ["Do they speak Spanish?", "Yes."],
    ["Is Quechua spoken there?", "Yes."],
    ["Is French an official language?", "No."],
    ["Do people there speak Guarani?", "Yes.", "Paraguay"],
    ["Is it in the southern hemisphere?", "Yes."],
    ["Is it north of the equator?", "No."],
    ["Is it in the western hemisphere?", "Yes."],
    ["Is it bigger than France?", "Yes."],
    ["Is it smaller than Brazil?", "Yes."],
    ["Is it north of Chile?", "Yes."],
    ["Is it further west than Brazil?", "Yes."],
    ["Is the capital Lima?", "Yes."],
    ["Is its capital called Quito?", "No."],
    ["Does its capital start with L?", "Yes."],
    ["Does its name begin with the letter P?", "Yes."],
    ["Does it start with Q?", "No."],
    ["So, is it a big country?", "Yes."],
    ["Is it a small country?", "No."],
    ["Is it near the equator?", "Fairly close."],
  ];
  for (const [q, expected, country] of cases) assert.equal(ask(q, country), expected, q);
});

Deno.test("guesses, with and without articles or accents", () => {
  assert.equal(ask("Is it Peru?"), "Correct!");
  assert.equal(ask("Peru?"), "Correct!");
  assert.equal(ask("Is it Chile?"), "No.");
  assert.equal(ask("Is it the United States?", "United States"), "Correct!");
  assert.equal(ask("Is the country United States?", "United States"), "Correct!");
  assert.equal(ask("Is it Côte d'Ivoire?", "Ivory Coast"), "Correct!");
  assert.equal(ask("Is it Cote d’Ivoire?", "Ivory Coast"), "Correct!");
  assert.equal(ask("Is it Republic of Peru?"), "Correct!");
  assert.equal(ask("my guess is sao tome and principe", "São Tomé and Príncipe"), "Correct!");
});

Deno.test("open questions are answered in words", () => {
  assert.equal(ask("Which region is it in?"), "The Americas.");
  assert.equal(ask("What continent is it on?", "Japan"), "Asia.");
  assert.equal(ask("Where exactly is it?"), "South America.");
  assert.equal(ask("What languages are spoken there?"), "Aymara, Quechua and Spanish.");
  assert.equal(ask("What language do they speak?", "Japan"), "Japanese.");
  assert.equal(ask("Which countries does it border?"), "Bolivia, Brazil, Chile and 2 more.");
  assert.equal(ask("What are its neighbours?", "Japan"), "It has no land borders.");
  assert.equal(ask("How many countries does it border?"), "Five.");
  assert.equal(ask("How big is it?"), "More than a million square kilometres.");
  assert.equal(ask("What is its area?", "Malta"), "Less than 10,000 square kilometres.");
  assert.equal(ask("Which hemisphere is it in?"), "The southern hemisphere.");
  assert.equal(ask("What letter does its capital start with?"), "It starts with L.");
  assert.equal(ask("What letter does its name start with?"), "It starts with P.");
});

Deno.test("questions it must refuse or cannot parse", () => {
  for (const q of ["What is the capital?", "Which country is it?", "What is its name?", "Tell me the answer"]) {
    assert.equal(ask(q), REFUSAL, q);
  }
  const unknown = [
    "",
    "?",
    "Is it hot there?",
    "How many people live there?",
    "Is it in Narnia?",
    "Do they speak Klingon?",
    "Does it border Atlantis?",
    "Is it bigger than the moon?",
    "What languages are spokenaic?",
    "Is it Djibati?",
    "Is it the Maldl spoken there?",
    "Is it next toundi?",
    "Which region is it in? Is it Peru?",
  ];
  for (const q of unknown) assert.equal(ask(q), UNKNOWN_ANSWER, q);
  assert.equal(parseQuestion("Is it hot there?"), null);
});

Deno.test("normalization: case, accents, punctuation, fillers", () => {
  assert.equal(normalizeQuestion("  OK, so   IS it in EUROPE?!  "), "is it in europe");
  assert.equal(normalizeQuestion("Is it Côte d’Ivoire, please?"), "is it cote d'ivoire");
});

Deno.test("every phrasing of a bank question parses to the same question", () => {
  for (const item of questionBank().items) {
    for (const p of item.phrasings) assert.deepEqual(parseQuestion(p), item.question, p);
  }
});
