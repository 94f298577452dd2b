import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { evaluateWordle, playerPolicy } from "./eval.ts";
import { feedback, isConsistent, type Turn, WordleEnv } from "./game.ts";
import {
  ConsistentPlayer,
  consistentWords,
  InfoPlayer,
  MixturePlayer,
  type Player,
  RandomPlayer,
  RepeatPlayer,
} from "./players.ts";
import { loadWordList, WORD_LISTS } from "./words.ts";

const VOCAB = loadWordList(WORD_LISTS.eval200);
const ALLOWED = [...new Set([...VOCAB, ...loadWordList(WORD_LISTS.answers), ...loadWordList(WORD_LISTS.guesses)])];

const turn = (guess: string, answer: string): Turn => ({ guess, colours: feedback(guess, answer) });

/** Always says the same word. */
class Constant implements Player {
  constructor(readonly name: string) {}
  guess(): string {
    return this.name;
  }
}

Deno.test("consistentWords() keeps the vocabulary words that agree with every valid turn", () => {
  const turns = [turn("crane", "caulk"), { guess: "zzzzz", colours: null }, turn("slate", "caulk")];
  const words = [...VOCAB, "caulk"];
  const got = consistentWords(words, turns, "official");
  assert.ok(got.includes("caulk"));
  assert.ok(got.length < 10, `${got.length} words left`);
  assert.deepEqual(got, words.filter((w) => isConsistent(w, turns)));
  assert.deepEqual(consistentWords(VOCAB, [], "official"), VOCAB);
  assert.deepEqual(consistentWords(["there", "three"], [turn("eerie", "there")], "official"), ["there"]);
  // the rule matters: eerie vs there is y b y b g officially; no word fits that pattern under the reference rule
  assert.deepEqual(consistentWords(["there"], [turn("eerie", "there")], "reference"), []);
  assert.deepEqual(
    consistentWords(["there"], [{ guess: "eerie", colours: feedback("eerie", "there", "reference") }], "reference"),
    ["there"],
  );
});

Deno.test("InfoPlayer's best guesses are consistent words and its cache returns the same list", () => {
  const player = new InfoPlayer(VOCAB);
  const opening = player.bestGuesses([]);
  assert.ok(opening.length >= 1);
  for (const w of opening) assert.ok(VOCAB.includes(w));
  assert.equal(player.bestGuesses([]), opening, "the cached array itself");
  const prng = new Prng(3);
  for (let n = 0; n < 20; n++) {
    const answer = prng.pick(VOCAB);
    const turns = [turn(prng.pick(opening), answer)];
    const best = player.bestGuesses(turns);
    assert.ok(best.length >= 1);
    for (const w of best) assert.ok(isConsistent(w, turns), `${w} after ${turns[0]!.guess} (answer ${answer})`);
    assert.equal(player.bestGuesses(turns.map((t) => ({ ...t }))), best, "a copy of the state hits the cache");
    assert.deepEqual(new InfoPlayer(VOCAB).bestGuesses(turns), best, "the same list from a fresh player");
    assert.ok(best.includes(player.guess(turns, prng)));
  }
  // one or two candidates left: guess the first
  assert.deepEqual(new InfoPlayer(["crane", "crank"]).bestGuesses([]), ["crane"]);
  // the maximum-information guess on a hand-sized vocabulary: fghij gets four different patterns (vs abcdf
  // y b b b b, vs abcdg b y b b b, vs abcde b b b b b, vs itself g g g g g); each abcdX gets g g g g b against both
  // other abcdY words, so it splits the four into only three groups
  const small = ["abcdf", "abcdg", "fghij", "abcde"];
  assert.deepEqual(new InfoPlayer(small).bestGuesses([]), ["fghij"]);
});

Deno.test("the information player beats the random-consistent player, which beats the random player", () => {
  const options = { vocabulary: VOCAB, allowed: ALLOWED, games: 200, seed: 0 };
  // the players' generator must not be the evaluation's (Prng(0)): a player whose first move is
  // prng.pick(vocabulary) would then guess every hidden word at once
  const run = (p: Player) => evaluateWordle(playerPolicy(p, new Prng(1)), options).return.mean;
  const info = run(new InfoPlayer(VOCAB));
  const consistent = run(new ConsistentPlayer(VOCAB));
  const random = run(new RandomPlayer(ALLOWED));
  assert.ok(info > consistent, `information ${info} > random consistent ${consistent}`);
  assert.ok(consistent > random, `random consistent ${consistent} > random ${random}`);
  // measured: information −1.705, random consistent −2.16, random −6 (200 games, seed 0)
  assert.ok(info > -2.2 && info < -1.5, `information player mean return ${info}`);
  assert.ok(consistent > -2.8 && consistent < -1.8, `random-consistent mean return ${consistent}`);
  assert.ok(random < -5.9, `random-word mean return ${random}`);
});

Deno.test("ConsistentPlayer only guesses consistent words and falls back to the vocabulary", () => {
  const player = new ConsistentPlayer(VOCAB);
  const prng = new Prng(9);
  const turns = [turn("crane", "caulk")];
  for (let n = 0; n < 50; n++) assert.ok(isConsistent(player.guess(turns, prng), turns));
  // an impossible state (no consistent word) still gets a guess from the vocabulary
  const impossible = [{ guess: "crane", colours: feedback("crane", "crane") }, turn("slate", "caulk")];
  assert.ok(VOCAB.includes(player.guess(impossible, prng)));
});

Deno.test("RepeatPlayer never wins once it starts repeating", () => {
  const prng = new Prng(4);
  const env = new WordleEnv({ answers: VOCAB, allowed: new Set(ALLOWED), prng: new Prng(6) });
  const player = new RepeatPlayer(new ConsistentPlayer(VOCAB), 2);
  let repeated = 0;
  for (let game = 0; game < 100; game++) {
    env.reset();
    let done = false, won = false;
    while (!done) {
      const r = env.step(player.guess(env.turns, prng));
      done = r.done;
      won = r.info?.solved === true;
    }
    const guesses = env.turns.map((t) => t.guess);
    if (guesses.length > 2 || !won) {
      repeated++;
      assert.equal(won, false, `game ${game}: ${guesses}`);
      assert.equal(guesses.length, 6);
      for (const g of guesses.slice(2)) assert.ok(g === guesses[0] || g === guesses[1], `${g} repeats ${guesses}`);
    }
  }
  assert.ok(repeated > 50, `most games reach the repeating phase (${repeated})`);
  // with firstN = 1 the first word is repeated forever
  const once = new RepeatPlayer(new Constant("crane"), 1);
  assert.equal(once.guess([turn("slate", "caulk")], prng), "slate");
  assert.equal(once.guess([], prng), "crane");
});

Deno.test("MixturePlayer picks its players in proportion to the weights", () => {
  const prng = new Prng(0);
  const draws = 10_000;
  const fraction = (mix: MixturePlayer, word: string) => {
    let hits = 0;
    for (let i = 0; i < draws; i++) if (mix.guess([], prng) === word) hits++;
    return hits / draws;
  };
  // standard error of a fraction near 0.5 over 10,000 draws is 0.005: allow 4 of them
  const even = new MixturePlayer([[new Constant("aaaaa"), 0.5], [new Constant("bbbbb"), 0.5]]);
  assert.ok(Math.abs(fraction(even, "aaaaa") - 0.5) < 0.02);
  // weights are normalised: 1 : 3
  const skewed = new MixturePlayer([[new Constant("aaaaa"), 1], [new Constant("bbbbb"), 3]]);
  assert.ok(Math.abs(fraction(skewed, "aaaaa") - 0.25) < 0.02);
  const three = new MixturePlayer([[new Constant("a"), 0.2], [new Constant("b"), 0.3], [new Constant("c"), 0.5]]);
  const counts = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    const g = three.guess([], prng);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  assert.ok(Math.abs(counts.get("a")! / draws - 0.2) < 0.02);
  assert.ok(Math.abs(counts.get("b")! / draws - 0.3) < 0.02);
  assert.ok(Math.abs(counts.get("c")! / draws - 0.5) < 0.02);
  assert.equal(skewed.name, "mixture(aaaaa 0.25, bbbbb 0.75)");
  assert.equal(new MixturePlayer([[new Constant("x"), 2]]).guess([], prng), "x");
  // a zero weight drops its player (so `--smart 0` and `--smart 1` work)
  const only = new MixturePlayer([[new Constant("x"), 0], [new Constant("y"), 1]]);
  assert.ok(Array.from({ length: 50 }, () => only.guess([], prng)).every((g) => g === "y"));
  assert.equal(only.name, "mixture(y 1)");
  for (const bad of [[], [[new Constant("x"), 0]], [[new Constant("x"), -1]], [[new Constant("x"), NaN]]] as const) {
    assert.throws(() => new MixturePlayer(bad as ReadonlyArray<[Player, number]>), /at least one of them positive/);
  }
});

Deno.test("RandomPlayer draws uniformly from its list", () => {
  const words = ["crane", "slate", "caulk", "there"];
  const player = new RandomPlayer(words);
  const prng = new Prng(1);
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const g = player.guess([], prng);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [...words].sort());
  for (const n of counts.values()) assert.ok(Math.abs(n / 4000 - 0.25) < 0.03);
});
