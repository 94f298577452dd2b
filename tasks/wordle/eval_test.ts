import assert from "node:assert/strict";
import type { Segment } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import type { BatchPolicy } from "../task.ts";
import { evaluateWordle, evaluationAnswers, playerPolicy } from "./eval.ts";
import type { Turn } from "./game.ts";
import { InfoPlayer, type Player } from "./players.ts";

const VOCAB = ["crane", "slate", "caulk", "pious", "there"];
const OPTIONS = { vocabulary: VOCAB, allowed: VOCAB, games: 20, seed: 0 };
// evaluationAnswers(VOCAB, 20, 0): crane is the hidden word of games 2, 4, 6, 9, 11 and 13 — 6 of 20
const ANSWERS = (
  "there slate crane pious crane caulk crane slate pious crane there crane caulk crane pious pious caulk caulk pious slate"
).split(" ");
const CRANE_GAMES = ANSWERS.flatMap((a, i) => (a === "crane" ? [i] : []));

const constant = (word: string): BatchPolicy => (histories) => histories.map(() => word);

Deno.test("evaluationAnswers() is a seeded sequence of draws from the vocabulary", () => {
  assert.deepEqual(evaluationAnswers(VOCAB, 20, 0), ANSWERS);
  assert.deepEqual(CRANE_GAMES, [2, 4, 6, 9, 11, 13]);
  assert.deepEqual(evaluationAnswers(VOCAB, 50, 3), evaluationAnswers(VOCAB, 50, 3));
  assert.notDeepEqual(evaluationAnswers(VOCAB, 50, 3), evaluationAnswers(VOCAB, 50, 4));
  assert.deepEqual(evaluationAnswers(VOCAB, 10, 3), evaluationAnswers(VOCAB, 50, 3).slice(0, 10), "a prefix");
  for (const a of evaluationAnswers(VOCAB, 200, 1)) assert.ok(VOCAB.includes(a));
  assert.equal(new Set(evaluationAnswers(VOCAB, 200, 1)).size, 5, "every word gets drawn");
});

Deno.test("evaluateWordle() with 'crane' every time: return 0 on the 6 crane games, −6 on the other 14", () => {
  const r = evaluateWordle(constant("crane"), OPTIONS);
  assert.equal(r.games, 20);
  assert.deepEqual(r.returns, ANSWERS.map((a) => (a === "crane" ? 0 : -6)));
  // mean (6·0 + 14·(−6)) / 20 = −4.2; sample variance (6·4.2² + 14·1.8²) / 19 = 151.2 / 19
  assert.ok(Math.abs(r.return.mean - -4.2) < 1e-12, `${r.return.mean}`);
  assert.ok(Math.abs(r.return.se - Math.sqrt(151.2 / 19 / 20)) < 1e-12, `${r.return.se}`);
  assert.equal(r.return.n, 20);
  assert.equal(r.winRate, 0.3);
  assert.equal(r.meanGuessesOfWins, 1);
  assert.equal(r.invalidRate, 0);
  assert.deepEqual(r.topFirstGuesses, [["crane", 20]]);
  assert.ok(r.seconds >= 0);
  // batching does not change the games
  const small = evaluateWordle(constant("crane"), { ...OPTIONS, batchSize: 3 });
  assert.deepEqual({ ...small, seconds: 0 }, { ...r, seconds: 0 });
});

Deno.test("evaluateWordle() counts an invalid first guess as a turn: return −1 when then solved, −6 otherwise", () => {
  // first 'zzzzz' (not an allowed word: −1, no colours), then 'crane' until the game ends
  const policy: BatchPolicy = (histories) => histories.map((h) => (h.length === 0 ? "zzzzz" : "crane"));
  const r = evaluateWordle(policy, OPTIONS);
  assert.deepEqual(r.returns, ANSWERS.map((a) => (a === "crane" ? -1 : -6)));
  assert.ok(Math.abs(r.return.mean - -4.5) < 1e-12, "(6·(−1) + 14·(−6)) / 20");
  assert.equal(r.winRate, 0.3);
  assert.equal(r.meanGuessesOfWins, 2);
  // 20 invalid guesses among 6·2 + 14·6 = 96
  assert.ok(Math.abs(r.invalidRate - 20 / 96) < 1e-12, `${r.invalidRate}`);
  assert.deepEqual(r.topFirstGuesses, [["zzzzz", 20]]);

  const never = evaluateWordle(constant("CRANE"), OPTIONS);
  assert.deepEqual(never.returns, Array(20).fill(-6));
  assert.equal(never.winRate, 0);
  assert.ok(Number.isNaN(never.meanGuessesOfWins));
  assert.equal(never.invalidRate, 1);
});

Deno.test("evaluateWordle() lists the five most common first guesses, ties in alphabetical order", () => {
  const firsts = [
    ...Array(5).fill("slate"),
    ...Array(5).fill("crane"),
    ...Array(3).fill("pious"),
    ...Array(3).fill("caulk"),
    ...Array(2).fill("zzzzz"),
    ...Array(2).fill("there"),
  ];
  const policy: BatchPolicy = (histories) => histories.map((h, i) => (h.length === 0 ? firsts[i]! : "crane"));
  const r = evaluateWordle(policy, OPTIONS);
  assert.deepEqual(r.topFirstGuesses, [["crane", 5], ["slate", 5], ["caulk", 3], ["pious", 3], ["there", 2]]);
});

Deno.test("evaluateWordle() gives the policy each game's history, colours included", () => {
  const seen: Segment[][] = [];
  const policy: BatchPolicy = (histories) => {
    seen.push(...histories.map((h) => structuredClone(h)));
    return histories.map((h) => (h.length === 0 ? "slate" : "crane"));
  };
  evaluateWordle(policy, { ...OPTIONS, games: 1, seed: 0 }); // the hidden word is 'there'
  assert.deepEqual(seen[0], []);
  // slate vs there: s b, l b, a b, t y, e g; crane vs there: c b, r y, a b, n b, e g
  assert.deepEqual(seen[1], [{ kind: "action", text: "slate", reward: -1 }, {
    kind: "state",
    text: "<b><b><b><y><g>",
  }]);
  assert.deepEqual(seen[2]!.slice(2), [
    { kind: "action", text: "crane", reward: -1 },
    { kind: "state", text: "<b><y><b><b><g>" },
  ]);
  assert.equal(seen.length, 6);
});

Deno.test("playerPolicy() turns each history back into turns for the player", () => {
  const received: Turn[][] = [];
  const recorder: Player = {
    name: "recorder",
    guess(turns) {
      received.push(structuredClone([...turns]));
      return `w${received.length}`;
    },
  };
  const policy = playerPolicy(recorder, new Prng(0));
  const out = policy([
    [],
    [
      { kind: "action", text: "crane", reward: -1 },
      { kind: "state", text: "<g><b><y><b><b>" },
      { kind: "action", text: "zzzzz", reward: -1 },
    ],
  ]);
  assert.deepEqual(out, ["w1", "w2"]);
  assert.deepEqual(received, [[], [
    { guess: "crane", colours: ["g", "b", "y", "b", "b"] },
    { guess: "zzzzz", colours: null },
  ]]);
});

Deno.test("the information player as a policy solves every game of a five-word vocabulary", () => {
  const r = evaluateWordle(playerPolicy(new InfoPlayer(VOCAB), new Prng(1)), OPTIONS);
  assert.equal(r.winRate, 1);
  assert.equal(r.invalidRate, 0);
  // five words with distinct feedback from one opening: at most two guesses
  for (const x of r.returns) assert.ok(x === 0 || x === -1, `${x}`);
  assert.ok(r.meanGuessesOfWins > 1 && r.meanGuessesOfWins <= 2);
});
