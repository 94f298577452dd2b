/**
 * Offline datasets of the hidden-country game (games of scripted questioners labelled with a reward variant), the
 * game's tokenizer and `deno task data dialogue`.
 * @module
 */
import { parseFlags, UsageError } from "../../ilql/cli.ts";
import { datasetReturn } from "../../ilql/data.ts";
import { type AgentUtterance, agentUtterances, type Episode } from "../../ilql/episode.ts";
import { Prng } from "../../ilql/prng.ts";
import { writeFileAtomic } from "../../ilql/safetensors.ts";
import { rollout } from "../task.ts";
import { RemappedBpeTokenizer } from "../toxicity/tokenizer.ts";
import { CORRECT_ANSWER, parseQuestion, REFUSAL, UNKNOWN_ANSWER } from "./answerer.ts";
import { countries } from "./countries.ts";
import { DialogueEnv, hintsOf, MAX_QUESTIONS } from "./game.ts";
import {
  GreedyQuestioner,
  HumanQuestioner,
  MixtureQuestioner,
  questionBank,
  type Questioner,
  questionerPolicy,
  RandomQuestioner,
} from "./questioners.ts";
import { DEFAULT_HEDGES, DIALOGUE_REWARDS, type DialogueReward, dialogueReward } from "./reward.ts";

/** A game with who played it. */
export interface DialogueEpisode extends Episode {
  meta: { country: string; questioner: string };
}

/**
 * The default dataset mix, per game: human-like 45 %, greedy 25 %, per-question greedy/random 30 %. Random
 * questioning is mixed in per question rather than played alone: alone it rarely finds the country, and its
 * 20-question games would set the padded length of most training batches.
 */
export function defaultMix(): Array<readonly [Questioner, number]> {
  const greedy = new GreedyQuestioner();
  return [
    [new HumanQuestioner(), 0.45],
    [greedy, 0.25],
    [new MixtureQuestioner([[greedy, 0.5], [new RandomQuestioner(), 0.5]]), 0.3],
  ];
}

/** Options of {@link dialogueDataset}. */
export interface DialogueDatasetOptions {
  reward: DialogueReward;
  hedges?: readonly string[];
  /** Questioners and their weights, one drawn per game (default {@link defaultMix}). */
  mix?: ReadonlyArray<readonly [Questioner, number]>;
}

/**
 * `size` games of the mix. The games (countries, hints, questions) depend only on the seed, so the three reward
 * variants label the same dialogues.
 */
export function dialogueDataset(size: number, prng: Prng, options: DialogueDatasetOptions): DialogueEpisode[] {
  const mix = options.mix ?? defaultMix();
  return Array.from({ length: size }, () => {
    const questioner = prng.weighted(mix);
    const env = new DialogueEnv({
      reward: options.reward,
      hedges: options.hedges ?? DEFAULT_HEDGES,
      prng: prng.fork(),
    });
    const [game] = rollout([env], questionerPolicy(questioner, prng.fork()), MAX_QUESTIONS);
    return {
      segments: game!.segments,
      terminal: game!.done,
      meta: { country: env.country.name, questioner: questioner.name },
    };
  });
}

/** One question of a game, after what was said before it. */
export interface AskedQuestion extends AgentUtterance {
  /** Whether it names a country (a guess). */
  guess: boolean;
}

/**
 * The questions of `episodes`, each with the best negative log-likelihood (nats) a policy cloned from games of
 * `mix` can give it: the probability of the question under the mix's predictive policy, its questioners weighted by
 * their posterior given the game so far (a perfect clone does not see who plays, only what has been asked). A
 * cloned policy's likelihood of the same questions, against this, says how much of the data it has learned.
 */
export function imitationBound(
  episodes: readonly Episode[],
  mix: ReadonlyArray<readonly [Questioner, number]> = defaultMix(),
): Array<AskedQuestion & { nll: number }> {
  const prior = mix.map(([, w]) => w);
  let weights = prior, game = -1;
  return agentUtterances(episodes).map((asked) => {
    if (asked.episode !== game) [weights, game] = [prior, asked.episode];
    const p = mix.map(([q]) => q.distribution(asked.history).get(asked.utterance) ?? 0);
    const total = weights.reduce((a, b) => a + b, 0);
    const predictive = weights.reduce((sum, w, k) => sum + (w / total) * p[k]!, 0);
    if (!(predictive > 0)) {
      throw new Error(`question ${asked.history.length} ('${asked.utterance}') cannot come from the mix`);
    }
    weights = weights.map((w, k) => (w / total) * p[k]!);
    const guess = parseQuestion(asked.utterance)?.kind === "guess";
    return { ...asked, guess, nll: -Math.log(predictive) };
  });
}

let tokenizer: RemappedBpeTokenizer | null = null;
/**
 * The game's tokenizer: GPT-2 BPE remapped to the pieces of every bank phrasing, hint and answer the game can
 * produce (so it does not depend on a dataset's seed). Made once per process.
 */
export function dialogueTokenizer(): RemappedBpeTokenizer {
  if (tokenizer !== null) return tokenizer;
  const { items, texts } = questionBank();
  return tokenizer = RemappedBpeTokenizer.fromTexts([
    ...items.flatMap((i) => i.phrasings),
    ...texts.flat(),
    ...countries().flatMap((c) => hintsOf(c).map((h) => h.text)),
    UNKNOWN_ANSWER,
    REFUSAL,
    CORRECT_ANSWER,
  ]);
}

export const DIALOGUE_DATA_HELP =
  `deno task data dialogue [--games N] [--seed N] [--reward all|standard|yn|conservative]
  [--out-dir DIR]

Writes games of the hidden-country dialogue task played by the scripted questioners (default mix: human-like 45 %,
greedy information gain 25 %, per-question greedy/random 30 %), one JSON Lines file per reward
variant (a header line, then {"segments", "terminal", "meta": {"country", "questioner"}} per game). The same seed
gives the same dialogues under every variant; only the rewards differ.

Options:
  --games N      games per file (default 10000)
  --seed N       seed (default 0)
  --reward R     a variant or all (default all)
  --out-dir DIR  output folder (default data/dialogue); files <reward>-seed<seed>.jsonl`;

/** Runs `deno task data dialogue …`; returns a summary line per file. */
export async function dialogueData(args: string[]): Promise<string> {
  const { values } = parseFlags(args, {
    games: { type: "string", default: "10000" },
    seed: { type: "string", default: "0" },
    reward: { type: "string", default: "all" },
    "out-dir": { type: "string", default: "data/dialogue" },
  }, false);
  const games = Number(values.games), seed = Number(values.seed);
  if (!Number.isInteger(games) || games < 1) {
    throw new UsageError(`--games must be an integer >= 1, got '${values.games}'`);
  }
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  let rewards: DialogueReward[];
  try {
    rewards = values.reward === "all" ? [...DIALOGUE_REWARDS] : [dialogueReward(values.reward)];
  } catch (e) {
    throw new UsageError(`--reward: ${(e as Error).message}`);
  }
  const lines: string[] = [];
  for (const reward of rewards) {
    const episodes = dialogueDataset(games, new Prng(seed), { reward });
    const out = `${values["out-dir"]}/${reward}-seed${seed}.jsonl`;
    const header = {
      task: "dialogue",
      reward,
      seed,
      games,
      mean_return: +datasetReturn(episodes).toFixed(4),
      command: `deno task data dialogue ${args.join(" ")}`,
    };
    await writeFileAtomic(
      out,
      [JSON.stringify({ header }), ...episodes.map((e) => JSON.stringify(e))].join("\n") + "\n",
    );
    lines.push(`wrote ${games} games (mean return ${header.mean_return}) to ${out}`);
  }
  return lines.join("\n");
}
