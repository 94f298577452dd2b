/**
 * Datasets of the toxicity task: the thread set (synthetic by default, or a user's file), its tokenizer (GPT-2
 * BPE remapped to the training split's pieces) and the offline episodes of a reward. Also
 * `deno task data toxicity`, which writes the synthetic threads as JSON Lines.
 * @module
 */
import { parseFlags, UsageError } from "../../ilql/cli.ts";
import type { Episode } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import { writeFileAtomic } from "../../ilql/safetensors.ts";
import { generateThreads } from "./generate.ts";
import { lexiconReward, upvotesReward } from "./reward.ts";
import { threadEpisode } from "./task.ts";
import type { ThreadSet } from "./threads.ts";
import { RemappedBpeTokenizer } from "./tokenizer.ts";

/** Threads in the synthetic dataset (the issue asks for at least 20,000). */
export const SYNTHETIC_THREADS = 24_000;

/** The synthetic thread set of a seed: 80 % train, 10 % eval, 10 % test, in order. */
export function syntheticThreadSet(seed = 0, count = SYNTHETIC_THREADS): ThreadSet {
  const threads = generateThreads(count, new Prng(seed));
  const a = Math.floor(0.8 * count), b = Math.floor(0.9 * count);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  return { threads, splits: { train: range(0, a), eval: range(a, b), test: range(b, count) } };
}

/** The tokenizer of a thread set: GPT-2 pieces of its training split's parents and replies. */
export function threadTokenizer(set: ThreadSet): RemappedBpeTokenizer {
  return RemappedBpeTokenizer.fromTexts(
    set.splits.train.flatMap((i) => [set.threads[i]!.parent, set.threads[i]!.comment]),
  );
}

/** Rewards that can label offline data (the model-based ones score generated replies only). */
export type DataReward = "toxicity" | "noised" | "upvotes-real";

/**
 * The training split as episodes labelled by a reward (the first `size` threads when given). The noised reward
 * draws its coin flips from `seed`.
 */
export function threadEpisodes(set: ThreadSet, reward: DataReward, size?: number, seed = 0): Episode[] {
  const prng = new Prng(seed);
  const indices = size === undefined ? set.splits.train : set.splits.train.slice(0, size);
  return indices.map((i) => {
    const t = set.threads[i]!;
    return threadEpisode(
      t,
      reward === "upvotes-real" ? upvotesReward(t.score) : lexiconReward(reward, t.comment, t.parent, prng),
    );
  });
}

export const TOXICITY_DATA_HELP = `deno task data toxicity [--threads N] [--seed N] [--out FILE]

Writes the synthetic forum threads (JSON Lines: a header line with the splits, then {"parent", "comment", "score"}
per line). The text is synthetic (see tasks/toxicity/generate.ts): parents on twelve topics, replies with a stance,
a politeness register (some rude or profane, with words from the cuss lexicon) and on- or off-topic content, and an
upvote score from those qualities plus noise.

Options:
  --threads N   number of threads (default ${SYNTHETIC_THREADS})
  --seed N      seed (default 0)
  --out FILE    output path (default data/toxicity/threads-seed<seed>.jsonl)`;

/** Runs `deno task data toxicity …`; returns a one-line summary. */
export async function toxicityData(args: string[]): Promise<string> {
  const { values } = parseFlags(args, {
    threads: { type: "string", default: String(SYNTHETIC_THREADS) },
    seed: { type: "string", default: "0" },
    out: { type: "string" },
  }, false);
  const count = Number(values.threads), seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 10) {
    throw new UsageError(`--threads must be an integer >= 10, got '${values.threads}'`);
  }
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const set = syntheticThreadSet(seed, count);
  const out = values.out ?? `data/toxicity/threads-seed${seed}.jsonl`;
  const header = {
    task: "toxicity",
    synthetic: true,
    seed,
    threads: count,
    splits: set.splits,
    command: `deno task data toxicity ${args.join(" ")}`,
  };
  await writeFileAtomic(
    out,
    [JSON.stringify({ header }), ...set.threads.map((t) => JSON.stringify(t))].join("\n") + "\n",
  );
  const positive = set.threads.filter((t) => t.score > 0).length / count;
  return `wrote ${count} synthetic threads (${(100 * positive).toFixed(1)} % with a positive score) to ${out}`;
}
