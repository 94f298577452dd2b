/**
 * One ILQL training run from episodes: encodes the data, builds the model and optimizer from a seed, and runs the
 * trainer with checkpoints. Everything random derives from `config.train.seed`.
 * @module
 */
import { resolveSections, type SectionsOf } from "./config.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import { DATA_SPEC, EpisodeSampler, filterEpisodes } from "./data.ts";
import { DECODE_SPEC } from "./decode.ts";
import { type EncodedEpisode, encodeEpisode, type Episode } from "./episode.ts";
import { ILQL_SPEC, type IlqlState, ilqlUpdate, initIlqlState, makeOptimizer } from "./ilql.ts";
import { IlqlModel, MODEL_SPEC, tokenContextOf } from "./model.ts";
import { OPTIM_SPEC } from "./optim.ts";
import { Prng } from "./prng.ts";
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
  const model = new IlqlModel(config.model, tokenizer.vocabSize, root.fork());
  const sampler = new EpisodeSampler(encoded, tokenizer.special.pad, root.fork());
  const state = initIlqlState(model, config.ilql, makeOptimizer(model, config.ilql, config.optim), root.fork());
  const path = options.checkpointPath;
  const save = path === undefined ? undefined : async (s: IlqlState, step: number) => {
    await saveCheckpoint(path, s.model, { step, config, tokenizer: tokenizer.toJSON() }, s.optimizer);
    return path;
  };
  return await trainLoop(state, ilqlUpdate, sampler, {
    config: config.train,
    gradAccum: config.optim.gradAccum,
    ...(save ? { saveCheckpoint: save } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
}
