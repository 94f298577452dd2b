import assert from "node:assert/strict";
import { TASKS } from "./registry.ts";

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
