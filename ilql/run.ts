/**
 * One ILQL training run from episodes: encodes the data, builds the model and optimizer from a seed, and runs the
 * trainer with checkpoints. Everything random derives from `config.train.seed`.
 * @module
 */
import { resolveSections, type SectionsOf } from "./config.ts";
import { type Checkpoint, restoreOptimizer, saveCheckpoint } from "./checkpoint.ts";
import { DATA_SPEC, EpisodeSampler, filterEpisodes, StackedSampler } from "./data.ts";
import { DECODE_SPEC } from "./decode.ts";
import { type EncodedEpisode, encodeEpisode, type Episode } from "./episode.ts";
import { ILQL_SPEC, type IlqlState, ilqlUpdate, initIlqlState, makeOptimizer, seedInfo } from "./ilql.ts";
import { IlqlModel, MODEL_SPEC, type ModelConfig, tokenContextOf } from "./model.ts";
import { initFromGpt2 } from "./gpt2.ts";
import { OPTIM_SPEC } from "./optim.ts";
import { Prng, type PrngState } from "./prng.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { type LogRecord, TRAIN_SPEC, trainLoop } from "./trainer.ts";

/** The config sections of an ILQL run. */
export const ILQL_RUN_SECTIONS = {
  data: DATA_SPEC,
  model: MODEL_SPEC,
  ilql: ILQL_SPEC,
  optim: OPTIM_SPEC,
  train: TRAIN_SPEC,
  decode: DECODE_SPEC,
};

/** A resolved ILQL run config. */
export type IlqlRunConfig = SectionsOf<typeof ILQL_RUN_SECTIONS>;

/** Resolves a run config from per-section overrides (unknown keys and wrong types throw). */
export function ilqlRunConfig(overrides: Record<string, Record<string, unknown>> = {}): IlqlRunConfig {
  return resolveSections(ILQL_RUN_SECTIONS, overrides);
}

/** Options of {@link trainIlql}. */
export interface TrainIlqlOptions {
  /** Where to write checkpoints (every `train.checkpointEvery` steps, at the end, and on a non-finite stop). */
  checkpointPath?: string;
  onLog?: (record: LogRecord) => void;
  /** Names the data source in error messages, e.g. a file name. */
  source?: string;
  /** Evaluates the model during training (`train.evalEvery`): the learning curve. */
  evaluate?: (model: IlqlModel, step: number) => Promise<void>;
  /** A trained model to start from ({@link copyPolicyWeights}); the value heads stay freshly initialised. */
  init?: IlqlModel;
  /** Checkpoint every n steps instead of `train.checkpointEvery`, leaving the config the checkpoints record as it is. */
  checkpointEvery?: number;
  /** More metadata for every checkpoint (`extra`), read when it is written. */
  checkpointExtra?: () => Record<string, unknown>;
  /**
   * A checkpoint this same training wrote (`checkpointPath`): training goes on from its step with its weights,
   * optimizer moments, dropout stream and the batches that come next, so it ends on the weights an uninterrupted
   * training would. The training takes ownership of its model.
   */
  resume?: Checkpoint;
}

/**
 * Starts `model` from a trained one (a shared behaviour-cloning start): every trunk of `model` (value, target and
 * policy, or the shared one) gets the start's policy trunk, and the LM head the start's; the V and Q heads (and
 * their target copies) and a return embedding keep their fresh initialisation, as the reference starts its value
 * functions from a BC model.
 * @throws when the two models' shapes differ
 */
export function copyPolicyWeights(model: IlqlModel, start: IlqlModel): void {
  const from = start.trunk("policy")!;
  for (const key of ["vocabSize", "width", "layers", "heads", "context"] as const) {
    if (model.shape[key] !== start.shape[key]) {
      throw new Error(`the start's ${key} is ${start.shape[key]}, the run's ${model.shape[key]}`);
    }
  }
  for (const trunk of Object.values(model.trunks)) for (const [k, v] of Object.entries(trunk)) v.assign(from[k]!);
  if ((model.lmHead === null) !== (start.lmHead === null)) throw new Error("the start's LM head is tied differently");
  if (model.lmHead !== null) model.lmHead.assign(start.lmHead!);
}

/**
 * The training episodes of a run, filtered (`data`) and encoded for its model's context.
 * @throws naming `source` and the episode on a malformed episode or one longer than the context, or when the filter
 * leaves none
 */
export function encodeTrainingEpisodes(
  episodes: readonly Episode[],
  tokenizer: Tokenizer,
  config: Pick<IlqlRunConfig, "data" | "model">,
  source = "episode",
): EncodedEpisode[] {
  return filterEpisodes(episodes, config.data).map((e, i) =>
    encodeEpisode(e, tokenizer, { context: tokenContextOf(config.model), where: `${source} ${i}` })
  );
}

/**
 * A run's model before training: drawn from `prng`, then given the shared start's policy (`init`) or, without one,
 * the GPT-2 weights `model.init` names. Freed again if that fails.
 */
function initialModel(config: ModelConfig, tokenizer: Tokenizer, prng: Prng, init?: IlqlModel): IlqlModel {
  const model = new IlqlModel(config, tokenizer.vocabSize, prng);
  try {
    if (init !== undefined) copyPolicyWeights(model, init);
    else if (config.init !== "") initFromGpt2(model, config.init, tokenizer);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Trains ILQL (or any of its presets, e.g. BC with only the policy loss) on offline episodes.
 * @throws on a malformed episode, naming `source` and the episode index
 */
export async function trainIlql(
  episodes: readonly Episode[],
  tokenizer: Tokenizer,
  config: IlqlRunConfig,
  options: TrainIlqlOptions = {},
): Promise<{ state: IlqlState; history: LogRecord[] }> {
  const encoded = encodeTrainingEpisodes(episodes, tokenizer, config, options.source);
  const root = new Prng(config.train.seed);
  const { resume } = options;
  // a resumed training draws the same forks, so its batches and dropout streams are the uninterrupted training's
  const initPrng = root.fork();
  const model = resume?.model ?? initialModel(config.model, tokenizer, initPrng, options.init);
  const sampler = new EpisodeSampler(encoded, tokenizer.special.pad, root.fork(), config.train.lengthPool);
  const state = initIlqlState(
    model,
    config.ilql,
    makeOptimizer(model, config.ilql, config.optim, config.train.steps),
    root.fork(),
  );
  if (resume !== undefined) {
    restoreOptimizer(state.optimizer, resume);
    state.step = resume.step;
    for (let i = 0; i < resume.step * config.optim.gradAccum; i++) sampler.draw(config.train.batchSize);
    const prng = (resume.extra as { prng?: PrngState } | undefined)?.prng;
    if (prng === undefined) throw new Error("the checkpoint to resume from lacks its dropout stream (extra.prng)");
    state.prng.restore(prng);
  }
  const path = options.checkpointPath;
  const save = path === undefined ? undefined : async (s: IlqlState, step: number) => {
    const extra = { ...options.checkpointExtra?.(), prng: s.prng.snapshot() };
    await saveCheckpoint(path, s.model, { step, config, tokenizer: tokenizer.toJSON(), extra }, s.optimizer);
    return path;
  };
  const checkpointEvery = options.checkpointEvery ?? config.train.checkpointEvery;
  return await trainLoop(state, ilqlUpdate, sampler, {
    config: { ...config.train, checkpointEvery },
    gradAccum: config.optim.gradAccum,
    ...(resume !== undefined ? { startStep: resume.step } : {}),
    ...(save ? { saveCheckpoint: save } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
    ...(options.evaluate ? { onEval: (s: IlqlState, step: number) => options.evaluate!(s.model, step) } : {}),
  });
}

/** Options of {@link trainSeeds}: {@link TrainIlqlOptions} per seed. */
export interface TrainSeedsOptions {
  /** Where each seed's final weights go (without optimizer moments: a stacked optimizer does not split). */
  checkpointPaths?: readonly string[];
  onLog?: (seed: number, record: LogRecord) => void;
  /** Evaluates seed `seed`'s model during training (`train.evalEvery`). */
  evaluate?: (seed: number, model: IlqlModel, step: number) => Promise<void>;
  /** Each seed's start ({@link copyPolicyWeights}). */
  inits?: readonly IlqlModel[];
  source?: string;
}

/**
 * Why several runs cannot train as stacked seeds, or null when they can: configs equal but for `train.seed`, and no
 * dropout (one stream of masks would serve every seed, where alone each draws its own).
 */
export function stackedSeedsProblem(configs: readonly IlqlRunConfig[]): string | null {
  const { train: { seed: _, ...train }, ...rest } = configs[0]!;
  const key = JSON.stringify({ train, rest });
  if (configs.some(({ train: { seed: _, ...t }, ...r }) => JSON.stringify({ train: t, rest: r }) !== key)) {
    return "their configs differ in more than train.seed";
  }
  if (configs[0]!.model.dropout > 0) return `model.dropout is ${configs[0]!.model.dropout}, not 0`;
  return null;
}

/**
 * Trains S runs that differ only in `train.seed` as one computation: S models, each made exactly as
 * {@link trainIlql} makes it from its seed (initial weights, start, batches), stacked on a leading seed axis, so each
 * step is one batched pass with one kernel launch per operation for all seeds. Every seed gets its own loss's
 * gradient, its own gradient norm and clipping, and its own Adam moments (elementwise), so each equals, to float
 * rounding, the seed trained alone. Returns each seed's model (unstacked) and history.
 * @throws when the runs cannot be stacked ({@link stackedSeedsProblem}), or on a malformed episode
 */
export async function trainSeeds(
  episodes: readonly Episode[],
  tokenizer: Tokenizer,
  configs: readonly IlqlRunConfig[],
  options: TrainSeedsOptions = {},
): Promise<Array<{ model: IlqlModel; history: LogRecord[] }>> {
  const problem = stackedSeedsProblem(configs);
  if (problem !== null) throw new Error(`runs cannot train as stacked seeds: ${problem}`);
  const config = configs[0]!;
  const seeds = configs.length;
  const encoded = encodeTrainingEpisodes(episodes, tokenizer, config, options.source);
  const samplers: EpisodeSampler[] = [];
  const models: IlqlModel[] = [];
  let prng: Prng | null = null;
  try {
    configs.forEach((c, s) => {
      const root = new Prng(c.train.seed);
      models.push(initialModel(c.model, tokenizer, root.fork(), options.inits?.[s]));
      samplers.push(new EpisodeSampler(encoded, tokenizer.special.pad, root.fork(), c.train.lengthPool));
      prng ??= root.fork(); // the dropout stream, unused without dropout
    });
  } catch (e) {
    for (const m of models) m.dispose();
    throw e;
  }
  const stacked = IlqlModel.stack(models);
  for (const m of models) m.dispose();
  const state = initIlqlState(
    stacked,
    config.ilql,
    makeOptimizer(stacked, config.ilql, config.optim, config.train.steps),
    prng!,
  );
  const ofSeed = (record: LogRecord, s: number): LogRecord => ({
    step: record.step,
    info: seedInfo(record.info, s, seeds),
  });
  const eachSeed = async (model: IlqlModel, f: (s: number, one: IlqlModel) => Promise<void>) => {
    for (let s = 0; s < seeds; s++) {
      const one = model.unstack(s);
      try {
        await f(s, one);
      } finally {
        one.dispose();
      }
    }
  };
  const paths = options.checkpointPaths;
  const save = paths === undefined ? undefined : async (st: IlqlState, step: number) => {
    await eachSeed(
      st.model,
      (s, one) => saveCheckpoint(paths[s]!, one, { step, config: configs[s]!, tokenizer: tokenizer.toJSON() }),
    );
    return paths.join(", ");
  };
  try {
    const { history } = await trainLoop(state, ilqlUpdate, new StackedSampler(samplers), {
      config: config.train,
      gradAccum: config.optim.gradAccum,
      ...(save ? { saveCheckpoint: save } : {}),
      ...(options.onLog ? { onLog: (r: LogRecord) => configs.forEach((_, s) => options.onLog!(s, ofSeed(r, s))) } : {}),
      ...(options.evaluate
        ? { onEval: (st: IlqlState, step: number) => eachSeed(st.model, (s, one) => options.evaluate!(s, one, step)) }
        : {}),
    });
    return configs.map((_, s) => ({ model: stacked.unstack(s), history: history.map((r) => ofSeed(r, s)) }));
  } finally {
    state.optimizer.dispose();
    stacked.dispose();
  }
}
