/**
 * Comment threads (a parent comment and a reply with its upvote score) and the two layouts they are read from:
 *
 * - The reference code's Reddit layout (spec 8.3): `comments_positive.csv` and `comments_negative.csv`, each with a
 *   header row, read by position (column 4 = reply text, 5 = score, 10 = parent text), rows concatenated
 *   positive-first; and `train_idxs.json`, `eval_idxs.json`, `test_idxs.json`, lists of row indices into that
 *   concatenation.
 * - JSON Lines, one `{"parent": …, "comment": …, "score": …}` per line, with an optional header line
 *   `{"header": {…, "splits": {"train": [...], "eval": [...], "test": [...]}}}`.
 *
 * Every malformed row or index is an error naming the file and the row or line.
 * @module
 */
import { parse } from "csv-parse/sync";

/** One parent comment and one reply to it. */
export interface Thread {
  parent: string;
  comment: string;
  /** Net upvotes of the reply. */
  score: number;
}

/** Row indices of each split into a thread list. */
export interface Splits {
  train: number[];
  eval: number[];
  test: number[];
}

/** Threads with their splits. */
export interface ThreadSet {
  threads: Thread[];
  splits: Splits;
}

/** The reference layout's columns (0-based). */
const COLUMNS = { comment: 4, score: 5, parent: 10 } as const;

/**
 * Parses one of the reference layout's CSV files (header row first).
 * @param source the file name, for messages
 * @throws naming the file and row (1-based, the header is row 1) of a row that is malformed
 */
export function parseRedditCsv(text: string, source: string): Thread[] {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message.split("\n")[0]}`);
  }
  return records.slice(1).map((row, i) => {
    const where = `${source} row ${i + 2}`;
    if (row.length <= COLUMNS.parent) {
      throw new Error(`${where}: expected at least ${COLUMNS.parent + 1} columns, got ${row.length}`);
    }
    const score = Number(row[COLUMNS.score]!.trim());
    if (row[COLUMNS.score]!.trim() === "" || !Number.isFinite(score)) {
      throw new Error(`${where}: score (column ${COLUMNS.score}) must be a number, got '${row[COLUMNS.score]}'`);
    }
    return { comment: row[COLUMNS.comment]!, score, parent: row[COLUMNS.parent]! };
  });
}

function parseIndexList(text: string, source: string, size: number): number[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(value)) throw new Error(`${source}: expected a JSON list of row indices`);
  return value.map((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new Error(`${source}: entry ${i} (${JSON.stringify(v)}) is not a row index in [0, ${size})`);
    }
    return v as number;
  });
}

/**
 * Reads the reference layout from a folder: the two CSV files and the three index files.
 * @throws naming the file and row or entry of the first problem
 */
export function loadRedditFolder(folder: string): ThreadSet {
  const read = (name: string) => {
    const path = `${folder}/${name}`;
    try {
      return Deno.readTextFileSync(path);
    } catch {
      throw new Error(`${path}: cannot read the file`);
    }
  };
  const threads = [
    ...parseRedditCsv(read("comments_positive.csv"), `${folder}/comments_positive.csv`),
    ...parseRedditCsv(read("comments_negative.csv"), `${folder}/comments_negative.csv`),
  ];
  const split = (name: string) => parseIndexList(read(name), `${folder}/${name}`, threads.length);
  return {
    threads,
    splits: { train: split("train_idxs.json"), eval: split("eval_idxs.json"), test: split("test_idxs.json") },
  };
}

/**
 * Parses the JSON Lines layout. Without splits in the header, the first 80 % of threads train, the next 10 %
 * evaluate and the last 10 % test.
 * @throws naming the file and line of a malformed line or split index
 */
export function parseThreadsJsonl(text: string, source: string): ThreadSet {
  const threads: Thread[] = [];
  let header: Record<string, unknown> | null = null;
  let headerLine = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const where = `${source} line ${i + 1}`;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(`${where}: expected an object`);
    }
    if ("header" in value && threads.length === 0 && header === null) {
      header = value.header as Record<string, unknown>;
      headerLine = i + 1;
      return;
    }
    const { parent, comment, score } = value;
    if (typeof parent !== "string") throw new Error(`${where}: 'parent' must be a string`);
    if (typeof comment !== "string") throw new Error(`${where}: 'comment' must be a string`);
    if (typeof score !== "number" || !Number.isFinite(score)) throw new Error(`${where}: 'score' must be a number`);
    threads.push({ parent, comment, score });
  });
  if (threads.length === 0) throw new Error(`${source}: no thread`);
  const given = (header as Record<string, unknown> | null)?.splits as Record<string, unknown> | undefined;
  if (given === undefined) {
    const n = threads.length;
    const a = Math.floor(0.8 * n), b = Math.floor(0.9 * n);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    return { threads, splits: { train: range(0, a), eval: range(a, b), test: range(b, n) } };
  }
  const split = (name: keyof Splits) =>
    parseIndexList(JSON.stringify(given[name] ?? null), `${source} line ${headerLine} splits.${name}`, threads.length);
  return { threads, splits: { train: split("train"), eval: split("eval"), test: split("test") } };
}

/** Reads a thread file: a `.jsonl` file, or a folder in the reference layout. */
export function loadThreads(path: string): ThreadSet {
  let isFolder = false;
  try {
    isFolder = Deno.statSync(path).isDirectory;
  } catch {
    throw new Error(`${path}: no such file or folder`);
  }
  return isFolder ? loadRedditFolder(path) : parseThreadsJsonl(Deno.readTextFileSync(path), path);
}
