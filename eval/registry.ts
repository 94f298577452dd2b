/**
 * The registered tasks and algorithms of the benchmark harness. This is the one place that joins the two: tasks
 * (under `tasks/`) know nothing about algorithms, and algorithms (presets of the ILQL update and its decoding) know
 * nothing about tasks.
 * @module
 */
import {
  type AlgorithmDefinition,
  mergeOverrides,
  type Overrides,
  runConfig,
  trainOffline,
} from "../baselines/algorithm.ts";
import { BC, FILTERED_BC } from "../baselines/bc.ts";
import { CQL } from "../baselines/cql.ts";
import { DECISION_TRANSFORMER } from "../baselines/decision_transformer.ts";
import { MC_RETURNS } from "../baselines/mc_returns.ts";
import { PPO } from "../baselines/ppo.ts";
import { SINGLE_STEP } from "../baselines/single_step.ts";
import type { Episode } from "../ilql/episode.ts";
import type { IlqlModel } from "../ilql/model.ts";
import { utteranceLogProbs } from "../ilql/values.ts";
import { syntheticThreadSet, threadEpisodes, threadTokenizer } from "../tasks/toxicity/data.ts";
import { lexiconReward } from "../tasks/toxicity/reward.ts";
import { type ReplyClassifier, trainReplyClassifier } from "../tasks/toxicity/reward_model.ts";
import { evaluateReplies, ReplyEnv } from "../tasks/toxicity/task.ts";
import { dialogueDataset, dialogueTokenizer } from "../tasks/dialogue/data.ts";
import { evaluateDialogue } from "../tasks/dialogue/eval.ts";
import { DialogueEnv, MAX_QUESTIONS } from "../tasks/dialogue/game.ts";
import { GreedyQuestioner, questionerPolicy } from "../tasks/dialogue/questioners.ts";
import { ANSWER_PENALTY, type DialogueReward } from "../tasks/dialogue/reward.ts";
import type { ThreadSet } from "../tasks/toxicity/threads.ts";
import { Prng } from "../ilql/prng.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import { RIDGE_TOKENIZER, ridgeDataset, RidgeEnv } from "../tasks/ridge/ridge.ts";
import { STITCH_TOKENIZER, stitchDataset, StitchEnv } from "../tasks/stitch/stitch.ts";
import { type LanguageEnv, type ModelScorer, rollout, type ScoredPolicy, textsOf } from "../tasks/task.ts";
import {
  type DatasetSource,
  habitDataset,
  lavaDataset,
  mixedDataset,
  type WordleEpisode,
} from "../tasks/wordle/data.ts";
import { branchPairs, openingPairs, rankingAccuracy, type UtteranceScorer } from "../tasks/wordle/qrank.ts";
import { evaluateWordle, playerPolicy } from "../tasks/wordle/eval.ts";
import { WORDLE_TOKENIZER, WordleEnv } from "../tasks/wordle/game.ts";
import { InfoPlayer } from "../tasks/wordle/players.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "../tasks/wordle/words.ts";

/** What one evaluation of a policy on a task returns. */
export interface TaskEvaluation {
  /** Return of each evaluation episode. */
  returns: number[];
  /** Task-specific metrics (e.g. `win_rate`), each a number. */
  metrics: Record<string, number>;
}

/** A benchmark task: data, tokenizer, evaluation and the anchors of its normalized score. */
export interface TaskDefinition {
  description: string;
  tokenizer: Tokenizer;
  /** Training episodes: `size` of them (the task's default when undefined), drawn with `seed`. */
  dataset(size: number | undefined, seed: number): Episode[];
  /**
   * Episodes of the training data's distribution that the training data does not hold (another seed of its
   * generator, or a file's held-out share): learning curves report the policy's likelihood of them.
   */
  heldOut?: () => Episode[];
  /** `count` fresh environments for online training (PPO), seeded; absent when the task cannot be played. */
  environments?: (count: number, seed: number) => LanguageEnv[];
  /**
   * Plays `episodes` evaluation episodes (seeded, the same for every policy). `scorer` reads the same model's
   * probabilities and values directly (a task without an environment scores held-out data with it).
   */
  evaluate(
    policy: ScoredPolicy,
    episodes: number,
    seed: number,
    scorer?: ModelScorer,
  ): TaskEvaluation | Promise<TaskEvaluation>;
  /** Worst possible return and the return of the best known (scripted) policy; the dataset average is measured. */
  anchors(): { floor: number; ceiling: number };
  /** Config every run of the task starts from (model size, context, decoding length). */
  defaults: Overrides;
  /** Games can outgrow the context: policies keep the most recent tokens of a long history (`PolicyOptions`). */
  recentWindow?: boolean;
  /**
   * Diagnostics of a trained model's values on the task's training data (e.g. Wordle's Q-ranking), for models with
   * learned Q heads: `score` gives the target Q̄ of each action token of an utterance after a history. Each entry
   * becomes a metric of the run. `pairs` caps how many cases each diagnostic scores (an evenly spaced subsample;
   * learning curves use it to stay cheap); without it, all.
   */
  diagnose?: (data: readonly Episode[], score: UtteranceScorer, pairs?: number) => Record<string, number>;
  /**
   * Names what the dataset generator makes, once it makes something other than what earlier records were trained
   * on: part of the identity of every run and start of the task, so a changed generator never reuses them.
   */
  dataVersion?: string;
  /**
   * The task whose shared starts this task's runs fine-tune from, where the two have the same episodes and tokenizer
   * and only the rewards differ (behaviour cloning never reads them): one start serves both, trained, evaluated and
   * named as that task's.
   */
  startTask?: string;
}

let wordleLists: { vocabulary: string[]; allowed: string[] } | null = null;
function wordle() {
  return wordleLists ??= { vocabulary: loadWordList(WORD_LISTS.eval200), allowed: officialAllowed() };
}
let officialAnswers: string[] | null = null;
let wordleCeiling: number | null = null;

/**
 * A Wordle task on the evaluation vocabulary whose offline data `dataset` makes. `anyString`: every five-letter a–z
 * string is a valid guess (the reference's game) instead of the official dictionary's 12,972 words.
 */
function wordleTask(
  description: string,
  dataset: (source: DatasetSource, size: number | undefined, prng: Prng) => Episode[],
  { anyString = false } = {},
): TaskDefinition {
  return {
    description,
    tokenizer: WORDLE_TOKENIZER,
    dataset: (size, seed) => {
      const { vocabulary, allowed } = wordle();
      return dataset({ answers: vocabulary, allowed, rule: "official" }, size, new Prng(seed));
    },
    environments: (count, seed) => {
      const { vocabulary, allowed } = wordle();
      const words = anyString ? "any" as const : new Set(allowed);
      const prng = new Prng(seed);
      // hidden words from the evaluation vocabulary, like the offline data's games
      return Array.from(
        { length: count },
        () => new WordleEnv({ answers: vocabulary, allowed: words, prng: prng.fork() }),
      );
    },
    evaluate: (policy, episodes, seed) => {
      const { vocabulary, allowed } = wordle();
      const accepted = anyString ? "any" as const : allowed;
      const r = evaluateWordle(textsOf(policy), { vocabulary, allowed: accepted, games: episodes, seed });
      return { returns: r.returns, metrics: { win_rate: r.winRate, invalid_rate: r.invalidRate } };
    },
    anchors: () => {
      if (wordleCeiling === null) {
        const { vocabulary, allowed } = wordle();
        const player = playerPolicy(new InfoPlayer(vocabulary), new Prng(1));
        wordleCeiling = evaluateWordle(player, { vocabulary, allowed, games: 1024, seed: 0 }).return.mean;
      }
      return { floor: -6, ceiling: wordleCeiling };
    },
    defaults: {
      model: { layout: "shared", width: 64, layers: 2, heads: 2, context: 80, dropout: 0 },
      optim: { lr: 1e-3 },
      ilql: { cqlWeight: 1e-4, polyak: 0.05, expectile: 0.9 },
      train: { batchSize: 32 },
      decode: { beta: 16, advClip: 0, maxTokens: 6 },
    },
  };
}

/** At most `count` items of `items`, evenly spaced (all of them without a count). */
export function evenlySpaced<T>(items: readonly T[], count?: number): readonly T[] {
  if (count === undefined || items.length <= count) return items;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * items.length / count)]!);
}

/** Opening pairs the habit diagnostic scores at the end of a run. */
const HABIT_PAIRS = 4096;

/** The registered tasks, by name. */
export const TASKS: Record<string, TaskDefinition> = {
  stitch: {
    description: "two-turn diagnostic: the best behaviour is 5 % of the data and must be stitched from parts",
    tokenizer: STITCH_TOKENIZER,
    dataset: (size, seed) => stitchDataset(size ?? 1000, new Prng(seed)),
    environments: (count) => Array.from({ length: count }, () => new StitchEnv()),
    evaluate: (policy, episodes) => {
      const envs = Array.from({ length: episodes }, () => new StitchEnv());
      const returns = rollout(envs, textsOf(policy)).map((r) => r.return);
      return { returns, metrics: { optimal_rate: returns.filter((r) => r === 0).length / episodes } };
    },
    anchors: () => ({ floor: -2, ceiling: 0 }),
    defaults: {
      model: { width: 32, layers: 2, heads: 2, context: 16, dropout: 0 },
      optim: { lr: 3e-3 },
      ilql: { polyak: 0.1 },
      train: { steps: 200, batchSize: 64 },
      decode: { beta: 16, maxTokens: 4 },
    },
  },
  ridge: {
    description:
      "two-turn diagnostic: the best first move is mostly wasted in the data, a wager pays by luck, and the " +
      "return comes last",
    tokenizer: RIDGE_TOKENIZER,
    dataset: (size, seed) => ridgeDataset(size ?? 1000, new Prng(seed)),
    environments: (count, seed) => {
      const prng = new Prng(seed);
      return Array.from({ length: count }, () => new RidgeEnv(prng.fork()));
    },
    evaluate: (policy, episodes, seed) => {
      const prng = new Prng(seed);
      const envs = Array.from({ length: episodes }, () => new RidgeEnv(prng.fork()));
      const rollouts = rollout(envs, textsOf(policy));
      const first = (move: string) =>
        rollouts.filter((r) => r.segments.find((s) => s.kind === "action")?.text === move).length / episodes;
      return {
        returns: rollouts.map((r) => r.return),
        metrics: { optimal_rate: rollouts.filter((r) => r.return === 1).length / episodes, wager_rate: first("bet") },
      };
    },
    // expected returns: +1 the best play, −1 the worst (a fall, a miss in the valley, or wagering)
    anchors: () => ({ floor: -1, ceiling: 1 }),
    defaults: {
      model: { width: 32, layers: 2, heads: 2, context: 24, dropout: 0 },
      optim: { lr: 3e-3 },
      // a small conservative term, as Wordle's: at 0.25 it holds Q near the data's log-frequencies, and the ridge's
      // rare good ending stays below the valley's common one
      ilql: { polyak: 0.1, expectile: 0.9, cqlWeight: 1e-4 },
      train: { steps: 1000, batchSize: 64 },
      decode: { beta: 16, maxTokens: 4 },
    },
  },
  wordle: wordleTask(
    "Wordle on the paper's 200-word vocabulary, mixed-skill data (50 % random word, 50 % consistent word)",
    (source, size, prng) => mixedDataset(source, size ?? 10_000, prng),
  ),
  "wordle-habit": {
    ...wordleTask(
      "Wordle with systematic mistakes: 60 % of games by a player who always opens with the least informative word " +
        "and reads only green letters, 40 % by a consistent-word player",
      (source, size, prng) => habitDataset(source, size ?? 50_000, prng),
    ),
    diagnose: (data, score, pairs) => {
      // the habit is decided at the opening: do the values rank the consistent players' openers above the habit's?
      // The habit data has only ~200 distinct openers, so a few thousand pairs cover them all.
      const pairsOf = openingPairs(data as WordleEpisode[], "consistent", "habit");
      const opening = rankingAccuracy(evenlySpaced(pairsOf, pairs ?? HABIT_PAIRS), score);
      return {
        qrank_opening: opening.mean,
        qrank_opening_word: opening.byPosition[0]!,
        // at the first letter greedy value-guided decoding weighs Q̄ − V against BC's 60 % share of the habit's letter
        qrank_opening_letter: opening.byPosition[5]!,
        qbar_opening_consistent: opening.expertValue,
        qbar_opening_habit: opening.otherValue,
        qbar_letter_consistent: opening.expertFirstValue,
        qbar_letter_habit: opening.otherFirstValue,
      };
    },
  },
  "wordle-lava": {
    ...wordleTask(
      "Wordle, the paper's section-5 data on the official 2,315 answers: expert games whose state after two guesses " +
        "also continues into 5 losing repeats, and mixture games; dataset size = iterations; Q-ranking diagnostics",
      // the reference's vocabulary: on the 200 evaluation words the mixture plays too well (−3.17 against −4.25) for
      // even exact expectile-0.9 values to rank the expert's opening first (../shared/notes and results/wordle.md)
      (source, size, prng) =>
        lavaDataset({ ...source, answers: officialAnswers ??= loadWordList(WORD_LISTS.answers) }, size ?? 2000, prng),
    ),
    dataVersion: "official-answers",
    diagnose: (data, score, pairs) => {
      const episodes = data as WordleEpisode[];
      const opening = rankingAccuracy(evenlySpaced(openingPairs(episodes), pairs), score);
      const branch = rankingAccuracy(evenlySpaced(branchPairs(episodes), pairs), score);
      // the mean over the guess's six action tokens (the reference's positions), and at its last token alone, whose
      // Q̄ values the whole guess (a letter's Q̄ also holds the other words that share its prefix)
      return {
        qrank_opening: opening.mean,
        qrank_branch: branch.mean,
        qrank_opening_word: opening.byPosition[0]!,
        qrank_branch_word: branch.byPosition[0]!,
        // the values behind the ranks: does the mixture's opening look better, or the expert's worse?
        qbar_opening_expert: opening.expertValue,
        qbar_opening_mixture: opening.otherValue,
        qbar_branch_expert: branch.expertValue,
        qbar_branch_lava: branch.otherValue,
      };
    },
  },
  "wordle-any": wordleTask(
    "Wordle as the reference implements it: any five-letter a–z string is a valid guess; the wordle task's mixed data",
    (source, size, prng) => mixedDataset(source, size ?? 10_000, prng),
    { anyString: true },
  ),
};

// ---- toxicity ----

let toxicityData: { set: ThreadSet; tokenizer: Tokenizer } | null = null;
/** The toxicity tasks' synthetic thread set (seed 0) and its tokenizer, made once per process. */
export function toxicity(): { set: ThreadSet; tokenizer: Tokenizer } {
  if (toxicityData === null) {
    const set = syntheticThreadSet(0);
    toxicityData = { set, tokenizer: threadTokenizer(set) };
  }
  return toxicityData;
}

const TOXICITY_DEFAULTS: Overrides = {
  model: { layout: "shared", width: 64, layers: 2, heads: 2, context: 64, dropout: 0 },
  optim: { lr: 1e-3 },
  ilql: { polyak: 0.05 },
  train: { batchSize: 32, steps: 1500 },
  decode: { method: "sample", beta: 8, maxTokens: 32 },
};

let upvoteModel: ReplyClassifier | null = null;
/** The `upvotes-model` reward's classifier, trained once per process on the training split (seed 0). */
export function upvoteClassifier(): ReplyClassifier {
  if (upvoteModel === null) {
    const { set, tokenizer } = toxicity();
    upvoteModel = trainReplyClassifier(set.splits.train.map((i) => set.threads[i]!), tokenizer).model;
  }
  return upvoteModel;
}

let referenceModel: IlqlModel | null = null;
/**
 * The behaviour-cloned model fluency (perplexity) and the KL estimate are measured against: BC with the task's
 * defaults, seed 0, trained once per process (all three toxicity tasks share the replies, so one model).
 */
async function toxicityReference(): Promise<IlqlModel> {
  if (referenceModel === null) {
    const config = runConfig(mergeOverrides(TOXICITY_DEFAULTS, BC.preset, { train: { seed: 0 } }));
    const trained = await trainOffline({
      episodes: threadEpisodes(toxicity().set, "toxicity"),
      tokenizer: toxicity().tokenizer,
      config,
    });
    referenceModel = trained.model;
  }
  return referenceModel;
}

/** A toxicity task: its reward for the offline data, and the one that scores generated replies. */
function toxicityTask(reward: "toxicity" | "noised" | "upvotes", description: string): TaskDefinition {
  // the reward of generated replies, a batch at a time (the classifier scores a batch in one pass)
  const scoreReplies = (prng: Prng): (items: ReadonlyArray<{ parent: string; reply: string }>) => number[] => (items) =>
    reward !== "upvotes"
      ? items.map((i) => lexiconReward(reward, i.reply, i.parent, prng))
      : upvoteClassifier().predict(items.map((i) => ({ parent: i.parent, comment: i.reply }))).map((p) =>
        p >= 0.5 ? 10 : 0
      );
  return {
    description,
    get tokenizer() {
      return toxicity().tokenizer;
    },
    dataset: (size, seed) => threadEpisodes(toxicity().set, reward === "upvotes" ? "upvotes-real" : reward, size, seed),
    // the threads whose toxicity depends on the context (story parents, dual-use words, sarcasm)
    dataVersion: "in-context",
    environments: (count, seed) => {
      const { set } = toxicity();
      const parents = set.splits.train.map((i) => set.threads[i]!.parent);
      const prng = new Prng(seed);
      return Array.from({ length: count }, () => {
        const score = scoreReplies(prng.fork());
        return new ReplyEnv(parents, (parent, reply) => score([{ parent, reply }])[0]!, prng.fork());
      });
    },
    evaluate: async (policy, episodes, seed) => {
      const prng = new Prng(seed);
      const reward = scoreReplies(prng.fork());
      const reference = await toxicityReference();
      const result = await evaluateReplies(policy, {
        threads: toxicity().set,
        parents: episodes,
        reward,
        reference: (items) => utteranceLogProbs(reference, toxicity().tokenizer, items),
      }, prng);
      return { returns: result.returns, metrics: result.metrics };
    },
    anchors: () => (reward === "upvotes" ? { floor: 0, ceiling: 10 } : { floor: -10, ceiling: 0 }),
    defaults: TOXICITY_DEFAULTS,
  };
}

TASKS.toxicity = toxicityTask(
  "toxicity",
  "reply to a forum comment without toxicity (synthetic threads; lexicon scorer: 0, −5 moderately, −10 very toxic)",
);
TASKS["toxicity-noised"] = toxicityTask(
  "noised",
  "as toxicity, but a moderately toxic reply scores 0 or −10 at random (the paper's high-variance reward)",
);
TASKS["toxicity-upvotes"] = toxicityTask(
  "upvotes",
  "reply so as to be upvoted: trained on the dataset's real scores (10 if positive), evaluated by a reply classifier",
);

// ---- dialogue ----

/** Games in a dialogue task's offline dataset. */
export const DIALOGUE_GAMES = 4000;
/** A dialogue task's held-out games: a seed the training data (seed 0) does not use. */
export const DIALOGUE_HELD_OUT = { games: 300, seed: 1000 };
const DIALOGUE_DEFAULTS: Overrides = {
  model: { layout: "shared", width: 64, layers: 2, heads: 2, context: 240, dropout: 0 },
  optim: { lr: 2e-3 },
  ilql: { polyak: 0.05 },
  train: { batchSize: 16, steps: 400 },
  // sampled: greedy decoding of the BC start repeats its questions and guesses (validation −13.8 greedy against −7.3
  // sampled at 20,000 steps, seed 0), where the paper's VisDial evaluation was greedy
  decode: { method: "sample", beta: 8, maxTokens: 16 },
  ppo: { iterations: 6, episodes: 32 },
};

const dialogueCeilings = new Map<DialogueReward, number>();
/** The hidden-country game under a reward variant. */
function dialogueTask(reward: DialogueReward, description: string): TaskDefinition {
  return {
    description,
    get tokenizer() {
      return dialogueTokenizer();
    },
    dataset: (size, seed) => dialogueDataset(size ?? DIALOGUE_GAMES, new Prng(seed), { reward }),
    heldOut: () => dialogueDataset(DIALOGUE_HELD_OUT.games, new Prng(DIALOGUE_HELD_OUT.seed), { reward }),
    environments: (count, seed) => {
      const prng = new Prng(seed);
      return Array.from({ length: count }, () => new DialogueEnv({ reward, prng: prng.fork() }));
    },
    evaluate: (policy, episodes, seed) => {
      const r = evaluateDialogue(textsOf(policy), { reward, games: episodes, seed });
      return { returns: r.returns, metrics: r.metrics };
    },
    anchors: () => {
      if (!dialogueCeilings.has(reward)) {
        const greedy = questionerPolicy(new GreedyQuestioner(), new Prng(1));
        dialogueCeilings.set(reward, evaluateDialogue(greedy, { reward, games: 1024, seed: 0 }).return.mean);
      }
      // every question unsolved and penalised
      const floor = -MAX_QUESTIONS * (1 + (reward === "standard" ? 0 : -ANSWER_PENALTY));
      return { floor, ceiling: dialogueCeilings.get(reward)! };
    },
    defaults: DIALOGUE_DEFAULTS,
    recentWindow: true,
    // the variants label the same dialogues (`dialogueDataset`): one BC start per seed serves the three
    ...(reward === "standard" ? {} : { startTask: "dialogue" }),
  };
}

TASKS.dialogue = dialogueTask(
  "standard",
  "find the hidden country by asking questions (rule-based answerer; −1 a question, 0 the right guess, ≤ 20)",
);
TASKS["dialogue-yn"] = dialogueTask("yn", "as dialogue, plus −2 for each answer that is a bare yes or no");
TASKS["dialogue-conservative"] = dialogueTask(
  "conservative",
  "as dialogue, plus −2 for each answer containing a hedge of the reference's list (yes, no, not, don't, …)",
);

/** The registered algorithms, by name (definitions in `baselines/`; ILQL is the core itself). */
export const ALGORITHMS: Record<string, AlgorithmDefinition> = {
  bc: BC,
  "filtered-bc": FILTERED_BC,
  ilql: { description: "implicit language Q-learning with value-guided decoding", preset: {} },
  "single-step": SINGLE_STEP,
  "mc-returns": MC_RETURNS,
  dt: DECISION_TRANSFORMER,
  cql: CQL,
  ppo: PPO,
};
