import assert from "node:assert/strict";
import { evalSubset, loadWordList, parseWordList, WORD_LISTS } from "./words.ts";

Deno.test("the shipped lists have 2,315 answers and 10,657 further guesses, disjoint, all five letters", () => {
  const answers = loadWordList(WORD_LISTS.answers);
  const guesses = loadWordList(WORD_LISTS.guesses);
  assert.equal(answers.length, 2315);
  assert.equal(guesses.length, 10657);
  const answerSet = new Set(answers);
  assert.equal(guesses.filter((g) => answerSet.has(g)).length, 0, "guesses are the words beyond the answers");
  for (const w of [...answers, ...guesses]) assert.match(w, /^[a-z]{5}$/);
  // the files are already normalised: one lowercase word per line, nothing to drop
  for (const path of [WORD_LISTS.answers, WORD_LISTS.guesses]) {
    const lines = Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
    assert.equal(lines.length, loadWordList(path).length, path);
  }
  // well-known members
  for (const w of ["crane", "slate", "caulk", "there"]) assert.ok(answerSet.has(w), w);
});

Deno.test("eval200.txt is 200 answers and equals evalSubset(answers, 200, 0), so it can be regenerated", () => {
  const answers = loadWordList(WORD_LISTS.answers);
  const eval200 = loadWordList(WORD_LISTS.eval200);
  assert.equal(eval200.length, 200);
  const answerSet = new Set(answers);
  for (const w of eval200) assert.ok(answerSet.has(w), `${w} is an answer`);
  assert.deepEqual(eval200, evalSubset(answers, 200, 0));
  assert.equal(Deno.readTextFileSync(WORD_LISTS.eval200), evalSubset(answers, 200, 0).join("\n") + "\n");
});

Deno.test("evalSubset() is a seeded, sorted subset without repeats", () => {
  const words = loadWordList(WORD_LISTS.answers);
  const a = evalSubset(words, 50, 7);
  assert.deepEqual(a, evalSubset(words, 50, 7));
  assert.notDeepEqual(a, evalSubset(words, 50, 8));
  assert.equal(new Set(a).size, 50);
  assert.deepEqual(a, [...a].sort());
  for (const w of a) assert.ok(words.includes(w));
  assert.deepEqual(evalSubset(["c", "a", "b"], 3, 0), ["a", "b", "c"]);
  assert.throws(() => evalSubset(["a", "b"], 3, 0), /cannot draw 3 words from a list of 2/);
  const input = ["crane", "slate", "caulk"];
  evalSubset(input, 2, 0);
  assert.deepEqual(input, ["crane", "slate", "caulk"], "the input is not shuffled in place");
});

Deno.test("parseWordList() trims, lower-cases, skips blank and # lines, drops duplicates", () => {
  const text = "# a comment\n  crane  \r\nSLATE\n\n\t\ncrane\n  # indented comment\nCaUlK\r\nslate";
  assert.deepEqual(parseWordList(text, "t.txt"), ["crane", "slate", "caulk"]);
  assert.deepEqual(parseWordList("crane", "t.txt"), ["crane"], "no final newline");
});

Deno.test("parseWordList() names the source and the 1-based line of a line that is not five letters", () => {
  for (const bad of ["abcd", "abcdef", "ab1de", "cr ne", "crané", "cr-ne"]) {
    const text = `# header\ncrane\n\n${bad}\nslate\n`;
    assert.throws(
      () => parseWordList(text, "lists/mine.txt"),
      (e: Error) => e.message.startsWith("lists/mine.txt line 4: ") && e.message.includes(`'${bad}'`),
      bad,
    );
  }
  // a very long line is shortened in the message
  assert.throws(() => parseWordList("x".repeat(500), "s"), (e: Error) => e.message.length < 200);
});

Deno.test("parseWordList() refuses an empty list", () => {
  for (const text of ["", "\n\n", "# only\n# comments\n"]) {
    assert.throws(() => parseWordList(text, "empty.txt"), /^Error: empty.txt: the word list is empty$/);
  }
});

Deno.test("loadWordList() reads a file and names the path when it cannot", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/words.txt`;
    Deno.writeTextFileSync(path, "Crane\nslate\n");
    assert.deepEqual(loadWordList(path), ["crane", "slate"]);
    Deno.writeTextFileSync(path, "crane\nslat\n");
    assert.throws(() => loadWordList(path), new RegExp(`^Error: ${path} line 2: 'slat'`));
    const missing = `${dir}/no-such-list.txt`;
    assert.throws(
      () => loadWordList(missing),
      (e: Error) => e.message.startsWith(`${missing}: cannot read the word list`) && !e.message.includes("\n"),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
