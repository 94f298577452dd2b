/**
 * Shared starts: the behaviour-cloning model every algorithm of a seed fine-tunes from (`start.steps` > 0), trained
 * once per (task, dataset, seed, model shape, start budget) and kept as `DIR/<id>.safetensors`, its id a hash of
 * those. Processes share starts through the file system: the first to need one creates `DIR/<id>.lock`
 * exclusively, touches it from the trainer's log and evaluation callbacks while it trains (a timer would not fire
 * between synchronous training steps), writes the checkpoint atomically, then drops the lock; the others wait for the
 * checkpoint. A lock untouched for {@link STALE_LOCK_MS} belongs to a process that stopped and is taken over, so a
 * killed process never blocks a start, and a half-written start is never read.
 * @module
 */
import { BC, startConfig } from "../baselines/bc.ts";
import { trainAlgorithm } from "../baselines/algorithm.ts";
import { loadCheckpoint, saveCheckpoint } from "../ilql/checkpoint.ts";
import type { Episode } from "../ilql/episode.ts";
import type { IlqlModel } from "../ilql/model.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { TASKS } from "./registry.ts";
import type { CurvePoint } from "./store.ts";
import { dataIdentity, hashOf, type RunSpec } from "./suite.ts";

/** Where starts are kept by default (under `runs/`, which the deno tasks may write). */
export const STARTS_DIR = "runs/starts";

/** A lock not touched for this long belongs to a process that stopped. */
export const STALE_LOCK_MS = 600_000;
const TOUCH_MS = STALE_LOCK_MS / 12;
const POLL_MS = 1_000;

/** A trained start and what it recorded. */
export interface Start {
  id: string;
  steps: number;
  model: IlqlModel;
  curve: CurvePoint[];
  /** Seconds its training took (in the process that made it). */
  trainSeconds: number;
}

/** The id of a run's shared start (a hash of what the start depends on), or null when the run has none. */
export function startId(run: RunSpec): string | null {
  if (run.config.start.steps === 0) return null;
  const { decode: _, ...config } = startConfig(run.config);
  // keys added after starts existed, which a start never reads (value clips, PPO's evaluations) or always holds at
  // one value (its constant schedule), leave its id as it was: the committed starts stay the suite's
  const { valueMax: _max, valueMin: _min, ...model } = config.model;
  const { schedule: _schedule, ...optim } = config.optim;
  const { evalEvery: _ppoEvalEvery, ...ppo } = config.ppo;
  return hashOf({
    task: run.task,
    datasetSize: run.datasetSize,
    ...dataIdentity(run.dataVersion),
    config: { ...config, model, optim, ppo },
  });
}

/** Options of {@link obtainStart}. */
export interface StartOptions {
  /** Where starts are kept (default {@link STARTS_DIR}). */
  dir?: string;
  onLog?: (record: LogRecord) => void;
  /** Evaluates a model during the start's training (its learning curve), as the runs' curves are. */
  evaluate?: (model: IlqlModel, step: number, curve: CurvePoint[]) => Promise<void>;
  /** Ignore the starts this process holds in memory and read the file (a new, caller-owned model). */
  fresh?: boolean;
}

const loaded = new Map<string, Promise<Start>>();

/**
 * The shared start of `run`, trained here or by another process, or read from disk; kept in memory for the
 * process's later runs (do not dispose its model).
 * @throws when the run has no start
 */
export function obtainStart(
  run: RunSpec,
  episodes: readonly Episode[],
  options: StartOptions = {},
): Promise<Start> {
  const id = startId(run);
  if (id === null) throw new Error(`${run.task}/${run.algorithm}: start.steps is 0, the run has no start`);
  const dir = options.dir ?? STARTS_DIR, key = `${dir}/${id}`;
  if (options.fresh) return makeOrRead(id, run, episodes, dir, options);
  let start = loaded.get(key);
  if (start === undefined) {
    start = makeOrRead(id, run, episodes, dir, options);
    loaded.set(key, start);
    start.catch(() => loaded.delete(key));
  }
  return start;
}

async function makeOrRead(
  id: string,
  run: RunSpec,
  episodes: readonly Episode[],
  dir: string,
  options: StartOptions,
): Promise<Start> {
  const path = `${dir}/${id}.safetensors`, lock = `${dir}/${id}.lock`;
  Deno.mkdirSync(dir, { recursive: true });
  for (;;) {
    if (exists(path)) return await read(id, path);
    if (takeLock(lock)) break;
    if (Date.now() - (mtime(lock) ?? Date.now()) > STALE_LOCK_MS) {
      // its owner stopped touching it: take it over (one process wins the removal's race through takeLock)
      await Deno.remove(lock).catch(() => {});
      continue;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  // touched from the training's own callbacks: a timer would not fire while the synchronous training steps run
  let touched = Date.now();
  const touch = () => {
    if (Date.now() - touched < TOUCH_MS) return;
    touched = Date.now();
    Deno.utimeSync(lock, new Date(touched), new Date(touched));
  };
  try {
    if (exists(path)) return await read(id, path); // made by a process whose lock we saw released
    const task = TASKS[run.task]!;
    const config = startConfig(run.config);
    const curve: CurvePoint[] = [], history: LogRecord[] = [];
    const started = performance.now();
    const trained = await trainAlgorithm(BC, {
      episodes,
      tokenizer: task.tokenizer,
      config,
      source: `${run.task} dataset`,
      onLog: (r) => {
        touch();
        history.push(r);
        options.onLog?.(r);
      },
      ...(options.evaluate
        ? {
          evaluate: async (model, step) => {
            touch();
            await options.evaluate!(model, step, curve);
          },
        }
        : {}),
    });
    const trainSeconds = (performance.now() - started) / 1000;
    try {
      await saveCheckpoint(path, trained.model, {
        step: config.train.steps,
        config,
        tokenizer: task.tokenizer.toJSON(),
        extra: { id, task: run.task, datasetSize: run.datasetSize, curve, history, trainSeconds },
      });
    } finally {
      trained.dispose();
    }
    // every process, this one too, fine-tunes from the checkpoint's bytes
    return await read(id, path);
  } finally {
    await Deno.remove(lock).catch(() => {});
  }
}

async function read(id: string, path: string): Promise<Start> {
  const checkpoint = await loadCheckpoint(path);
  // the training history stays in the file for inspection; runs record the curve and the time
  const extra = (checkpoint.extra ?? {}) as { curve?: CurvePoint[]; trainSeconds?: number };
  return {
    id,
    steps: checkpoint.step,
    model: checkpoint.model,
    curve: extra.curve ?? [],
    trainSeconds: extra.trainSeconds ?? 0,
  };
}

function exists(path: string): boolean {
  return mtime(path) !== null;
}

function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Creates `lock` exclusively: true when this process now owns it. */
function takeLock(lock: string): boolean {
  try {
    Deno.writeTextFileSync(lock, `${Deno.pid}\n`, { createNew: true });
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
}
