import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { gameEpisode, lavaDataset, type WordleEpisode, type WordleMeta } from "./data.ts";
import { feedback } from "./game.ts";
import { branchPairs, openingPairs, rankingAccuracy, type RankingPair, type UtteranceScorer } from "./qrank.ts";
import { loadWordList, WORD_LISTS } from "./words.ts";

const game = (guesses: string[], answer: string, meta: Omit<WordleMeta, "answer">): WordleEpisode =>
  gameEpisode(guesses.map((g) => ({ guess: g, colours: feedback(g, answer) })), answer, { ...meta, answer });

// answer caulk: the expert plays crane, slate, pious, caulk; the lava games repeat crane or slate
const EXPERT = game(["crane", "slate", "pious", "caulk"], "caulk", {
  kind: "expert",
  branch: { before: ["crane", "slate"], action: "pious" },
});
const LAVA = [
  game(["crane", "slate", "crane", "slate", "slate", "crane"], "caulk", {
    kind: "adversarial",
    branch: { before: ["crane", "slate"], action: "crane" },
  }),
  game(["crane", "slate", "slate", "crane", "slate", "slate"], "caulk", {
    kind: "adversarial",
    branch: { before: ["crane", "slate"], action: "slate" },
  }),
];
// a second iteration: answer there, expert solved in 3 (no branch), with suboptimal games
const SHORT = game(["slate", "crane", "there"], "there", { kind: "expert" });
const SUB = [
  game(["zzzzz", "there"], "there", { kind: "suboptimal" }),
  game(["pious", "slate", "there"], "there", { kind: "suboptimal" }),
  game(["caulk"], "caulk", { kind: "suboptimal" }),
];
const DATA = [EXPERT, ...LAVA, SUB[0]!, SHORT, SUB[1]!, SUB[2]!];

Deno.test("branchPairs() pairs each adversarial game with its expert's state after two guesses", () => {
  const pairs = branchPairs(DATA);
  const history = EXPERT.segments.slice(0, 4); // crane, its colours, slate, its colours
  assert.deepEqual(history.map((s) => s.kind), ["action", "state", "action", "state"]);
  assert.deepEqual(pairs, [
    { history, expert: "pious", other: "crane" },
    { history, expert: "pious", other: "slate" },
  ]);
  for (const [i, lava] of LAVA.entries()) assert.deepEqual(lava.segments.slice(0, 4), pairs[i]!.history);
  // an adversarial game without its expert (other answer or other opening) is left out
  const orphan = game(["slate", "crane", "slate", "slate", "slate", "slate"], "caulk", {
    kind: "adversarial",
    branch: { before: ["slate", "crane"], action: "slate" },
  });
  assert.equal(branchPairs([...DATA, orphan]).length, 2);
  assert.deepEqual(branchPairs([SHORT, ...SUB]), []);
});

Deno.test("branchPairs() on a generated lava dataset: one pair per adversarial game, with the expert's history", () => {
  const vocab = loadWordList(WORD_LISTS.eval200);
  const source = { answers: vocab, allowed: vocab, rule: "official" as const };
  const episodes = lavaDataset(source, 30, new Prng(1));
  const adversarial = episodes.filter((e) => e.meta.kind === "adversarial");
  const pairs = branchPairs(episodes);
  assert.ok(adversarial.length > 0);
  assert.equal(pairs.length, adversarial.length);
  pairs.forEach((p, i) => {
    const lava = adversarial[i]!;
    assert.deepEqual(p.history, lava.segments.slice(0, 4));
    assert.equal(p.other, lava.meta.branch!.action);
    assert.ok(p.other === lava.meta.branch!.before[0] || p.other === lava.meta.branch!.before[1]);
    assert.notEqual(p.expert, p.other, "the expert's third guess is new");
  });
});

Deno.test("openingPairs() pairs the expert's first guess with each suboptimal game's first guess", () => {
  assert.deepEqual(openingPairs(DATA), [
    { history: [], expert: "crane", other: "zzzzz" },
    { history: [], expert: "slate", other: "pious" },
    { history: [], expert: "crane", other: "caulk" }, // experts are reused in turn
  ]);
  assert.deepEqual(openingPairs([EXPERT, SHORT]), []);
  // other kinds (the habit data's): each habit game's opener against a consistent player's, taken in turn
  const habit = (first: string) => game([first, "caulk"], "caulk", { kind: "habit" });
  const consistent = (first: string) => game([first, "caulk"], "caulk", { kind: "consistent" });
  const habitData = [habit("puppy"), consistent("crane"), habit("puppy"), consistent("slate"), habit("puppy")];
  assert.deepEqual(openingPairs(habitData, "consistent", "habit").map((p) => `${p.expert}>${p.other}`), [
    "crane>puppy",
    "slate>puppy",
    "crane>puppy",
  ]);
  assert.deepEqual(openingPairs(habitData.filter((e) => e.meta.kind === "habit"), "consistent", "habit"), []);
});

/** A scorer giving every action token of an utterance the same value. */
const uniform = (value: (utterance: string) => number): UtteranceScorer => (items) =>
  items.map(({ utterance }) => Array(utterance.length + 1).fill(value(utterance)));

Deno.test("rankingAccuracy() is 1 when the expert always scores higher, 0 when never or on ties", () => {
  const pairs: RankingPair[] = [
    { history: [], expert: "crane", other: "zzzzz" },
    { history: [], expert: "slate", other: "sassy" },
  ];
  const distinct = uniform((u) => new Set(u).size);
  // the mean values at the last token: experts crane 5, slate 5; others zzzzz 1, sassy 3
  const all = {
    byPosition: Array(6).fill(1),
    mean: 1,
    pairs: 2,
    expertValue: 5,
    otherValue: 2,
    expertFirstValue: 5,
    otherFirstValue: 2,
  };
  assert.deepEqual(rankingAccuracy(pairs, distinct), all);
  const fewer = uniform((u) => -new Set(u).size);
  const none = {
    byPosition: Array(6).fill(0),
    mean: 0,
    pairs: 2,
    expertValue: -5,
    otherValue: -2,
    expertFirstValue: -5,
    otherFirstValue: -2,
  };
  assert.deepEqual(rankingAccuracy(pairs, fewer), none);
  const tie = uniform(() => 0.5);
  assert.deepEqual(rankingAccuracy(pairs, tie).byPosition, Array(6).fill(0), "a tie is not a correct ranking");
  // the scorer gets expert then other for each pair, with the pair's history
  const seen: string[] = [];
  rankingAccuracy(pairs, (items) => {
    for (const it of items) seen.push(`${it.history.length}:${it.utterance}`);
    return items.map(() => Array(6).fill(0));
  });
  assert.deepEqual(seen, ["0:crane", "0:zzzzz", "0:slate", "0:sassy"]);
  assert.throws(() => rankingAccuracy([], distinct), /no ranking pairs/);
});

Deno.test("rankingAccuracy() gives a hand-computed fraction: distinct letters over four pairs", () => {
  // distinct letters: crane 5 > zzzzz 1 ✓; sassy 3 > eerie 3? tie ✗; pious 5 > there 4 ✓; llama 3 > slate 5 ✗
  const pairs: RankingPair[] = [
    { history: [], expert: "crane", other: "zzzzz" },
    { history: [], expert: "sassy", other: "eerie" },
    { history: [], expert: "pious", other: "there" },
    { history: [], expert: "llama", other: "slate" },
  ];
  const r = rankingAccuracy(pairs, uniform((u) => new Set(u).size));
  // mean values: experts (5 + 3 + 5 + 3) / 4, others (1 + 3 + 4 + 5) / 4
  assert.deepEqual(r, {
    byPosition: Array(6).fill(0.5),
    mean: 0.5,
    pairs: 4,
    expertValue: 4,
    otherValue: 3.25,
    expertFirstValue: 4,
    otherFirstValue: 3.25,
  });
  // 3 of 4 when the scorer prefers crane, pious and sassy
  const favourites = new Set(["crane", "pious", "sassy"]);
  assert.equal(rankingAccuracy(pairs, uniform((u) => (favourites.has(u) ? 1 : 0))).mean, 0.75);
});

Deno.test("rankingAccuracy() reports the mean values at the first token and at the last", () => {
  const pairs: RankingPair[] = [
    { history: [], expert: "crane", other: "puppy" },
    { history: [], expert: "slate", other: "puppy" },
  ];
  // values rise along the guess for the expert ([1..6]), fall for the other ([-1..-6])
  const ramps: UtteranceScorer = (items) => items.map((_, i) => [1, 2, 3, 4, 5, 6].map((v) => (i % 2 === 0 ? v : -v)));
  const r = rankingAccuracy(pairs, ramps);
  assert.deepEqual([r.expertFirstValue, r.otherFirstValue, r.expertValue, r.otherValue], [1, -1, 6, -6]);
});

Deno.test("rankingAccuracy() counts positions from the end: index 0 is </a>, index 5 the first letter", () => {
  const pairs: RankingPair[] = [{ history: [], expert: "crane", other: "slate" }];
  // expert's values [c r a n e </a>] = [0 0 0 0 0 1]: better only at </a>
  const onlyLast: UtteranceScorer = (items) =>
    items.map((_, i) => (i % 2 === 0 ? [0, 0, 0, 0, 0, 1] : [0, 0, 0, 0, 0, 0]));
  assert.deepEqual(rankingAccuracy(pairs, onlyLast).byPosition, [1, 0, 0, 0, 0, 0]);
  // better only at the first letter
  const onlyFirst: UtteranceScorer = (items) =>
    items.map((_, i) => (i % 2 === 0 ? [1, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0, 0]));
  assert.deepEqual(rankingAccuracy(pairs, onlyFirst).byPosition, [0, 0, 0, 0, 0, 1]);
  // longer value lists (e.g. with extra leading values) are aligned from the end
  const padded: UtteranceScorer = (items) =>
    items.map((_, i) => (i % 2 === 0 ? [9, 9, 0, 0, 1, 0, 0, 0] : [0, 0, 0, 0, 0, 0]));
  const r = rankingAccuracy(pairs, padded);
  assert.deepEqual(r.byPosition, [0, 0, 0, 1, 0, 0]);
  assert.ok(Math.abs(r.mean - 1 / 6) < 1e-12);
});
