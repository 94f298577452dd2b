import { datasetReturn } from "../../ilql/data.ts";
import assert from "node:assert/strict";
import type { Episode } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import {
  checkWordleEpisode,
  type DatasetSource,
  gameEpisode,
  habitDataset,
  LAVA_OPENERS,
  lavaDataset,
  mixedDataset,
  turnsFromSegments,
  type WordleEpisode,
} from "./data.ts";
import { bestOpeners, worstOpener } from "./players.ts";
import { loadWordleDataset, writeWordleDataset } from "./files.ts";
import { feedback, isConsistent, isWord, MAX_GUESSES, type Turn } from "./game.ts";
import { loadWordList, WORD_LISTS } from "./words.ts";

const VOCAB = loadWordList(WORD_LISTS.eval200);
const ALLOWED = [...new Set([...VOCAB, ...loadWordList(WORD_LISTS.guesses)])];
const SOURCE: DatasetSource = { answers: VOCAB, allowed: ALLOWED, rule: "official" };

const turn = (guess: string, answer: string): Turn => ({ guess, colours: feedback(guess, answer) });
const guessesOf = (e: Episode) => e.segments.filter((s) => s.kind === "action").map((s) => s.text);
const returnOf = (e: Episode) => e.segments.reduce((s, x) => s + (x.reward ?? 0), 0);

/** Every valid guess's colours are the feedback against the recorded answer; rewards follow the game's rules. */
function checkGame(e: WordleEpisode) {
  const turns = turnsFromSegments(e.segments);
  const answer = e.meta.answer;
  assert.ok(turns.length >= 1 && turns.length <= MAX_GUESSES);
  turns.forEach((t, i) => {
    if (t.colours !== null) assert.deepEqual(t.colours, feedback(t.guess, answer), `${t.guess} vs ${answer}`);
    else assert.ok(!isWord(t.guess) || !ALLOWED.includes(t.guess), `${t.guess} has no colours: it is invalid`);
    if (i < turns.length - 1) assert.notEqual(t.guess, answer, "the game ends when solved");
  });
  const solved = turns[turns.length - 1]!.guess === answer;
  assert.ok(solved || turns.length === MAX_GUESSES, "a game ends when solved or after six guesses");
  assert.equal(returnOf(e), solved ? 1 - turns.length : -6);
  assert.equal(e.terminal, true);
}

Deno.test("gameEpisode() and turnsFromSegments() round trip, with an invalid guess between two valid ones", () => {
  const turns: Turn[] = [turn("crane", "caulk"), { guess: "zzzzz", colours: null }, turn("caulk", "caulk")];
  const episode = gameEpisode(turns, "caulk", { kind: "mixed", answer: "caulk" });
  assert.deepEqual(episode, {
    segments: [
      { kind: "action", text: "crane", reward: -1 },
      { kind: "state", text: "<g><b><y><b><b>" },
      { kind: "action", text: "zzzzz", reward: -1 },
      { kind: "action", text: "caulk", reward: 0 },
      { kind: "state", text: "<g><g><g><g><g>" },
    ],
    terminal: true,
    meta: { kind: "mixed", answer: "caulk" },
  });
  assert.deepEqual(turnsFromSegments(episode.segments), turns);
  // a lost game: every guess −1
  const lost = Array.from({ length: 6 }, () => turn("slate", "caulk"));
  assert.deepEqual(turnsFromSegments(gameEpisode(lost, "caulk", { kind: "mixed", answer: "caulk" }).segments), lost);
  assert.equal(returnOf(gameEpisode(lost, "caulk", { kind: "mixed", answer: "caulk" })), -6);
  // a history that ends after a guess (no colours yet) is fine; two observations in a row are not
  assert.deepEqual(turnsFromSegments([{ kind: "action", text: "crane", reward: -1 }]), [{
    guess: "crane",
    colours: null,
  }]);
  assert.throws(
    () => turnsFromSegments([{ kind: "state", text: "<b><b><b><b><b>" }]),
    /unexpected observation '<b><b><b><b><b>'/,
  );
  assert.throws(
    () =>
      turnsFromSegments([
        { kind: "action", text: "crane", reward: -1 },
        { kind: "state", text: "<b><b><b><b><b>" },
        { kind: "state", text: "<b><b><b><b><b>" },
      ]),
    /unexpected observation/,
  );
  assert.throws(
    () => turnsFromSegments([{ kind: "action", text: "crane", reward: -1 }, { kind: "state", text: "<x>" }]),
    /not a pattern of five colour tokens/,
  );
});

Deno.test("mixedDataset() is a pure function of its seed and plays legal games", () => {
  const a = mixedDataset(SOURCE, 40, new Prng(1));
  assert.deepEqual(a, mixedDataset(SOURCE, 40, new Prng(1)));
  assert.notDeepEqual(a, mixedDataset(SOURCE, 40, new Prng(2)));
  assert.equal(a.length, 40);
  for (const e of a) {
    assert.equal(e.meta.kind, "mixed");
    assert.ok(VOCAB.includes(e.meta.answer));
    checkGame(e);
    checkWordleEpisode(e, "mixed");
  }
  // (almost) only random-word moves hardly ever solve a 200-word game; (almost) only consistent-word moves do
  assert.ok(datasetReturn(mixedDataset(SOURCE, 40, new Prng(1), 0.001)) < -5.5);
  assert.ok(datasetReturn(mixedDataset(SOURCE, 40, new Prng(1), 0.999)) > -3.5);
  const mean = datasetReturn(a);
  assert.ok(mean > -6 && mean < -2, `mixed dataset mean return ${mean}`);
});

Deno.test({
  name: "mixedDataset() accepts the endpoints smartFraction 0 and 1 that `--smart` allows",
  fn() {
    assert.ok(datasetReturn(mixedDataset(SOURCE, 10, new Prng(1), 0)) < -5.5);
    assert.ok(datasetReturn(mixedDataset(SOURCE, 10, new Prng(1), 1)) > -3.5);
  },
});

Deno.test("worstOpener(): the vocabulary word that leaves the most words, on average, after its feedback", () => {
  assert.equal(worstOpener(VOCAB, "official"), "puppy");
  // "xyzuv" gets all greys from both other words, so cannot tell them apart; each of those splits all three
  assert.equal(worstOpener(["abcde", "xyzuv", "abcdf"], "official"), "xyzuv");
});

Deno.test("habitDataset(): the habit player's games open with the worst word and keep only greens; the rest are consistent", () => {
  const games = habitDataset(SOURCE, 300, new Prng(3));
  assert.deepEqual(games, habitDataset(SOURCE, 300, new Prng(3)));
  const habit = games.filter((g) => g.meta.kind === "habit");
  const consistent = games.filter((g) => g.meta.kind === "consistent");
  assert.equal(habit.length + consistent.length, 300);
  assert.ok(Math.abs(habit.length / 300 - 0.6) < 0.1, `habit share ${habit.length / 300}`);
  let reusedGrey = 0;
  for (const g of games) {
    checkGame(g);
    checkWordleEpisode(g, "habit");
    const turns = turnsFromSegments(g.segments);
    if (g.meta.kind === "consistent") {
      // every guess agrees with all the feedback before it
      turns.forEach((t, i) => assert.ok(isConsistent(t.guess, turns.slice(0, i)), t.guess));
      continue;
    }
    assert.equal(turns[0]!.guess, "puppy");
    assert.equal(new Set(turns.map((t) => t.guess)).size, turns.length, "never repeats a guess");
    turns.forEach((t, i) => {
      for (const p of turns.slice(0, i)) {
        p.colours!.forEach((c, k) => {
          if (c === "g") assert.equal(t.guess[k], p.guess[k], "keeps every green letter");
          if (c === "b" && !p.guess.slice(0, k).includes(p.guess[k]!) && t.guess.includes(p.guess[k]!)) reusedGrey++;
        });
      }
    });
  }
  assert.ok(reusedGrey > 0, "the habit reuses grey letters");
  // the habit costs about two guesses a game against consistent play
  const mean = (list: WordleEpisode[]) => datasetReturn(list);
  assert.ok(mean(consistent) - mean(habit) > 1.5, `consistent ${mean(consistent)} vs habit ${mean(habit)}`);
  assert.throws(() => habitDataset(SOURCE, 1, new Prng(0), 1.5), /habitShare must be in \[0, 1\], got 1.5/);
});

Deno.test("lavaDataset() is a pure function of its seed", () => {
  const a = lavaDataset(SOURCE, 4, new Prng(5));
  assert.deepEqual(a, lavaDataset(SOURCE, 4, new Prng(5)));
  assert.notDeepEqual(a, lavaDataset(SOURCE, 4, new Prng(6)));
});

Deno.test("lavaDataset(): per iteration one expert game, 5 lava continuations when it needs >= 3 guesses, 5 others", () => {
  // seed 1 has branched and short (1–2 guess) iterations among its first 40
  const iterations = 40;
  const episodes = lavaDataset(SOURCE, iterations, new Prng(1));
  const openers = bestOpeners(VOCAB, "official", LAVA_OPENERS);
  const firstGuesses = new Set<string>();
  let i = 0, branched = 0, short = 0;
  for (let it = 0; it < iterations; it++) {
    const expert = episodes[i++]!;
    assert.equal(expert.meta.kind, "expert", `iteration ${it}`);
    checkGame(expert);
    const eg = guessesOf(expert);
    assert.equal(eg[eg.length - 1], expert.meta.answer, "the information player solves every 200-word game");
    assert.ok(openers.includes(eg[0]!), `${eg[0]} is one of the ${LAVA_OPENERS} best openers`);
    firstGuesses.add(eg[0]!);
    if (eg.length >= 3) {
      branched++;
      assert.deepEqual(expert.meta.branch, { before: eg.slice(0, 2), action: eg[2] });
      for (let k = 0; k < 5; k++) {
        const lava = episodes[i++]!;
        assert.equal(lava.meta.kind, "adversarial", `iteration ${it} continuation ${k}`);
        assert.equal(lava.meta.answer, expert.meta.answer);
        checkGame(lava);
        const lg = guessesOf(lava);
        assert.equal(lg.length, 6);
        assert.deepEqual(lg.slice(0, 2), eg.slice(0, 2), "starts from the expert's first two guesses");
        assert.deepEqual(lava.segments.slice(0, 4), expert.segments.slice(0, 4), "the same history after two guesses");
        for (const g of lg.slice(2)) assert.ok(g === lg[0] || g === lg[1], `${g} repeats one of ${lg.slice(0, 2)}`);
        assert.equal(returnOf(lava), -6, "never wins");
        assert.deepEqual(lava.meta.branch, { before: eg.slice(0, 2), action: lg[2] });
      }
    } else {
      short++;
      assert.equal(expert.meta.branch, undefined);
      assert.ok(!("branch" in expert.meta));
    }
    for (let k = 0; k < 5; k++) {
      const sub = episodes[i++]!;
      assert.equal(sub.meta.kind, "suboptimal", `iteration ${it} game ${k}`);
      assert.equal(sub.meta.branch, undefined);
      checkGame(sub);
    }
  }
  assert.equal(i, episodes.length, "nothing else in the dataset");
  assert.ok(branched > 0 && short > 0, `both kinds of iteration occur (${branched} branched, ${short} short)`);
  assert.equal(episodes.length, iterations * 6 + branched * 5);
  assert.ok(firstGuesses.size > 10, `the expert's openers vary (${firstGuesses.size} of ${LAVA_OPENERS})`);
});

Deno.test("datasetReturn() is the mean over episodes of the summed action rewards", () => {
  const won = gameEpisode([turn("crane", "caulk"), turn("slate", "caulk"), turn("caulk", "caulk")], "caulk", {
    kind: "mixed",
    answer: "caulk",
  });
  const lost = gameEpisode(Array.from({ length: 6 }, () => turn("crane", "caulk")), "caulk", {
    kind: "mixed",
    answer: "caulk",
  });
  assert.equal(datasetReturn([won]), -2);
  assert.equal(datasetReturn([won, lost]), -4);
  assert.equal(datasetReturn([won, lost, won, won]), -3);
});

Deno.test("writeWordleDataset() writes byte-identical files for the same seed; loadWordleDataset reads them back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const header = { task: "wordle", kind: "mixed", seed: 7 };
    await writeWordleDataset(`${dir}/a.jsonl`, header, mixedDataset(SOURCE, 25, new Prng(7)));
    await writeWordleDataset(`${dir}/b.jsonl`, header, mixedDataset(SOURCE, 25, new Prng(7)));
    await writeWordleDataset(`${dir}/c.jsonl`, header, mixedDataset(SOURCE, 25, new Prng(8)));
    const a = await Deno.readFile(`${dir}/a.jsonl`);
    assert.deepEqual(a, await Deno.readFile(`${dir}/b.jsonl`));
    assert.notDeepEqual(a, await Deno.readFile(`${dir}/c.jsonl`));
    const text = new TextDecoder().decode(a);
    const lines = text.split("\n");
    assert.equal(lines.length, 27, "header, 25 episodes, final newline");
    assert.deepEqual(JSON.parse(lines[0]!), { header });

    const loaded = loadWordleDataset(`${dir}/a.jsonl`);
    assert.deepEqual(loaded.header, header);
    assert.deepEqual(loaded.episodes, mixedDataset(SOURCE, 25, new Prng(7)));

    const lava = lavaDataset(SOURCE, 3, new Prng(1));
    await writeWordleDataset(`${dir}/lava.jsonl`, {}, lava);
    assert.deepEqual(loadWordleDataset(`${dir}/lava.jsonl`).episodes, lava, "meta with branches survives");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadWordleDataset() names the file and line of a bad line, and the path of a missing file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/d.jsonl`;
    const good = JSON.stringify(gameEpisode([turn("crane", "caulk")], "caulk", { kind: "mixed", answer: "caulk" }));
    const header = JSON.stringify({ header: { task: "wordle" } });
    const load = (lines: string[]) => {
      Deno.writeTextFileSync(path, lines.join("\n") + "\n");
      return loadWordleDataset(path);
    };
    // a file without meta gets {kind: "mixed"}
    const bare = JSON.stringify({ segments: [{ kind: "action", text: "crane", reward: -1 }], terminal: true });
    assert.equal(load([bare]).episodes[0]!.meta.kind, "mixed");
    assert.equal(load([bare]).header, null);

    const cases: Array<[string, RegExp]> = [
      ["{not json", /not valid JSON/],
      [good.replace('"text":"crane"', '"text":"CRANE"'), /guess 'CRANE' must be lowercase letters a–z/],
      [good.replace('"text":"crane"', '"text":"cr4ne"'), /guess 'cr4ne'/],
      [good.replace("<g><b><y><b><b>", "<x><b><b><b><b>"), /'<x><b><b><b><b>' is not a pattern of five colour tokens/],
      [good.replace("<g><b><y><b><b>", "<g><b><y><b>"), /is not a pattern of five colour tokens/],
      [JSON.stringify({ segments: [], terminal: true }), /no action segment/],
      [good.replace('"reward":-1', '"reward":"x"'), /reward must be a finite number/],
      // a six-letter guess answered with five colours: the game answers only five-letter words
      [
        good.replace('"text":"crane"', '"text":"cranes"'),
        /guess 'cranes' has 6 letters but is answered with 5 colours/,
      ],
      [good.replace('"text":"crane"', '"text":"cran"'), /guess 'cran' has 4 letters but is answered with 5 colours/],
      // feedback with no guess before it
      [
        JSON.stringify({
          ...JSON.parse(good),
          segments: [{ kind: "state", text: "<b><b><b><b><b>" }, ...JSON.parse(good).segments],
        }),
        /colour feedback '<b><b><b><b><b>' must follow a guess/,
      ],
    ];
    for (const [bad, message] of cases) {
      assert.throws(
        () => load([header, good, "", bad, good]),
        (e: Error) => e.message.startsWith(`${path} line 4: `) && message.test(e.message),
        bad,
      );
    }
    const seven = JSON.stringify(
      gameEpisode(Array.from({ length: 7 }, () => turn("crane", "caulk")), "caulk", {
        kind: "mixed",
        answer: "caulk",
      }),
    );
    assert.throws(() => load([good, seven]), new RegExp(`${path} line 2: 7 guesses, more than 6`));
    assert.throws(() => load([header]), { message: `${path}: the file holds only a header, no episode` });
    assert.throws(() => load([""]), { message: `${path}: the file holds no episode (it is empty)` });
    // an invalid guess gets no feedback, so any length is allowed when no colours follow it
    const invalid = JSON.parse(good);
    invalid.segments.unshift({ kind: "action", text: "zzzzzz", reward: -1 });
    assert.equal(load([JSON.stringify(invalid)]).episodes.length, 1);
    assert.throws(() => load([good, header]), /line 2: a header is only allowed on the first line/);

    const missing = `${dir}/missing.jsonl`;
    assert.throws(() => loadWordleDataset(missing), (e: Error) => e.message.startsWith(`${missing}: cannot read`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
