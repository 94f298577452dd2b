/**
 * Human Wordle games in the reference code's layouts (spec 8.1.3), turned into training episodes.
 *
 * - Tweets CSV (`data/wordle/tweets.csv`): rows `id, _, _, _, text` with no header, `id` the Wordle number and
 *   `text` a shared result grid. The first run of 1–6 consecutive lines that are exactly five squares is the game:
 *   🟩/🟧 green, 🟨/🟦 yellow, ⬛/⬜ black. Rows without a grid are skipped (and counted).
 * - Human-game JSON (`random_human_tweet_data*.json`): `{"games": [[trueWord, [pattern, …]], …], …}` with patterns
 *   written as colour tokens (`<g><b><y><b><b>`).
 *
 * Retrofitting (reference `WordleHumanDataset`, `use_true_word: false`): the grids say nothing about the guesses,
 * so for each game we draw an answer from a vocabulary under which every row is achievable (redrawing otherwise),
 * then for each row a uniformly random allowed guess that produces that row's colours against the answer. Rows are
 * filled independently, as in the reference (no consistency with earlier feedback). The game is won when its last
 * row is all green, which gives the last guess reward 0.
 * @module
 */
import { parse } from "csv-parse/sync";
import type { Prng } from "../../ilql/prng.ts";
import { type Colour, type ColourRule, parseColours, patternCode } from "./game.ts";
import { gameEpisode, type WordleEpisode } from "./data.ts";
import { feedbackCode } from "./players.ts";

/** A human game: its colour rows, and the answer when the source knows it. */
export interface HumanGame {
  rows: Colour[][];
  answer?: string;
  /** Where it came from, for messages (e.g. `tweets.csv line 12`). */
  where: string;
}

const SQUARES: Record<string, Colour> = {
  "\u{1F7E9}": "g",
  "\u{1F7E7}": "g",
  "\u{1F7E8}": "y",
  "\u{1F7E6}": "y",
  "\u2B1B": "b",
  "\u2B1C": "b",
};

function gridRow(line: string): Colour[] | null {
  const cells = Array.from(line.replace(/\uFE0F/g, "").trim());
  if (cells.length !== 5 || !cells.every((c) => c in SQUARES)) return null;
  return cells.map((c) => SQUARES[c]!);
}

/** The first run of 1–6 grid lines in a tweet, or null when it has none. */
export function parseGrid(text: string): Colour[][] | null {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (gridRow(lines[i]!) === null) continue;
    const rows: Colour[][] = [];
    for (let j = i; j < lines.length; j++) {
      const row = gridRow(lines[j]!);
      if (row === null) break;
      rows.push(row);
    }
    return rows.length <= 6 ? rows : null;
  }
  return null;
}

/**
 * Games from the reference's tweets CSV.
 * @throws naming the source and line on malformed CSV or a row with fewer than five columns
 */
export function parseTweetsCsv(text: string, source: string): { games: HumanGame[]; skipped: number } {
  let records: Array<{ record: string[]; info: { lines: number; raw: string } }>;
  try {
    // with `info` the parser returns {record, info} objects (its types say string[][])
    const options = { relax_column_count: true, info: true, raw: true, skip_empty_lines: true };
    records = parse(text, options) as unknown as typeof records;
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message.split("\n")[0]}`);
  }
  const games: HumanGame[] = [];
  let skipped = 0;
  for (const { record, info } of records) {
    // `lines` is the line the record ends on; count back over the newlines inside it
    const inner = (info.raw.replace(/\r?\n$/, "").match(/\n/g) ?? []).length;
    const where = `${source} line ${info.lines - inner}`;
    if (record.length < 5) {
      throw new Error(`${where}: expected at least 5 columns (id, _, _, _, text), got ${record.length}`);
    }
    const rows = parseGrid(record[4]!);
    if (rows === null) skipped++;
    else games.push({ rows, where });
  }
  return { games, skipped };
}

/**
 * Games from the reference's human-game JSON.
 * @throws naming the source and the game index on malformed input
 */
export function parseHumanGamesJson(text: string, source: string): HumanGame[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const games = (value as { games?: unknown })?.games;
  if (!Array.isArray(games)) throw new Error(`${source}: expected an object with a 'games' list`);
  return games.map((g: unknown, i: number) => {
    const where = `${source} game ${i}`;
    if (!Array.isArray(g) || g.length !== 2 || typeof g[0] !== "string" || !Array.isArray(g[1])) {
      throw new Error(`${where}: expected [trueWord, [pattern, …]]`);
    }
    if (g[1].length === 0 || g[1].length > 6) throw new Error(`${where}: a game has 1 to 6 rows, got ${g[1].length}`);
    const rows = g[1].map((p: unknown, r: number) => {
      try {
        return parseColours(String(p));
      } catch (e) {
        throw new Error(`${where} row ${r}: ${(e as Error).message}`);
      }
    });
    return { rows, answer: g[0].toLowerCase(), where };
  });
}

/** Options of {@link retrofitGames}. */
export interface RetrofitOptions {
  /** Answers to draw from. */
  answers: readonly string[];
  /** Guesses to fill rows with. */
  guesses: readonly string[];
  rule: ColourRule;
  prng: Prng;
  /** Answer draws per game before the game is dropped (default 200). */
  maxDraws?: number;
}

/** Turns colour-only games into episodes by drawing answers and guesses that produce the colours. */
export function retrofitGames(
  games: readonly HumanGame[],
  options: RetrofitOptions,
): { episodes: WordleEpisode[]; dropped: number } {
  const byAnswer = new Map<string, Map<number, string[]>>();
  const guessesFor = (answer: string) => {
    let table = byAnswer.get(answer);
    if (table === undefined) {
      table = new Map();
      for (const g of options.guesses) {
        const code = feedbackCode(g, answer, options.rule);
        const list = table.get(code);
        if (list) list.push(g);
        else table.set(code, [g]);
      }
      table.set(patternCode(["g", "g", "g", "g", "g"]), [answer]);
      byAnswer.set(answer, table);
    }
    return table;
  };
  const episodes: WordleEpisode[] = [];
  let dropped = 0;
  for (const game of games) {
    const codes = game.rows.map(patternCode);
    let placed = false;
    for (let draw = 0; draw < (options.maxDraws ?? 200) && !placed; draw++) {
      const answer = options.prng.pick(options.answers);
      const table = guessesFor(answer);
      if (!codes.every((c) => table.has(c))) continue;
      const turns = codes.map((c, r) => ({ guess: options.prng.pick(table.get(c)!), colours: game.rows[r]! }));
      episodes.push(gameEpisode(turns, answer, { kind: "mixed", answer }));
      placed = true;
    }
    if (!placed) dropped++;
  }
  return { episodes, dropped };
}
