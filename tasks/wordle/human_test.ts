import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { turnsFromSegments } from "./data.ts";
import { type Colour, feedback } from "./game.ts";
import { type HumanGame, parseGrid, parseHumanGamesJson, parseTweetsCsv, retrofitGames } from "./human.ts";
import { loadWordList, WORD_LISTS } from "./words.ts";

const c = (s: string) => Array.from(s) as Colour[];
const G = "\u{1F7E9}", Y = "\u{1F7E8}", B = "\u2B1B"; // 🟩 🟨 ⬛
const O = "\u{1F7E7}", U = "\u{1F7E6}", W = "\u2B1C"; // 🟧 🟦 ⬜ (high-contrast / light-mode variants)
const VS = "\uFE0F"; // variation selector-16, often after ⬛ and ⬜

/** Five cells of a grid row from g/y/b letters, in the given palette. */
const row = (s: string, [g, y, b] = [G, Y, B], vs = "") =>
  Array.from(s).map((x) => (x === "g" ? g : x === "y" ? y : b) + vs).join("");

// header-less rows `id,_,_,_,text`; text quoted, with newlines
const TWEETS = [
  `210,1,2,3,"Wordle 210 3/6`, // line 1
  ``,
  row("bybbb"),
  row("gbgby"),
  row("ggggg") + `"`, // line 5: end of the first record
  `211,1,2,3,"Wordle 211 X/6 (high contrast)`, // line 6
  row("gybbb", [O, U, W]),
  row("ybbbb", [O, U, W]),
  row("bbbbb", [O, U, W]),
  row("bbbbb", [O, U, W]),
  row("bbbbb", [O, U, W]),
  row("ggggb", [O, U, W]) + `"`, // line 12
  `212,1,2,3,no grid in this one`, // line 13: skipped
  `"213","x, y","a,b",3,"Wordle 213, 2/6, with commas`, // line 14: quoted commas
  row("bybbb", [G, Y, B], VS), // every cell followed by U+FE0F
  `  ${row("ggggg")}  #wordle"`, // not a grid line: text after the squares
  `214,1,2,3,"${B}${VS}${Y}${B}${VS}${B}${VS}${B}${VS}`, // line 17: U+FE0F only after the black squares
  `${row("ggggg")}`,
  `Wordle 214 2/6"`,
].join("\n") + "\n";

Deno.test("parseTweetsCsv() reads the colour rows of every tweet with a grid and counts the others", () => {
  const { games, skipped } = parseTweetsCsv(TWEETS, "tweets.csv");
  assert.equal(skipped, 1);
  assert.deepEqual(games.map((g) => g.rows), [
    [c("bybbb"), c("gbgby"), c("ggggg")],
    [c("gybbb"), c("ybbbb"), c("bbbbb"), c("bbbbb"), c("bbbbb"), c("ggggb")],
    [c("bybbb")],
    [c("bybbb"), c("ggggg")],
  ]);
  for (const g of games) {
    assert.match(g.where, /^tweets\.csv line \d+$/);
    assert.equal(g.answer, undefined);
  }
  // CRLF line endings give the same games
  const crlf = parseTweetsCsv(TWEETS.replaceAll("\n", "\r\n"), "tweets.csv");
  assert.deepEqual(crlf.games.map((g) => g.rows), games.map((g) => g.rows));
  assert.equal(crlf.skipped, 1);
});

Deno.test("parseGrid() takes the first run of 1–6 grid lines; seven lines or none is no game", () => {
  assert.deepEqual(parseGrid(`hi\n${row("ybbbb")}\n\n${row("ggggg")}`), [c("ybbbb")], "the first run only");
  assert.deepEqual(parseGrid(` ${row("gggbb")}\t`), [c("gggbb")], "surrounding spaces are trimmed");
  assert.equal(parseGrid(Array(7).fill(row("bbbbb")).join("\n")), null);
  assert.equal(parseGrid(Array(6).fill(row("bbbbb")).join("\n"))!.length, 6);
  assert.equal(parseGrid("no squares"), null);
  assert.equal(parseGrid(row("bbbb")), null, "four squares");
  assert.equal(parseGrid(row("bbbbbb")), null, "six squares");
  assert.equal(parseGrid(`${G}${G}x${G}${G}`), null);
});

Deno.test("parseTweetsCsv() names the line of a row with fewer than five columns", () => {
  const text = `210,1,2,3,"Wordle\n${row("ggggg")}"\n211,1,2,3,plain\n212,only,three\n`;
  assert.throws(
    () => parseTweetsCsv(text, "t.csv"),
    (e: Error) => e.message.startsWith("t.csv line 4: expected at least 5 columns") && /got 3$/.test(e.message),
  );
});

Deno.test("parseTweetsCsv() names the file of malformed CSV", () => {
  const text = `210,1,2,3,"Wordle\n${row("ggggg")}\n211,1,2,3,plain\n`;
  assert.throws(
    () => parseTweetsCsv(text, "data/bad.csv"),
    (e: Error) => e.message.startsWith("data/bad.csv: ") && /quote/i.test(e.message) && !e.message.includes("\n"),
  );
  assert.throws(() => parseTweetsCsv(`1,2,3,4,"a"b"\n`, "data/bad.csv"), /^Error: data\/bad\.csv: /);
});

Deno.test("parseHumanGamesJson() reads games and names the game of a bad entry", () => {
  const good = {
    games: [
      ["Caulk", ["<g><b><y><b><b>", "<g><g><g><g><g>"]],
      ["slate", ["<b><b><b><b><b>"]],
    ],
    transitions: {},
  };
  assert.deepEqual(parseHumanGamesJson(JSON.stringify(good), "h.json"), [
    { rows: [c("gbybb"), c("ggggg")], answer: "caulk", where: "h.json game 0" },
    { rows: [c("bbbbb")], answer: "slate", where: "h.json game 1" },
  ]);
  assert.deepEqual(parseHumanGamesJson('{"games": []}', "h.json"), []);

  assert.throws(() => parseHumanGamesJson("{games:", "h.json"), /^Error: h\.json: not valid JSON/);
  for (const text of ["{}", '{"games": {}}', "[]", "null", "3"]) {
    assert.throws(() => parseHumanGamesJson(text, "h.json"), /^Error: h\.json: expected an object with a 'games' list/);
  }
  const bad = (game: unknown) => JSON.stringify({ games: [good.games[0], good.games[1], game] });
  const cases: Array<[unknown, RegExp]> = [
    [["crane", ["<g><b><y><b>"]], /^Error: h\.json game 2 row 0: '<g><b><y><b>' is not a pattern/],
    [["crane", ["<g><g><g><g><g>", "ggggg"]], /^Error: h\.json game 2 row 1: 'ggggg'/],
    [["crane", []], /^Error: h\.json game 2: a game has 1 to 6 rows, got 0/],
    [["crane", Array(7).fill("<b><b><b><b><b>")], /^Error: h\.json game 2: a game has 1 to 6 rows, got 7/],
    [["crane"], /^Error: h\.json game 2: expected \[trueWord/],
    [[5, ["<g><g><g><g><g>"]], /^Error: h\.json game 2: expected \[trueWord/],
    ["crane", /^Error: h\.json game 2: expected \[trueWord/],
    [["crane", "<g><g><g><g><g>"], /^Error: h\.json game 2: expected \[trueWord/],
  ];
  for (const [game, message] of cases) {
    assert.throws(() => parseHumanGamesJson(bad(game), "h.json"), message, JSON.stringify(game));
  }
});

const VOCAB = loadWordList(WORD_LISTS.eval200);
const ALLOWED = [...new Set([...VOCAB, ...loadWordList(WORD_LISTS.guesses)])];

Deno.test("retrofitGames() makes episodes whose guesses reproduce every row against the drawn answer", () => {
  const games: HumanGame[] = [
    ...parseTweetsCsv(TWEETS, "tweets.csv").games,
    ...parseHumanGamesJson(
      JSON.stringify({
        games: [
          ["crane", ["<b><y><b><b><b>", "<y><b><b><g><b>", "<g><g><g><g><g>"]],
          ["crane", ["<b><b><b><b><b>", "<b><b><b><b><b>", "<b><b><b><b><b>", "<g><y><b><b><b>", "<g><g><b><b><g>"]],
        ],
      }),
      "h.json",
    ),
  ];
  const options = { answers: VOCAB, guesses: ALLOWED, rule: "official" as const, prng: new Prng(3) };
  const { episodes, dropped } = retrofitGames(games, options);
  assert.equal(dropped, 0);
  assert.equal(episodes.length, games.length);
  episodes.forEach((e, i) => {
    const rows = games[i]!.rows;
    const answer = e.meta.answer;
    assert.ok(VOCAB.includes(answer), answer);
    const turns = turnsFromSegments(e.segments);
    assert.equal(turns.length, rows.length);
    turns.forEach((t, r) => {
      assert.deepEqual(t.colours, rows[r], `game ${i} row ${r}`);
      assert.deepEqual(feedback(t.guess, answer), rows[r], `game ${i} row ${r}: ${t.guess} vs ${answer}`);
      assert.ok(ALLOWED.includes(t.guess) || t.guess === answer, t.guess);
    });
    const won = rows[rows.length - 1]!.every((x) => x === "g");
    const rewards = e.segments.filter((s) => s.kind === "action").map((s) => s.reward);
    assert.equal(rewards[rewards.length - 1], won ? 0 : -1, `game ${i} won: ${won}`);
    assert.ok(rewards.slice(0, -1).every((r) => r === -1));
    assert.equal(turns[turns.length - 1]!.guess === answer, won);
  });
  assert.deepEqual(
    retrofitGames(games, { ...options, prng: new Prng(3) }).episodes,
    episodes,
    "the same prng seed gives the same episodes",
  );
});

Deno.test("retrofitGames() drops and counts a game whose rows are impossible under the vocabulary", () => {
  const games: HumanGame[] = [
    { rows: [feedback("slate", "crane"), c("ggggg")], where: "a" },
    { rows: [c("yyyyy")], where: "b" }, // needs an anagram of the answer
    { rows: [c("gbbbb"), c("ggggg")], where: "c" }, // no word of {crane, slate} starts with c and shares nothing else
    { rows: [c("ggggg")], where: "d" },
  ];
  const { episodes, dropped } = retrofitGames(games, {
    answers: ["crane"],
    guesses: ["crane", "slate"],
    rule: "official",
    prng: new Prng(0),
    maxDraws: 5,
  });
  assert.equal(dropped, 2);
  assert.deepEqual(episodes.map((e) => e.segments.filter((s) => s.kind === "action").map((s) => s.text)), [
    ["slate", "crane"],
    ["crane"],
  ]);
  assert.deepEqual(episodes.map((e) => e.meta.answer), ["crane", "crane"]);
  // the all-green row is always achievable, even when the answer is not among the guesses
  const only = retrofitGames([{ rows: [c("ggggg")], where: "x" }], {
    answers: ["caulk"],
    guesses: ["crane"],
    rule: "official",
    prng: new Prng(0),
  });
  assert.equal(only.dropped, 0);
  assert.deepEqual(only.episodes[0]!.segments, [
    { kind: "action", text: "caulk", reward: 0 },
    { kind: "state", text: "<g><g><g><g><g>" },
  ]);
});
