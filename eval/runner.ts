/**
 * Executes runs: data → training → evaluation → record. One trainer (`trainIlql`) and one evaluator (the task's)
 * for every algorithm and task.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { cpus } from "node:os";
import process from "node:process";
import { backendInfo } from "../ilql/backend.ts";
import { datasetReturn } from "../ilql/data.ts";
import { agentUtterances, type Episode } from "../ilql/episode.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import { utteranceLogProbs, type UtteranceValues, utteranceValues } from "../ilql/values.ts";
import type { ModelScorer, ScoredItems } from "../tasks/task.ts";
import { type DecodeConfig, scoredTextPolicy } from "../ilql/decode.ts";
import type { IlqlModel } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { stackedSeedsProblem, trainSeeds } from "../ilql/run.ts";
import { evaluationDecode, trainAlgorithm, type Trained } from "../baselines/algorithm.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { meanSe } from "./stats.ts";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { type CurvePoint, gitCommit, runDir, type RunRecord, writeRecord } from "./store.ts";
import { hashOf, type RunSpec, trainingKey } from "./suite.ts";
import { obtainStart, startId, startTask } from "./starts.ts";

/** Options of {@link executeRun}. */
export interface ExecuteOptions {
  /** Keep the final checkpoint in the run's directory (default: removed once the record is written). */
  keepCheckpoint?: boolean;
  onLog?: (record: LogRecord) => void;
  /** Called with the metrics of the shared start's training when this run trains it. */
  onStartLog?: (record: LogRecord) => void;
  /** Where shared starts are kept (default `runs/starts`). */
  startsDir?: string;
  /** Called with each point of the learning curve as it is measured (of the shared start when this run trains it). */
  onEval?: (point: CurvePoint, of: "run" | "start") => void;
  /** Trained models shared by runs that differ only in decoding (a β sweep trains once per seed). */
  models?: TrainedModels;
}

/** One training kept for the runs that share it. */
interface Kept {
  trained: Trained;
  history: LogRecord[];
  trainSeconds: number;
  remaining: number;
}

/**
 * Trained models of a list of runs, kept while later runs of the list have the same training (`trainingKey`) and
 * freed after their last use.
 */
export class TrainedModels {
  #uses = new Map<string, number>();
  #kept = new Map<string, Kept>();

  constructor(runs: readonly RunSpec[]) {
    for (const r of runs) this.#uses.set(trainingKey(r), (this.#uses.get(trainingKey(r)) ?? 0) + 1);
  }

  /** The kept training of a run, if an earlier run made it. */
  take(run: RunSpec): Kept | undefined {
    return this.#kept.get(trainingKey(run));
  }

  /** Records that a run will not be executed (another process finished it): one use fewer of its training. */
  skip(run: RunSpec): void {
    const key = trainingKey(run);
    this.#uses.set(key, (this.#uses.get(key) ?? 1) - 1);
    const kept = this.#kept.get(key);
    if (kept !== undefined) this.release(run, kept);
  }

  /** Records that a run used (or made) a training; keeps it when later runs need it, else frees it. */
  release(run: RunSpec, made: Omit<Kept, "remaining">): void {
    const key = trainingKey(run);
    const remaining = (this.#kept.get(key)?.remaining ?? this.#uses.get(key) ?? 1) - 1;
    if (remaining > 0) this.#kept.set(key, { ...made, remaining });
    else {
      this.#kept.delete(key);
      made.trained.dispose();
    }
  }
}

/** The commit of the code this process loaded (read at start: a later checkout must not relabel its runs). */
const STARTED_AT = gitCommit();

/** The task's evaluation seed of the validation episodes during training (the final evaluation uses seed 0). */
export const VALIDATION_SEED = 1;

const datasets = new Map<string, Episode[]>();
/** A run's training episodes: made once per process per task and size (a dataset depends on nothing else). */
export function datasetOf(spec: RunSpec): Episode[] {
  const key = `${spec.task} ${spec.datasetSize}`;
  let data = datasets.get(key);
  if (data === undefined) datasets.set(key, data = TASKS[spec.task]!.dataset(spec.datasetSize ?? undefined, 0));
  return data;
}

/**
 * The validation return of a model after `step` training steps: the task's validation games (their own seed), with a
 * sampling stream of their own, so a learning curve never sees the final evaluation's games.
 */
async function validationPoint(
  spec: RunSpec,
  model: IlqlModel,
  step: number,
  decode: DecodeConfig,
  diagnose?: Diagnostics,
): Promise<CurvePoint> {
  const task = TASKS[spec.task]!;
  const policy = scoredTextPolicy(model, task.tokenizer, decode, new Prng(spec.seed).fork(), {
    recentWindow: task.recentWindow === true,
  });
  const result = await task.evaluate(
    policy,
    spec.config.train.validationEpisodes,
    VALIDATION_SEED,
    modelScorer(spec, model, task.tokenizer),
  );
  const point: CurvePoint = { step, ...meanSe(result.returns), metrics: result.metrics };
  const heldOut = heldOutLikelihood(spec.task, model);
  if (heldOut !== undefined) point.heldOut = heldOut;
  // the paper draws its Q-ranking against training steps: a subsample at each point, all pairs at the end
  if (diagnose) point.diagnostics = diagnose(model, CURVE_PAIRS);
  return point;
}

/** The agent utterances of each task's held-out episodes, each after its history; made once per task. */
const heldOutUtterances = new Map<string, ScoredItems>();

/** A model's likelihood of its task's held-out utterances (`CurvePoint.heldOut`). */
function heldOutLikelihood(taskName: string, model: IlqlModel): CurvePoint["heldOut"] {
  const task = TASKS[taskName]!;
  // a return-conditioned policy needs the return it is asked for in front of every sequence
  if (task.heldOut === undefined || model.config.returnConditioned) return undefined;
  let items = heldOutUtterances.get(taskName);
  if (items === undefined) heldOutUtterances.set(taskName, items = agentUtterances(task.heldOut()));
  const logProbs = utteranceLogProbs(model, task.tokenizer, items);
  const nll = -logProbs.reduce((sum, l) => sum + l.logProb, 0);
  return { utterance: nll / logProbs.length, token: nll / logProbs.reduce((sum, l) => sum + l.tokens, 0) };
}

/** A task's value diagnostics of a model on its training data, on `pairs` of each diagnostic's cases (all without). */
type Diagnostics = (model: IlqlModel, pairs?: number) => Record<string, number>;
/** Pairs each diagnostic scores at a curve point (the final evaluation scores all). */
const CURVE_PAIRS = 1024;

/** What a task may read of a model directly (held-out scores): its policy's log-probabilities, and values if learned. */
function modelScorer(spec: RunSpec, model: IlqlModel, tokenizer: Tokenizer): ModelScorer {
  return {
    logProbs: (items) => utteranceLogProbs(model, tokenizer, items),
    values: spec.config.ilql.qWeight > 0 ? (items) => chunkedValues(model, tokenizer, items) : null,
    gamma: spec.config.ilql.gamma,
  };
}

/** The values of each utterance, computed in chunks (a diagnostic may score thousands of pairs). */
function chunkedValues(model: IlqlModel, tokenizer: Tokenizer, items: ScoredItems): UtteranceValues[] {
  const out: UtteranceValues[] = [];
  for (let i = 0; i < items.length; i += DIAGNOSTIC_CHUNK) {
    out.push(...utteranceValues(model, tokenizer, items.slice(i, i + DIAGNOSTIC_CHUNK)));
  }
  return out;
}

/** Q̄ of each action token of each utterance. */
function targetQValues(model: IlqlModel, tokenizer: Tokenizer, items: ScoredItems): number[][] {
  return chunkedValues(model, tokenizer, items).map((v) => v.qBar);
}
const DIAGNOSTIC_CHUNK = 256;

/** What a run needs before training: its data, decoding, diagnostics, start and where its curve goes. */
interface Prepared {
  spec: RunSpec;
  started: number;
  data: Episode[];
  checkpointPath: string;
  kept: Kept | undefined;
  history: LogRecord[];
  curve: CurvePoint[] | null;
  decode: DecodeConfig;
  diagnose: Diagnostics | undefined;
  start: Awaited<ReturnType<typeof obtainStart>> | null;
}

async function prepareRun(spec: RunSpec, dir: string, options: ExecuteOptions): Promise<Prepared> {
  const started = performance.now();
  const task = TASKS[spec.task]!;
  const data = datasetOf(spec);
  const kept = options.models?.take(spec);
  const decode = evaluationDecode(spec.config, data);
  // for value methods (learned Q heads) of tasks that have diagnostics
  const diagnose: Diagnostics | undefined = task.diagnose && spec.config.ilql.qWeight > 0
    ? (model, pairs) => task.diagnose!(data, (items) => targetQValues(model, task.tokenizer, items), pairs)
    : undefined;
  const start = kept || startId(spec) === null ? null : await startOf(spec, data, decode, options);
  return {
    spec,
    started,
    data,
    checkpointPath: `${runDir(dir, spec.id)}/checkpoint.safetensors`,
    kept,
    history: kept ? [...kept.history] : [],
    // the curve is measured with the decoding of the run that trains; runs that reuse its training have none
    curve: kept ? null : [],
    decode,
    diagnose,
    start,
  };
}

/**
 * The shared start of `spec`. A start shared with another task (`startTask`) trains on this run's episodes, which are
 * that task's but for rewards BC never reads, and its curve is that task's.
 */
function startOf(spec: RunSpec, data: Episode[], decode: DecodeConfig, options: ExecuteOptions) {
  const own = { ...spec, task: startTask(spec) };
  return obtainStart(own, data, {
    ...(options.onStartLog ? { onLog: options.onStartLog } : {}),
    ...(options.startsDir ? { dir: options.startsDir } : {}),
    // the start's curve: its policy head decoded greedily, one utterance a prompt, whichever run makes it (a run's
    // decoding, e.g. BC's sampled or greedy sweep or a reranking, must not decide what a shared start records); a run's
    // curve has the start its way at step 0
    evaluate: async (model, step, points) => {
      points.push(await validationPoint(own, model, step, { ...decode, method: "greedy", beta: 0, samples: 1 }));
      options.onEval?.(points.at(-1)!, "start");
    },
  });
}

/**
 * The shared start of `spec` (trained here with its learning curve, or read), without the run itself: what
 * `deno task bench --starts-only` makes. The backend must be initialised.
 * @throws when the run has no start
 */
export function prepareStart(spec: RunSpec, options: ExecuteOptions = {}): ReturnType<typeof obtainStart> {
  const data = datasetOf(spec);
  return startOf(spec, data, evaluationDecode(spec.config, data), options);
}

/** A run's validation point after `step` steps, kept in its curve and reported. */
async function curvePoint(run: Prepared, model: IlqlModel, step: number, options: ExecuteOptions): Promise<void> {
  const point = await validationPoint(run.spec, model, step, run.decode, run.diagnose);
  run.curve?.push(point);
  options.onEval?.(point, "run");
}

/** Evaluates a trained run, writes its record and frees (or keeps, for later runs) its training. */
async function finishRun(
  run: Prepared,
  dir: string,
  trained: Trained,
  trainSeconds: number,
  options: ExecuteOptions,
  stackedSeeds = 1,
): Promise<RunRecord> {
  const { spec, data, history, curve, start, diagnose } = run;
  const task = TASKS[spec.task]!;
  const evalStarted = performance.now();
  // sampling policies draw from one stream per seed, the same for every algorithm
  const policy = scoredTextPolicy(trained.model, task.tokenizer, run.decode, new Prng(spec.seed), {
    recentWindow: task.recentWindow === true,
  });
  const result = await task.evaluate(policy, spec.evalEpisodes, 0, modelScorer(spec, trained.model, task.tokenizer));
  if (diagnose) Object.assign(result.metrics, diagnose(trained.model));
  const evalSeconds = (performance.now() - evalStarted) / 1000;
  if (options.models) options.models.release(spec, { trained, history, trainSeconds });
  else trained.dispose();
  const { mean, se } = meanSe(result.returns);
  const backend = backendInfo();
  const record: RunRecord = {
    spec,
    configHash: hashOf(spec.config),
    datasetReturn: datasetReturn(data),
    anchors: task.anchors(),
    eval: { returns: result.returns, mean, se, metrics: result.metrics, seconds: evalSeconds },
    history,
    ...(curve !== null && spec.config.train.evalEvery > 0 ? { curve } : {}),
    ...(start
      ? {
        start: {
          id: start.id,
          task: startTask(spec),
          steps: start.steps,
          curve: start.curve,
          trainSeconds: start.trainSeconds,
        },
      }
      : {}),
    provenance: {
      commit: STARTED_AT,
      deno: Deno.version.deno,
      tfjs: tf.version_core,
      backend: backend?.summary ?? "unknown",
      ...(backend ? { numerics: { pinned: backend.pinned, blas: backend.blas, threads: backend.threads } } : {}),
      machine: { cpu: cpus()[0]?.model.trim() || "unknown", cores: cpus().length },
      trainSeconds,
      ...(stackedSeeds > 1 ? { stackedSeeds } : {}),
      wallSeconds: (performance.now() - run.started) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      finished: new Date().toISOString(),
    },
  };
  await writeRecord(dir, record);
  if (!options.keepCheckpoint) await Deno.remove(runDir(dir, spec.id), { recursive: true }).catch(() => {});
  return record;
}

/**
 * Trains and evaluates one run and writes its record. A run killed halfway leaves no record, so it is redone from
 * the start next time (deterministically: the same seed gives the same run).
 */
export async function executeRun(spec: RunSpec, dir: string, options: ExecuteOptions = {}): Promise<RunRecord> {
  const run = await prepareRun(spec, dir, options);
  const task = TASKS[spec.task]!;
  // the run's own training time: a start it had to train first is timed in the start (`start.trainSeconds`)
  const trainStarted = performance.now();
  const trained = run.kept?.trained ?? await trainAlgorithm(ALGORITHMS[spec.algorithm]!, {
    episodes: run.data,
    tokenizer: task.tokenizer,
    config: spec.config,
    ...(task.environments ? { environments: task.environments } : {}),
    ...(task.recentWindow ? { recentWindow: true } : {}),
    source: `${spec.task} dataset`,
    checkpointPath: run.checkpointPath,
    onLog: (r) => {
      run.history.push(r);
      options.onLog?.(r);
    },
    evaluate: (model, step) => curvePoint(run, model, step, options),
    ...(run.start ? { init: run.start.model } : {}),
  });
  const trainSeconds = run.kept?.trainSeconds ?? (performance.now() - trainStarted) / 1000;
  return await finishRun(run, dir, trained, trainSeconds, options);
}

/**
 * Whether runs can train as stacked seeds ({@link executeSeedGroup}): offline runs (an online trainer plays its own
 * environments) whose configs differ only in their seed, without dropout.
 */
export function canStackSeeds(specs: readonly RunSpec[]): boolean {
  return specs.length > 1 && ALGORITHMS[specs[0]!.algorithm]!.train === undefined &&
    specs.every((s) => s.task === specs[0]!.task && s.algorithm === specs[0]!.algorithm) &&
    stackedSeedsProblem(specs.map((s) => s.config)) === null;
}

/**
 * Runs that differ only in their seed, trained as one computation (`trainSeeds`: S models stacked on a leading axis),
 * then each evaluated and recorded as {@link executeRun} would. Each record's `trainSeconds` is the group's training
 * time divided by its seeds, and `stackedSeeds` says how many trained together.
 * @throws when the runs cannot be stacked ({@link canStackSeeds})
 */
export async function executeSeedGroup(
  specs: readonly RunSpec[],
  dir: string,
  options: ExecuteOptions = {},
): Promise<RunRecord[]> {
  if (!canStackSeeds(specs)) throw new Error(`runs ${specs.map((s) => s.id).join(", ")} cannot train as stacked seeds`);
  const runs: Prepared[] = [];
  for (const spec of specs) runs.push(await prepareRun(spec, dir, options));
  const task = TASKS[specs[0]!.task]!;
  const trainStarted = performance.now();
  const starts = runs.map((r) => r.start?.model);
  const trained = await trainSeeds(runs[0]!.data, task.tokenizer, specs.map((s) => s.config), {
    source: `${specs[0]!.task} dataset`,
    checkpointPaths: runs.map((r) => r.checkpointPath),
    onLog: (s, r) => {
      runs[s]!.history.push(r);
      if (s === 0) options.onLog?.(r);
    },
    evaluate: (s, model, step) => curvePoint(runs[s]!, model, step, options),
    ...(starts.every((m) => m !== undefined) ? { inits: starts as IlqlModel[] } : {}),
  });
  const trainSeconds = (performance.now() - trainStarted) / 1000 / specs.length;
  const records: RunRecord[] = [];
  for (const [s, run] of runs.entries()) {
    const { model } = trained[s]!;
    const asTrained: Trained = {
      model,
      decode: run.decode,
      history: run.history,
      dispose: () => model.dispose(),
    };
    records.push(await finishRun(run, dir, asTrained, trainSeconds, options, specs.length));
  }
  return records;
}
