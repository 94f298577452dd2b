/**
 * Wordle dataset files: JSON Lines with a header line that records how the file was made, then one episode per
 * line (`{"segments": [...], "terminal": true, "meta": {...}}`). The same command and seed give an identical file.
 * @module
 */
import { parseEpisodesJsonl } from "../../ilql/episode.ts";
import { writeFileAtomic } from "../../ilql/safetensors.ts";
import { checkWordleEpisode, type WordleEpisode, type WordleMeta } from "./data.ts";

/** Writes a dataset atomically: header line, then episodes. */
export async function writeWordleDataset(
  path: string,
  header: Record<string, unknown>,
  episodes: readonly WordleEpisode[],
): Promise<void> {
  const lines = [JSON.stringify({ header }), ...episodes.map((e) => JSON.stringify(e))];
  await writeFileAtomic(path, lines.join("\n") + "\n");
}

/**
 * Reads a Wordle dataset; every line is checked (valid JSON, a well-formed episode, guesses in a–z, observations
 * made of five colour tokens). Episodes without `meta` get `{kind: "mixed"}`.
 * @throws naming the file and line of the first bad line
 */
export function loadWordleDataset(path: string): { header: Record<string, unknown> | null; episodes: WordleEpisode[] } {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read the dataset (${(e as Error).message.split("\n")[0]})`);
  }
  const file = parseEpisodesJsonl(text, path);
  const episodes = file.episodes.map((e, i) => {
    checkWordleEpisode(e, `${path} line ${file.lines[i]}`);
    const meta = (e as Partial<WordleEpisode>).meta ?? ({ kind: "mixed", answer: "" } as WordleMeta);
    return { ...e, meta } as WordleEpisode;
  });
  return { header: file.header, episodes };
}
