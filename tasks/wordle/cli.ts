/**
 * `deno task data wordle <kind> [options]`: writes seeded Wordle datasets and the evaluation vocabulary.
 * @module
 */
import { parseFlags, UsageError } from "../../ilql/cli.ts";
import { Prng } from "../../ilql/prng.ts";
import { writeFileAtomic } from "../../ilql/safetensors.ts";
import { type ColourRule } from "./game.ts";
import { datasetReturn } from "../../ilql/data.ts";
import {
  type DatasetSource,
  habitDataset,
  LAVA_OPENERS,
  lavaDataset,
  mixedDataset,
  type WordleEpisode,
} from "./data.ts";
import { bestOpeners, worstOpener } from "./players.ts";
import { writeWordleDataset } from "./files.ts";
import { parseHumanGamesJson, parseTweetsCsv, retrofitGames } from "./human.ts";
import { evalSubset, loadWordList, officialAllowed, WORD_LISTS } from "./words.ts";

export const WORDLE_DATA_HELP = `deno task data wordle <kind> [options]

Kinds:
  mixed        games of a per-move mixture: random vocabulary word (1 − --smart) / random consistent word (--smart)
  habit        systematic mistakes: per game, a player who opens with the vocabulary's least informative word and
               reads only green letters (share --habit), else a random consistent-word player
  lava         the paper's section-5 dataset: per iteration 1 expert game (opening with one of the vocabulary's 28
               most informative words), 5 repeat-the-first-words continuations from its state after two guesses
               (when it needs at least three), and 5 mixture games; the header counts the branches
  tweets       retrofit the reference's tweets CSV (--input FILE) into episodes
  human-json   retrofit the reference's human-game JSON (--input FILE) into episodes
  eval-vocab   write the evaluation vocabulary: a seeded --size-word subset of the answers (one word per line)

Options:
  --out FILE       output path (default data/wordle/<kind>-seed<seed>.jsonl; eval-vocab: ${WORD_LISTS.eval200})
  --seed N         seed (default 0)
  --games N        mixed, habit: number of games (default 10000)
  --iterations N   lava: number of expert games (default 2000)
  --smart P        mixed: share of consistent-word moves (default 0.5)
  --habit P        habit: share of the habit player's games (default 0.6)
  --answers FILE   hidden words and the players' vocabulary (default: the 200-word evaluation vocabulary; lava:
                   the official 2,315 answers, as the reference)
  --allowed FILE   allowed guesses (default: the game's 12,972 words; the answers are always allowed too)
  --rule R         official (default) or reference colouring of duplicate letters
  --input FILE     tweets / human-json: the file to read
  --size N         eval-vocab: number of words (default 200)`;

function int(raw: string, flag: string, min = 0): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

/** Runs `deno task data wordle …`; returns a one-line summary. */
export async function wordleData(args: string[]): Promise<string> {
  const { values, positionals } = parseFlags(args, {
    out: { type: "string" },
    seed: { type: "string", default: "0" },
    games: { type: "string", default: "10000" },
    iterations: { type: "string", default: "2000" },
    smart: { type: "string", default: "0.5" },
    habit: { type: "string", default: "0.6" },
    answers: { type: "string" },
    allowed: { type: "string" },
    rule: { type: "string", default: "official" },
    input: { type: "string" },
    size: { type: "string", default: "200" },
  });
  const kind = positionals[0];
  if (kind === undefined) throw new UsageError("which dataset? (mixed, habit, lava, tweets, human-json, eval-vocab)");
  const seed = int(values.seed, "--seed");
  if (values.rule !== "official" && values.rule !== "reference") {
    throw new UsageError(`--rule must be official or reference, got '${values.rule}'`);
  }
  const rule = values.rule as ColourRule;
  if (kind === "eval-vocab") {
    const words = evalSubset(loadWordList(values.answers ?? WORD_LISTS.answers), int(values.size, "--size", 1), seed);
    const out = values.out ?? WORD_LISTS.eval200;
    await writeFileAtomic(out, words.join("\n") + "\n");
    return `wrote ${words.length} words to ${out}`;
  }
  // the lava data is the reference's, made on its 2,315 answers (the wordle-lava task's data)
  const answersPath = values.answers ?? (kind === "lava" ? WORD_LISTS.answers : WORD_LISTS.eval200);
  const allowedPath = values.allowed ?? "official (answers.txt + guesses.txt)";
  const answers = loadWordList(answersPath);
  const allowed = values.allowed === undefined ? officialAllowed() : loadWordList(values.allowed);
  const source: DatasetSource = { answers, allowed: [...new Set([...allowed, ...answers])], rule };
  const prng = new Prng(seed);
  let episodes: WordleEpisode[];
  const header: Record<string, unknown> = {
    task: "wordle",
    kind,
    seed,
    rule,
    answers: answersPath,
    allowed: allowedPath,
  };
  if (kind === "mixed") {
    const smart = Number(values.smart);
    if (!(smart >= 0 && smart <= 1)) throw new UsageError(`--smart must be in [0, 1], got '${values.smart}'`);
    header.games = int(values.games, "--games", 1);
    header.smart = smart;
    episodes = mixedDataset(source, header.games as number, prng, smart);
  } else if (kind === "habit") {
    const habit = Number(values.habit);
    if (!(habit >= 0 && habit <= 1)) throw new UsageError(`--habit must be in [0, 1], got '${values.habit}'`);
    header.games = int(values.games, "--games", 1);
    header.habit = habit;
    header.opener = worstOpener(answers, rule);
    episodes = habitDataset(source, header.games as number, prng, habit, header.opener as string);
  } else if (kind === "lava") {
    header.iterations = int(values.iterations, "--iterations", 1);
    header.openers = bestOpeners(answers, rule, LAVA_OPENERS);
    episodes = lavaDataset(source, header.iterations as number, prng, header.openers as string[]);
    header.branches = episodes.filter((e) => e.meta.kind === "expert" && e.meta.branch !== undefined).length;
  } else if (kind === "tweets" || kind === "human-json") {
    if (values.input === undefined) throw new UsageError(`${kind} needs --input FILE`);
    const text = Deno.readTextFileSync(values.input);
    const games = kind === "tweets"
      ? parseTweetsCsv(text, values.input).games
      : parseHumanGamesJson(text, values.input);
    const result = retrofitGames(games, { answers, guesses: source.allowed, rule, prng });
    header.input = values.input;
    header.dropped = result.dropped;
    episodes = result.episodes;
  } else {
    throw new UsageError(`unknown Wordle dataset '${kind}' (mixed, habit, lava, tweets, human-json, eval-vocab)`);
  }
  header.episodes = episodes.length;
  header.mean_return = +datasetReturn(episodes).toFixed(4);
  header.command = `deno task data wordle ${args.join(" ")}`;
  const out = values.out ?? `data/wordle/${kind}-seed${seed}.jsonl`;
  await writeWordleDataset(out, header, episodes);
  return `wrote ${episodes.length} episodes (mean return ${header.mean_return}) to ${out}`;
}
