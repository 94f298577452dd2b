/**
 * The one training loop: draws micro-batches, calls an algorithm's update, logs its flat info record, writes
 * checkpoints, and stops cleanly on a non-finite loss. Algorithms plug in through {@link UpdateFn}.
 * @module
 */
import { type ConfigOf, int } from "./config.ts";
import type { BatchSource } from "./data.ts";
import type { Batch } from "./episode.ts";

/** Trainer config. */
export const TRAIN_SPEC = {
  steps: int("Optimizer steps", 2000, { min: 0 }),
  batchSize: int("Episodes per micro-batch", 32, { min: 1 }),
  lengthPool: int(
    "Batches whose episodes are drawn together and sorted by length, so each pads to similar lengths (1 = off)",
    1,
    { min: 1 },
  ),
  seed: int("Seed of initialisation, batches, dropout and sampling", 0),
  checkpointEvery: int("Write a checkpoint every n steps (0 = only at the end, when a path is given)", 0, { min: 0 }),
  logEvery: int("Report metrics every n steps", 100, { min: 1 }),
  evalEvery: int(
    "Evaluate the policy every n steps, and at the first and last step, on validation episodes (0 = never): the curve",
    0,
    { min: 0 },
  ),
  validationEpisodes: int("Validation episodes per evaluation (their own seed, not the final one's)", 64, { min: 1 }),
};

/** Trainer config record. */
export type TrainConfig = ConfigOf<typeof TRAIN_SPEC>;

/** An algorithm's update: one optimizer step over micro-batches, returning new state and flat metrics. */
export type UpdateFn<S> = (state: S, microBatches: readonly Batch[]) => { state: S; info: Record<string, number> };

/** One logged point of the metric history. */
export interface LogRecord {
  step: number;
  info: Record<string, number>;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<S> {
  config: TrainConfig;
  /** Micro-batches per optimizer step. */
  gradAccum: number;
  /** Writes a checkpoint of `state` (atomically); called every `checkpointEvery` steps, at the end, and on failure. */
  saveCheckpoint?: (state: S, step: number) => Promise<string>;
  /** Called with the mean info of the last `logEvery` steps. */
  onLog?: (record: LogRecord) => void;
  /** Step counter of a resumed state (default 0). */
  startStep?: number;
  /**
   * Evaluates the policy of `state` after `step` steps: at the start (not where a training resumes), every
   * `evalEvery` steps and at the end.
   */
  onEval?: (state: S, step: number) => Promise<void>;
}

/** Raised when training stops on a non-finite value; names the step, the term and the checkpoint kept. */
export class TrainingStopped extends Error {
  constructor(message: string, readonly step: number, readonly checkpoint: string | null) {
    super(message);
    this.name = "TrainingStopped";
  }
}

/**
 * Runs `config.steps` updates. Returns the final state and the logged history.
 * @throws TrainingStopped when an update reports a non-finite loss; the weights from before that update are saved
 */
export async function trainLoop<S>(
  state: S,
  update: UpdateFn<S>,
  sampler: BatchSource,
  options: TrainLoopOptions<S>,
): Promise<{ state: S; history: LogRecord[] }> {
  const { config, gradAccum } = options;
  const history: LogRecord[] = [];
  let window: Record<string, number> = {};
  let inWindow = 0;
  const evaluate = options.onEval !== undefined && config.evalEvery > 0 ? options.onEval : null;
  // a resumed training made the point of its first step before it stopped, where one was due
  if (evaluate !== null && (options.startStep ?? 0) === 0) await evaluate(state, 0);
  for (let step = (options.startStep ?? 0) + 1; step <= config.steps; step++) {
    const batches = Array.from({ length: gradAccum }, () => sampler.next(config.batchSize));
    let info: Record<string, number>;
    try {
      ({ state, info } = update(state, batches));
    } catch (e) {
      if ((e as Error).name !== "NonFiniteLossError") throw e;
      const path = options.saveCheckpoint ? await options.saveCheckpoint(state, step - 1) : null;
      const kept = path === null ? "no checkpoint path was given" : `weights of step ${step - 1} kept in ${path}`;
      throw new TrainingStopped(`Training stopped: ${(e as Error).message}; ${kept}`, step, path);
    }
    for (const [k, v] of Object.entries(info)) window[k] = (window[k] ?? 0) + v;
    inWindow++;
    if (step % config.logEvery === 0 || step === config.steps) {
      const mean = Object.fromEntries(Object.entries(window).map(([k, v]) => [k, v / inWindow]));
      const record = { step, info: mean };
      history.push(record);
      options.onLog?.(record);
      window = {};
      inWindow = 0;
    }
    if (evaluate !== null && (step % config.evalEvery === 0 || step === config.steps)) await evaluate(state, step);
    if (options.saveCheckpoint && config.checkpointEvery > 0 && step % config.checkpointEvery === 0) {
      await options.saveCheckpoint(state, step);
    }
  }
  const tookSteps = config.steps > (options.startStep ?? 0);
  const savedLast = config.checkpointEvery > 0 && config.steps % config.checkpointEvery === 0;
  if (options.saveCheckpoint && tookSteps && !savedLast) await options.saveCheckpoint(state, config.steps);
  return { state, history };
}
