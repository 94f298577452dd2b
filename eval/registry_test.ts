import assert from "node:assert/strict";
import type { WordleEpisode } from "../tasks/wordle/data.ts";
import { loadWordList, WORD_LISTS } from "../tasks/wordle/words.ts";
import { evenlySpaced, TASKS } from "./registry.ts";

Deno.test("wordle-any accepts any five-letter a–z guess; wordle only the dictionary's words", () => {
  const [any] = TASKS["wordle-any"]!.environments!(1, 0);
  const [official] = TASKS.wordle!.environments!(1, 0);
  for (const env of [any!, official!]) env.reset();
  assert.equal(any!.step("qxzvk").info?.invalid, false);
  assert.equal(official!.step("qxzvk").info?.invalid, true);
  assert.equal(official!.step("crane").info?.invalid, false);
});

Deno.test("the Wordle tasks share a tokenizer and evaluation; their data differs", () => {
  const habit = TASKS["wordle-habit"]!.dataset(50, 0);
  const mixed = TASKS.wordle!.dataset(50, 0);
  assert.equal(TASKS["wordle-habit"]!.tokenizer, TASKS.wordle!.tokenizer);
  assert.deepEqual(TASKS["wordle-any"]!.dataset(50, 0), mixed);
  const openers = habit.map((e) => e.segments[0]!.text);
  assert.ok(openers.filter((w) => w === "puppy").length > 20, "most habit games open with the worst word");
  assert.ok(mixed.filter((e) => e.segments[0]!.text === "puppy").length < 5);
});

Deno.test("wordle-lava's data is the reference's: made on the official 2,315 answers, with a data version", () => {
  const lava = TASKS["wordle-lava"]!;
  const answers = new Set(loadWordList(WORD_LISTS.answers));
  const eval200 = new Set(loadWordList(WORD_LISTS.eval200));
  const hidden = lava.dataset(20, 0).map((e) => (e as WordleEpisode).meta.answer);
  assert.ok(hidden.every((w) => answers.has(w)));
  assert.ok(hidden.filter((w) => !eval200.has(w)).length > hidden.length / 2, "most answers lie outside the 200");
  assert.equal(typeof lava.dataVersion, "string");
  assert.equal(TASKS.wordle!.dataVersion, undefined);
});

Deno.test("evenlySpaced() keeps at most the count, spread over the whole list, in order", () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(evenlySpaced(items, 4), [0, 2, 5, 7]);
  assert.equal(evenlySpaced(items, 20), items);
  assert.equal(evenlySpaced(items), items);
});

Deno.test("wordle-habit's diagnostic ranks the consistent players' openers against the habit's, letter and word", () => {
  const task = TASKS["wordle-habit"]!;
  const data = task.dataset(200, 0) as WordleEpisode[];
  const habitOpener = data.find((e) => e.meta.kind === "habit")!.segments[0]!.text;
  // a scorer that values the habit's opener at −2 on every token and any other guess at −1
  const scored: string[] = [];
  const metrics = task.diagnose!(data, (items) =>
    items.map(({ history, utterance }) => {
      assert.equal(history.length, 0, "openings are scored at the empty history");
      scored.push(utterance);
      return Array(6).fill(utterance === habitOpener ? -2 : -1);
    }), 8);
  assert.equal(scored.length, 16, "pairs caps the cases scored");
  assert.deepEqual(metrics, {
    qrank_opening: 1,
    qrank_opening_word: 1,
    qrank_opening_letter: 1,
    qbar_opening_consistent: -1,
    qbar_opening_habit: -2,
    qbar_letter_consistent: -1,
    qbar_letter_habit: -2,
  });
});
