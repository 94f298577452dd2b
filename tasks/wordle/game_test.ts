import assert from "node:assert/strict";
import { encodeEpisode, encodeSegments } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import { gameEpisode } from "./data.ts";
import {
  type Colour,
  type ColourRule,
  coloursText,
  feedback,
  isConsistent,
  isWord,
  MAX_GUESSES,
  parseColours,
  patternCode,
  WORDLE_TOKENIZER,
  WordleEnv,
} from "./game.ts";
import { feedbackCode } from "./players.ts";
import { loadWordList, WORD_LISTS } from "./words.ts";

/** "bbyby" → ["b", "b", "y", "b", "y"]. */
const c = (s: string) => Array.from(s) as Colour[];

/**
 * Hand-worked duplicate-letter cases: [guess, answer, official, reference].
 *
 * Official: greens first; then, left to right, a non-green letter is yellow while the answer still has an
 * occurrence of it that is neither green nor already used by an earlier yellow. Reference: every non-green
 * occurrence of a letter that occurs anywhere in the answer is yellow.
 */
const CASES: Array<[string, string, string, string]> = [
  // speed vs abide: no greens; unmatched answer letters a b i d e (one e, one d).
  // s: not in answer → b; p → b; first e takes the only e → y; second e: none left → b; d → y.
  // reference: both e's are in the answer → y y.
  ["speed", "abide", "bbyby", "bbyyy"],
  // erase vs speed: no greens; unmatched s p e e d (two e's).
  // e → y (one e left); r → b; a → b; s → y; e → y (the second e). Reference gives the same.
  ["erase", "speed", "ybbyy", "ybbyy"],
  // speed vs erase: no greens; unmatched e r a s e (two e's, no d, no p).
  // s → y; p → b; e → y; e → y (both e's used); d → b. Reference gives the same.
  ["speed", "erase", "ybyyb", "ybyyb"],
  // eerie vs there: position 4 e/e is green. Unmatched answer letters: t h e r (one e left, from position 2).
  // e(0) → y, using that e; e(1) → b (no e left); r(2) → y; i(3) → b; e(4) green.
  // reference: e(1) is an e of the answer too → y.
  ["eerie", "there", "ybybg", "yyybg"],
  // otter vs water: greens t(2), e(3), r(4). Unmatched: w a. o(0) → b; t(1): the answer's only t is already
  // green → b (a left-to-right pass without greens first would wrongly make it yellow). Reference: t → y.
  ["otter", "water", "bbggg", "byggg"],
  // lolly vs hello: greens l(2), l(3). Unmatched h e o. l(0) → b (both l's green); o(1) → y; y(4) → b.
  ["lolly", "hello", "byggb", "yyggb"],
  // array vs radar: green a(3). Unmatched r a d r (two r's, one a). a(0) → y; r(1) → y; r(2) → y; y → b.
  ["array", "radar", "yyygb", "yyygb"],
  // all green and all black
  ["crane", "crane", "ggggg", "ggggg"],
  ["crane", "pious", "bbbbb", "bbbbb"],
];

Deno.test("feedback() colours duplicate letters by the official rules", () => {
  for (const [guess, answer, official] of CASES) {
    assert.deepEqual(feedback(guess, answer), c(official), `${guess} vs ${answer}`);
    assert.deepEqual(feedback(guess, answer, "official"), c(official), `${guess} vs ${answer}`);
  }
});

Deno.test("feedback() with the reference rule makes every non-green occurrence of an answer letter yellow", () => {
  for (const [guess, answer, , reference] of CASES) {
    assert.deepEqual(feedback(guess, answer, "reference"), c(reference), `${guess} vs ${answer}`);
  }
});

Deno.test("feedback() is green exactly at equal letters and the two rules agree on words without repeats", () => {
  const words = loadWordList(WORD_LISTS.eval200);
  const prng = new Prng(11);
  for (let n = 0; n < 2000; n++) {
    const g = prng.pick(words), a = prng.pick(words);
    for (const rule of ["official", "reference"] as const) {
      const f = feedback(g, a, rule);
      for (let i = 0; i < 5; i++) assert.equal(f[i] === "g", g[i] === a[i], `${g} vs ${a} ${rule}`);
    }
    if (new Set(g).size === 5) assert.deepEqual(feedback(g, a, "official"), feedback(g, a, "reference"), `${g} ${a}`);
  }
});

Deno.test("feedbackCode() equals patternCode(feedback()) for both rules on 5,000 random pairs of real words", () => {
  const words = [...loadWordList(WORD_LISTS.answers), ...loadWordList(WORD_LISTS.guesses)];
  const prng = new Prng(0);
  for (let n = 0; n < 5000; n++) {
    const g = prng.pick(words), a = prng.pick(words);
    for (const rule of ["official", "reference"] as ColourRule[]) {
      assert.equal(feedbackCode(g, a, rule), patternCode(feedback(g, a, rule)), `${g} vs ${a} (${rule})`);
    }
  }
});

Deno.test("feedbackCode() equals patternCode(feedback()) on duplicate-heavy strings over three letters", () => {
  const prng = new Prng(5);
  const word = () => Array.from({ length: 5 }, () => "abe"[prng.int(3)]).join("");
  for (let n = 0; n < 5000; n++) {
    const g = word(), a = word();
    for (const rule of ["official", "reference"] as ColourRule[]) {
      assert.equal(feedbackCode(g, a, rule), patternCode(feedback(g, a, rule)), `${g} vs ${a} (${rule})`);
    }
  }
});

Deno.test("patternCode() is base 3 with g = 2, y = 1, b = 0, first tile most significant", () => {
  assert.equal(patternCode(c("bbbbb")), 0);
  assert.equal(patternCode(c("ggggg")), 242);
  assert.equal(patternCode(c("bbbby")), 1);
  assert.equal(patternCode(c("ybbbb")), 81);
  assert.equal(patternCode(c("gbybg")), 2 * 81 + 9 + 2);
});

Deno.test("coloursText() and parseColours() round trip every pattern; parseColours rejects other text", () => {
  const seen = new Set<string>();
  for (let code = 0; code < 243; code++) {
    const colours: Colour[] = [];
    for (let i = 4, x = code; i >= 0; i--, x = Math.floor(x / 3)) colours[i] = (["b", "y", "g"] as const)[x % 3]!;
    const text = coloursText(colours);
    seen.add(text);
    assert.deepEqual(parseColours(text), colours);
    assert.equal(patternCode(colours), code);
  }
  assert.equal(seen.size, 243);
  assert.equal(coloursText(c("gbyyb")), "<g><b><y><y><b>");
  for (
    const bad of [
      "",
      "<g><g><g><g>",
      "<g><g><g><g><g><g>",
      "<G><g><g><g><g>",
      "<x><b><b><b><b>",
      "ggggg",
      " <g><g><g><g><g>",
      "<g><g><g><g><g>\n",
      "<g><g> <g><g><g>",
      "<g><g><g><g><g",
    ]
  ) {
    assert.throws(() => parseColours(bad), /not a pattern of five colour tokens/, JSON.stringify(bad));
  }
});

Deno.test("isConsistent() keeps exactly the words that would have produced every valid turn's colours", () => {
  // crane vs caulk: c green, a elsewhere → g b y b b
  const turns = [{ guess: "crane", colours: c("gbybb") }];
  assert.equal(isConsistent("caulk", turns), true);
  assert.equal(isConsistent("cabin", turns), false, "cabin has an n: the n would be yellow");
  assert.equal(isConsistent("crane", turns), false);
  assert.equal(isConsistent("anything", []), true);
  // an invalid turn (no colours) constrains nothing
  assert.equal(isConsistent("caulk", [...turns, { guess: "zzzzz", colours: null }]), true);
  // duplicate letters: eerie vs there is y b y b g officially, y y y b g by the reference rule
  const official = [{ guess: "eerie", colours: c("ybybg") }];
  const reference = [{ guess: "eerie", colours: c("yyybg") }];
  assert.equal(isConsistent("there", official), true);
  assert.equal(isConsistent("there", official, "reference"), false);
  assert.equal(isConsistent("there", reference, "reference"), true);
  assert.equal(isConsistent("there", reference), false);
  // every pair is consistent with its own feedback
  const words = loadWordList(WORD_LISTS.eval200);
  for (const g of words.slice(0, 20)) {
    for (const a of words.slice(0, 50)) assert.ok(isConsistent(a, [{ guess: g, colours: feedback(g, a) }]));
  }
});

Deno.test("isWord() accepts exactly five lowercase ASCII letters", () => {
  assert.equal(isWord("crane"), true);
  for (const bad of ["CRANE", "Crane", "cr4ne", "cran", "cranes", "", "crané", " cran", "cr ne"]) {
    assert.equal(isWord(bad), false, bad);
  }
});

function env(options: { answers?: string[]; allowed?: string[] | "any"; seed?: number; schedule?: string[] } = {}) {
  return new WordleEnv({
    answers: options.answers ?? ["caulk", "crane", "slate"],
    allowed: options.allowed === "any" ? "any" : new Set(options.allowed ?? ["adieu", "pious"]),
    prng: new Prng(options.seed ?? 0),
    ...(options.schedule ? { schedule: options.schedule } : {}),
  });
}

Deno.test("WordleEnv: −1 per guess, 0 for the solving guess, return −(n−1) when solved in n", () => {
  const misses = ["adieu", "pious", "crane", "slate", "adieu"];
  for (let n = 1; n <= MAX_GUESSES; n++) {
    const e = env({ schedule: ["caulk"] });
    assert.deepEqual(e.reset(), []);
    assert.equal(e.answer, "caulk");
    let total = 0;
    for (let k = 0; k < n - 1; k++) {
      const r = e.step(misses[k]!);
      assert.equal(r.reward, -1);
      assert.equal(r.done, false, `not done after ${k + 1} misses`);
      assert.deepEqual(r.info, { invalid: false, solved: false });
      assert.deepEqual(r.segments, [{ kind: "state", text: coloursText(feedback(misses[k]!, "caulk")) }]);
      total += r.reward;
    }
    const last = e.step("caulk");
    assert.equal(last.reward, 0);
    assert.equal(last.done, true);
    assert.deepEqual(last.info, { invalid: false, solved: true });
    assert.deepEqual(last.segments, [{ kind: "state", text: "<g><g><g><g><g>" }]);
    total += last.reward;
    assert.equal(total, 1 - n, `solved in ${n}`);
    assert.equal(e.turns.length, n);
  }
});

Deno.test("WordleEnv: done after six unsolved guesses with return −6", () => {
  const e = env({ schedule: ["caulk"] });
  e.reset();
  let total = 0;
  for (let k = 0; k < MAX_GUESSES; k++) {
    const r = e.step(k % 2 === 0 ? "crane" : "slate");
    total += r.reward;
    assert.equal(r.reward, -1);
    assert.equal(r.done, k === MAX_GUESSES - 1, `guess ${k + 1}`);
  }
  assert.equal(total, -6);
  assert.throws(() => e.step("caulk"), /after the game ended/);
});

Deno.test("WordleEnv: an invalid guess costs a turn, scores −1, gets no observation and info.invalid", () => {
  const e = env({ schedule: ["caulk"] });
  e.reset();
  // not allowed, uppercase, a digit, too short, too long, empty
  const bad = ["zzzzz", "CRANE", "cr4ne", "cran", "cranes", ""];
  for (const [k, guess] of bad.entries()) {
    const r = e.step(guess);
    assert.equal(r.reward, -1, guess);
    assert.deepEqual(r.segments, [], guess);
    assert.equal(r.info?.invalid, true, guess);
    assert.equal(r.info?.solved, false, guess);
    assert.equal(r.done, k === bad.length - 1, guess);
    assert.equal(e.turns[k]!.colours, null);
    assert.equal(e.turns[k]!.guess, guess);
  }
  assert.equal(e.turns.length, 6);
  // "CAULK" is the answer in the wrong case: invalid, not a win
  const e2 = env({ schedule: ["caulk"] });
  e2.reset();
  const r = e2.step("CAULK");
  assert.deepEqual([r.reward, r.done, r.info?.invalid, r.info?.solved], [-1, false, true, false]);
});

Deno.test("WordleEnv accepts allowed words and answers, and nothing else", () => {
  const e = env({ schedule: ["caulk"] });
  e.reset();
  assert.equal(e.step("adieu").info?.invalid, false, "in the allowed list");
  assert.equal(e.step("slate").info?.invalid, false, "an answer that is not in the allowed list");
  assert.equal(e.step("ocean").info?.invalid, true, "a real word in neither list");
});

Deno.test("WordleEnv with allowed 'any' (the reference's game) answers every five-letter a–z string", () => {
  const e = env({ schedule: ["caulk"], allowed: "any" });
  e.reset();
  const r = e.step("qxzvk");
  assert.equal(r.info?.invalid, false);
  assert.deepEqual(r.segments, [{ kind: "state", text: coloursText(feedback("qxzvk", "caulk")) }]);
  assert.equal(e.step("caul").info?.invalid, true, "four letters are still invalid");
  assert.equal(e.step("CAULK").info?.invalid, true, "so are capitals");
});

Deno.test("WordleEnv: schedule fixes the answers in order, then draws resume", () => {
  const e = env({ schedule: ["slate", "crane", "slate"] });
  const answers = [];
  for (let g = 0; g < 8; g++) {
    e.reset();
    answers.push(e.answer);
  }
  assert.deepEqual(answers.slice(0, 3), ["slate", "crane", "slate"]);
  for (const a of answers.slice(3)) assert.ok(["caulk", "crane", "slate"].includes(a));
});

Deno.test("WordleEnv: same seed gives the same answers; different seeds differ; reset starts a fresh game", () => {
  const words = loadWordList(WORD_LISTS.eval200);
  const answersOf = (seed: number) => {
    const e = env({ answers: words, seed });
    return Array.from({ length: 30 }, () => {
      e.reset();
      return e.answer;
    });
  };
  assert.deepEqual(answersOf(4), answersOf(4));
  assert.notDeepEqual(answersOf(4), answersOf(5));
  for (const a of answersOf(4)) assert.ok(words.includes(a));

  const e = env({ schedule: ["caulk", "crane"] });
  e.reset();
  e.step("crane");
  e.step("caulk");
  assert.throws(() => e.step("crane"), /after the game ended; call reset first/);
  e.reset();
  assert.deepEqual(e.turns, []);
  assert.equal(e.step("crane").done, true);
});

Deno.test("WordleEnv: step before the first reset throws; an empty answer list is refused", () => {
  assert.throws(() => env().step("crane"), /call reset first/);
  assert.throws(() => env({ answers: [] }), /at least one answer/);
});

Deno.test("WordleEnv with the reference rule colours by the reference rule", () => {
  const e = new WordleEnv({
    answers: ["there"],
    allowed: new Set(["eerie"]),
    prng: new Prng(0),
    rule: "reference",
  });
  assert.equal(e.rule, "reference");
  e.reset();
  assert.deepEqual(e.step("eerie").segments, [{ kind: "state", text: "<y><y><y><b><g>" }]);
  assert.equal(env().rule, "official");
});

Deno.test("WORDLE_TOKENIZER has 35 ids and round-trips a serialised game", () => {
  const tok = WORDLE_TOKENIZER;
  assert.equal(tok.vocabSize, 35);
  // ids: 6 specials, <g> <b> <y>, a … z
  assert.deepEqual(tok.encode("<g><b><y>az"), [6, 7, 8, 9, 34]);
  assert.deepEqual(tok.special, { pad: 0, bos: 1, eos: 2, boa: 3, eoa: 4, eod: 5 });
  const all = Array.from({ length: 35 }, (_, i) => i);
  assert.equal(new Set(all.map((i) => tok.decode([i]))).size, 35);
  assert.throws(() => tok.encode("CRANE"), /not in the tokenizer's alphabet/);

  const e = env({ answers: ["caulk", "crane"], schedule: ["caulk"] });
  e.reset();
  // crane vs caulk: c green, r absent, a elsewhere, n absent, e absent; zzzzz is invalid (no colours)
  assert.deepEqual(e.step("crane").segments, [{ kind: "state", text: "<g><b><y><b><b>" }]);
  assert.deepEqual(e.step("zzzzz").segments, []);
  assert.equal(e.step("caulk").done, true);
  const episode = gameEpisode(e.turns, e.answer, { kind: "mixed", answer: e.answer });
  const encoded = encodeEpisode(episode, tok, { context: 64 });
  const text = "<a>crane</a><g><b><y><b><b></s>zzzzz</a>caulk</a><g><g><g><g><g></s></eod>";
  assert.equal(tok.decode([...encoded.tokens]), text);
  // one action per letter plus </a>; the reward on each guess's </a>
  assert.equal(encoded.actionPositions.length, 18);
  assert.deepEqual([...encoded.rewards].filter((r) => r !== 0), [-1, -1]);
  assert.equal(encoded.rewards[5], -1);
  assert.equal(encoded.rewards[11], -1);
  assert.equal(encoded.rewards[17], 0);
  // the prefix the model sees before its third guess
  assert.equal(
    tok.decode(encodeSegments(episode.segments.slice(0, 3), tok)),
    "<a>crane</a><g><b><y><b><b></s>zzzzz</a>",
  );
  // every encoded game decodes back to its own text
  const words = loadWordList(WORD_LISTS.eval200);
  const prng = new Prng(2);
  for (let n = 0; n < 50; n++) {
    const answer = prng.pick(words);
    const turns = Array.from({ length: 1 + prng.int(6) }, () => {
      const g = prng.pick(words);
      return { guess: g, colours: feedback(g, answer) };
    });
    const ep = gameEpisode(turns, answer, { kind: "mixed", answer });
    const expected = "<a>" + turns.map((t) => `${t.guess}</a>${coloursText(t.colours)}</s>`).join("") + "</eod>";
    assert.equal(tok.decode([...encodeEpisode(ep, tok, { context: 128 }).tokens]), expected);
  }
});
