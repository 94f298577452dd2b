/**
 * What an algorithm is to the harness: a preset of the one ILQL update and its decoding (BC, filtered BC,
 * single-step, MC returns, Decision Transformer, token-level CQL, ILQL itself), or, for online algorithms, its own
 * trainer that plays a task's environments (PPO). Every algorithm shares one run config, the model, the trainer
 * loop and the decoding of `ilql/`.
 * @module
 */
import { int, num, resolveSections, type SectionsOf } from "../ilql/config.ts";
import { episodeReturn, filterEpisodes } from "../ilql/data.ts";
import type { DecodeConfig } from "../ilql/decode.ts";
import type { Checkpoint } from "../ilql/checkpoint.ts";
import type { Episode } from "../ilql/episode.ts";
import { type IlqlModel, tokenContextOf, weightCounts } from "../ilql/model.ts";
import { backendInfo } from "../ilql/backend.ts";
import { checkShape } from "../ilql/transformer.ts";
import { checkGpt2Init } from "../ilql/gpt2.ts";
import { ILQL_RUN_SECTIONS, trainIlql } from "../ilql/run.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import type { LanguageEnv } from "../tasks/task.ts";
import { PPO_SPEC } from "./ppo.ts";

/**
 * The shared start: a behaviour-cloning model trained once per (task, data, seed, model shape, start budget) that
 * every algorithm of that seed fine-tunes from (eval/starts.ts stores and shares it).
 */
export const START_SPEC = {
  steps: int(
    "Steps of the shared behaviour-cloning start that every algorithm fine-tunes from (0 = none: train from scratch)",
    0,
    { min: 0 },
  ),
  lr: num("Learning rate of the shared start's behaviour cloning", 1e-3, { above: 0 }),
  decaySteps: int(
    "Of the start's steps, the last n decay its rate along a cosine to 0 (0 = constant throughout): the start ends " +
      "annealed, not wherever its noise is at its last step",
    0,
    { min: 0 },
  ),
  transitionWeight: num(
    "The shared start's `ilql.transitionWeight`: weight of its loss on the environment's tokens (0 = agent tokens only)",
    0,
    { min: 0 },
  ),
};

/** The config sections of every run: the ILQL run's, the online PPO section and the shared start. */
export const RUN_SECTIONS = { ...ILQL_RUN_SECTIONS, ppo: PPO_SPEC, start: START_SPEC };

/** A resolved run config. */
export type RunConfig = SectionsOf<typeof RUN_SECTIONS>;

/** Config overrides per section, e.g. `{ model: { width: 64 } }`. */
export type Overrides = Record<string, Record<string, unknown>>;

/** Layers of overrides merged section by section, later layers winning key by key. */
export function mergeOverrides(...layers: Overrides[]): Overrides {
  const out: Overrides = {};
  for (const layer of layers) {
    for (const [section, kv] of Object.entries(layer)) out[section] = { ...out[section], ...kv };
  }
  return out;
}

/** Resolves a run config from per-section overrides (unknown keys and wrong types throw). */
export function runConfig(overrides: Overrides = {}): RunConfig {
  return resolveSections(RUN_SECTIONS, overrides);
}

/** What a trainer needs. Tasks stay behind the `LanguageEnv` boundary: an algorithm never sees a task's rules. */
export interface TrainRequest {
  episodes: readonly Episode[];
  tokenizer: Tokenizer;
  config: RunConfig;
  /** `count` fresh environments of the task, seeded (online algorithms only); absent when the task has none. */
  environments?: (count: number, seed: number) => LanguageEnv[];
  /** Where the final checkpoint goes. */
  checkpointPath?: string;
  /** Offline training: checkpoint every n steps (`TrainIlqlOptions.checkpointEvery`). */
  checkpointEvery?: number;
  /** Offline training: more metadata for every checkpoint (`TrainIlqlOptions.checkpointExtra`). */
  checkpointExtra?: () => Record<string, unknown>;
  /** Offline training: go on from a checkpoint this same training wrote (`TrainIlqlOptions.resume`). */
  resume?: Checkpoint;
  /** A trained model to start from (the shared start): its policy trunk and LM head, with fresh value heads. */
  init?: IlqlModel;
  onLog?: (record: LogRecord) => void;
  /** Names the data source in error messages. */
  source?: string;
  /** Online play decodes long dialogues with a recent-token window (the task's `recentWindow`). */
  recentWindow?: boolean;
  /**
   * Evaluates the model on validation episodes at the given step (the learning curve): offline training calls it
   * every `train.evalEvery` steps, online training after its last iteration.
   */
  evaluate?: (model: IlqlModel, step: number) => Promise<void>;
}

/** A trained policy, the decoding to evaluate it with, and its training history. */
export interface Trained {
  model: IlqlModel;
  decode: DecodeConfig;
  history: LogRecord[];
  /** Frees the model, its optimizer and anything else the trainer kept. */
  dispose(): void;
}

/** Trains an algorithm from a request. */
export type Trainer = (request: TrainRequest) => Promise<Trained>;

/** A registered algorithm. */
export interface AlgorithmDefinition {
  description: string;
  /** Overrides that define the algorithm; they win over task, suite and command-line settings. */
  preset: Overrides;
  /** The algorithm's own defaults for settings a user may change (`--set`, `--sweep`). */
  defaults?: Overrides;
  /** Its own trainer (online algorithms); offline presets use {@link trainOffline}. */
  train?: Trainer;
  /**
   * Rejects a config that would make a run of this algorithm meaningless, before any compute is spent (default
   * for offline presets: {@link checkOfflineConfig}).
   * @throws one line naming the key
   */
  checkConfig?: (config: RunConfig) => void;
}

/** An offline preset's runs train for at least one step (at 0 an untrained model would be evaluated and recorded). */
export function checkOfflineConfig(config: RunConfig): void {
  if (config.train.steps < 1) {
    throw new Error(`train.steps is ${config.train.steps}: the run would evaluate an untrained model`);
  }
}

/**
 * Checks a run config against what the algorithm and the data allow: the algorithm's own check, then a model shape
 * that can be built, and a batch no larger than the training episodes (`trainingEpisodes`, after the data filter).
 * @throws one line naming the key and the values
 */
export function checkRunConfig(
  algorithm: AlgorithmDefinition,
  config: RunConfig,
  vocabSize: number,
  trainingEpisodes: number,
): void {
  (algorithm.checkConfig ?? checkOfflineConfig)(config);
  const { width, heads, layers } = config.model;
  checkShape({ vocabSize, width, heads, layers, context: tokenContextOf(config.model) }, "model.");
  if (config.model.init !== "") checkGpt2Init(config.model.init, config.model);
  checkWasmHeap(config, vocabSize);
  if (config.train.batchSize > trainingEpisodes) {
    throw new Error(
      `train.batchSize ${config.train.batchSize} is larger than the ${trainingEpisodes} training episodes: every ` +
        "batch would repeat episodes",
    );
  }
}

/**
 * Bytes of training state past which the wasm backend's 4 GiB heap runs out once activations are added: GPT-2 small
 * on the dialogue task's 825 tokens (`deno task bench:speed --worker step --preset gpt2-small`) trains in the shared
 * layout (1.4 GiB of state, 2.6 GB resident) and aborts in the separate one (2.9 GiB of state).
 */
export const WASM_STATE_LIMIT = 2.5 * 2 ** 30;

/**
 * Refuses, before any compute, a model whose weights, gradients and Adam moments (4 + 12 bytes per trainable weight,
 * an upper bound for algorithms that train a part) cannot fit the wasm heap; other backends have no such limit.
 */
function checkWasmHeap(config: RunConfig, vocabSize: number): void {
  if ((backendInfo()?.backend ?? "wasm") !== "wasm") return;
  const { total, trainable } = weightCounts(config.model, vocabSize);
  const bytes = 4 * total + 12 * trainable;
  if (bytes <= WASM_STATE_LIMIT) return;
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  const shared = config.model.layout === "separate" ? "model.layout=shared (one trunk), " : "";
  throw new Error(
    `model of ${(total / 1e6).toFixed(0)} M weights (${(trainable / 1e6).toFixed(0)} M trained): about ` +
      `${gib(bytes)} GiB of weights, gradients and Adam moments, more than the ${gib(WASM_STATE_LIMIT)} GiB the wasm ` +
      `backend's 4 GiB heap leaves beside activations; use ${shared}fewer layers or a smaller width`,
  );
}

/**
 * The decoding a trained model is evaluated with: a return-conditioned model without a chosen target return is
 * conditioned on the best return of the episodes it trained on.
 */
export function evaluationDecode(config: RunConfig, episodes: readonly Episode[]): DecodeConfig {
  if (!config.model.returnConditioned || config.decode.targetReturn !== null) return config.decode;
  const best = Math.max(...filterEpisodes(episodes, config.data).map(episodeReturn));
  return { ...config.decode, targetReturn: best };
}

/** The offline trainer of every preset: the ILQL update on the task's episodes. */
export const trainOffline: Trainer = async (request) => {
  const { state, history } = await trainIlql(request.episodes, request.tokenizer, request.config, {
    ...(request.checkpointPath !== undefined ? { checkpointPath: request.checkpointPath } : {}),
    ...(request.onLog !== undefined ? { onLog: request.onLog } : {}),
    ...(request.source !== undefined ? { source: request.source } : {}),
    ...(request.evaluate !== undefined ? { evaluate: request.evaluate } : {}),
    ...(request.init !== undefined ? { init: request.init } : {}),
    ...(request.checkpointEvery !== undefined ? { checkpointEvery: request.checkpointEvery } : {}),
    ...(request.checkpointExtra !== undefined ? { checkpointExtra: request.checkpointExtra } : {}),
    ...(request.resume !== undefined ? { resume: request.resume } : {}),
  });
  return {
    model: state.model,
    decode: evaluationDecode(request.config, request.episodes),
    history,
    dispose() {
      state.optimizer.dispose();
      state.model.dispose();
    },
  };
};

/** Trains any registered algorithm: its own trainer, or the offline one. */
export function trainAlgorithm(algorithm: AlgorithmDefinition, request: TrainRequest): Promise<Trained> {
  return (algorithm.train ?? trainOffline)(request);
}
