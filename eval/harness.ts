/**
 * The harness behind `deno task bench`: plans a suite's runs against a results directory (what is done, what is
 * corrupt, whether configs would mix), runs them with shared starts and trainings, and shows progress.
 * @module
 */
import { existsSync } from "node:fs";
import { UsageError } from "../ilql/cli.ts";
import { ALGORITHMS } from "./registry.ts";
import { writeReport } from "./report.ts";
import { canStackSeeds, type ExecuteOptions, executeRun, executeSeedGroup, TrainedModels } from "./runner.ts";
import { checkRuns, probeWritable } from "./preflight.ts";
import { startId } from "./starts.ts";
import {
  type CorruptRecord,
  CorruptRecordError,
  type CurvePoint,
  recordPath,
  type RecordScan,
  type RunRecord,
  scanRecords,
  setAsideCorrupt,
} from "./store.ts";
import { configDifferences, configKey, flatConfig, runName, type RunSpec, settingLabel, trainingKey } from "./suite.ts";

/** The runs a run shares work with: those of its shared start, or (without one) those of its training. */
export const startGroup = (r: RunSpec) => startId(r) ?? trainingKey(r);

/**
 * How shards split the runs: the runs of one shared start together, so no shard waits for a start another shard is
 * training, when there are at least as many starts as shards; else the runs of one training together (a start is
 * then trained once and waited for, under its lock). Seeds that train stacked (`stackSeeds`) stay together.
 */
export function shareGroups(
  runs: readonly RunSpec[],
  shards: number,
  stackSeeds = false,
): (run: RunSpec) => string {
  const base = new Set(runs.map(startGroup)).size >= shards ? startGroup : trainingKey;
  // seeds that train stacked stay in one shard, with the runs that reuse their trainings
  const stacked = new Map<string, string>();
  for (const [id, group] of seedGroups(runs, stackSeeds)) for (const r of group) stacked.set(trainingKey(r), id);
  return (run) => stacked.get(trainingKey(run)) ?? base(run);
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Keep each run's final checkpoint in `out/runs/<id>/`. */
  keepCheckpoints?: boolean;
  /** Write the report of `out` at the end (default true). */
  report?: boolean;
  /** Accept records of the same task, algorithm and setting with another config in `out` (separate table rows). */
  allowMixed?: boolean;
  /** Leave corrupt records out and redo their runs, keeping each corrupt file as `*.json.corrupt`. */
  skipCorrupt?: boolean;
  /** Where shared starts are kept (default `runs/starts`). */
  startsDir?: string;
  /** The checked plan of these runs, when the caller made it already ({@link planSuite}). */
  plan?: SuitePlan;
  /**
   * Runs that differ only in their seed train as one computation (stacked seeds) where they can (default false: one
   * seed after another, see the `--stack-seeds` help for why).
   */
  stackSeeds?: boolean;
}

/**
 * The runs of `todo` that train together as stacked seeds, by the id of each group's first run: the runs that train
 * (the first of each training; later ones reuse it) grouped by everything but their seed.
 */
export function seedGroups(todo: readonly RunSpec[], stack: boolean): Map<string, RunSpec[]> {
  const groups = new Map<string, RunSpec[]>();
  if (!stack) return groups;
  const trains = filterFirst(todo, trainingKey);
  const bySeedless = new Map<string, RunSpec[]>();
  for (const r of trains) {
    const { train: { seed: _, ...train }, decode: __, ...rest } = r.config;
    const key = JSON.stringify([r.task, r.algorithm, r.datasetSize, r.dataVersion ?? null, train, rest]);
    bySeedless.set(key, [...(bySeedless.get(key) ?? []), r]);
  }
  for (const group of bySeedless.values()) if (canStackSeeds(group)) groups.set(group[0]!.id, group);
  return groups;
}

/** The first run of each key, in order. */
function filterFirst(runs: readonly RunSpec[], key: (r: RunSpec) => string): RunSpec[] {
  const seen = new Set<string>();
  return runs.filter((r) => !seen.has(key(r)) && seen.add(key(r)) !== undefined);
}

/** What {@link planSuite} found: the runs still to do, and the corrupt records of those runs to set aside first. */
export interface SuitePlan {
  todo: RunSpec[];
  corrupt: CorruptRecord[];
}

/**
 * Checks a suite before any compute: corrupt records (named, unless skipped), records of other configs in `out`
 * (unless allowed), that the directory takes files, and that every unfinished run can train ({@link checkRuns}).
 * `scan` is what `out` holds when the caller has read it already.
 * @throws UsageError, one line
 */
export function planSuite(
  runs: readonly RunSpec[],
  out: string,
  options: SuiteOptions = {},
  scan?: RecordScan,
): SuitePlan {
  try {
    const { records, corrupt } = scan ?? scanRecords(out);
    if (corrupt.length > 0 && !options.skipCorrupt) throw new CorruptRecordError(corrupt[0]!);
    if (!options.allowMixed) checkNotMixed(runs, records, out);
    const finished = new Set(records.map((r) => r.spec.id));
    const todo = runs.filter((r) => !finished.has(r.id));
    checkRuns(todo);
    if (todo.length > 0 || (options.report ?? true)) probeWritable(out);
    const ids = new Set(todo.map((r) => `${r.id}.json`));
    return { todo, corrupt: corrupt.filter((c) => ids.has(recordName(c))) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A learning-curve point as a progress line. */
export function pointLine(p: CurvePoint): string {
  const nll = p.heldOut ? `, held-out NLL ${p.heldOut.utterance.toFixed(3)} nats per utterance` : "";
  return `validation return ${p.mean.toFixed(3)} ± ${p.se.toFixed(3)}${nll} at step ${p.step}`;
}

/** A corrupt record's file name (`<run id>.json` for a run's own record). */
export function recordName(c: CorruptRecord): string {
  return c.path.slice(c.path.lastIndexOf("/") + 1);
}

/**
 * Refuses runs whose task, algorithm and setting already have records of another config in `out`: one row would
 * average different experiments as if they were seeds.
 * @throws naming the first clash, the keys that differ and both values
 */
function checkNotMixed(runs: readonly RunSpec[], records: readonly RunRecord[], out: string): void {
  const family = (r: RunSpec) => JSON.stringify([r.task, r.algorithm, settingLabel(r.setting)]);
  const existing = new Map<string, RunSpec[]>();
  for (const r of records) existing.set(family(r.spec), [...(existing.get(family(r.spec)) ?? []), r.spec]);
  for (const run of runs) {
    const other = (existing.get(family(run)) ?? []).find((r) => configKey(r) !== configKey(run));
    if (other === undefined) continue;
    const keys = configDifferences(other, run);
    const there = flatConfig(other), here = flatConfig(run);
    const shown = keys.slice(0, 3).map((k) =>
      `${k} ${JSON.stringify(there[k] ?? null)} there, ${JSON.stringify(here[k] ?? null)} here`
    );
    const setting = settingLabel(run.setting);
    throw new Error(
      `${out} already holds ${run.task}/${run.algorithm}${setting ? ` (${setting})` : ""} runs of another config (${
        shown.join("; ")
      }${
        keys.length > 3 ? `; ${keys.length - 3} more` : ""
      }): use another --out, or --allow-mixed to keep both as separate rows`,
    );
  }
}

/**
 * Executes the runs that have no record in `out` yet (runs differing only in decoding share one training), then
 * writes the report of `out`. The backend must be initialised.
 */
export async function runSuite(runs: readonly RunSpec[], out: string, options: SuiteOptions = {}): Promise<void> {
  const { todo, corrupt } = options.plan ?? planSuite(runs, out, options);
  for (const c of corrupt) console.log(`set aside corrupt record ${c.path} → ${setAsideCorrupt(c)}`);
  const progress = new Progress(runs.length, runs.length - todo.length);
  const models = new TrainedModels(todo);
  const groups = seedGroups(todo, options.stackSeeds ?? false);
  const groupOf = new Map([...groups.values()].flatMap((g) => g.map((r) => [r.id, g] as const)));
  const trained = new Set<RunSpec[]>();
  for (const group of groups.values()) {
    console.log(`${runName(group[0]!)}: seeds ${group.map((r) => r.seed).join(", ")} train as one stacked computation`);
  }
  const finish = (record: RunRecord) =>
    progress.finish(
      `${runName(record.spec)}: return ${record.eval.mean.toFixed(3)} ± ${record.eval.se.toFixed(3)} ` +
        `(${record.provenance.wallSeconds.toFixed(0)} s)`,
    );
  for (const run of todo) {
    const name = runName(run);
    // another process (an overlapping invocation) may have finished it since the plan was made
    if (existsSync(recordPath(out, run.id))) {
      models.skip(run);
      progress.finish(`${name}: recorded by another process meanwhile, skipped`);
      continue;
    }
    const seeds = groupOf.get(run.id);
    if (seeds !== undefined && trained.has(seeds)) continue; // trained with its group
    if (seeds !== undefined) trained.add(seeds);
    // the group's runs no other process has recorded meanwhile
    const group = seeds?.filter((r) => !existsSync(recordPath(out, r.id)));
    progress.start(name);
    const execute: ExecuteOptions = {
      keepCheckpoint: options.keepCheckpoints ?? false,
      models,
      ...(options.startsDir !== undefined ? { startsDir: options.startsDir } : {}),
      // online algorithms log their iterations after the offline steps
      onLog: (r) =>
        progress.step(
          name,
          r.step,
          run.config.train.steps + (ALGORITHMS[run.algorithm]!.train ? run.config.ppo.iterations : 0),
          r.info["losses/total"]!,
        ),
      onStartLog: (r) => progress.step(`${name} shared start`, r.step, run.config.start.steps, r.info["losses/total"]!),
      onEval: (p, of) => progress.note(`${name}${of === "start" ? " shared start" : ""}: ${pointLine(p)}`),
    };
    if (group !== undefined && group.length > 1) {
      for (const record of await executeSeedGroup(group, out, execute)) finish(record);
    } else finish(await executeRun(run, out, execute));
  }
  if (options.report ?? true) {
    const written = await writeReport(out, { skipCorrupt: options.skipCorrupt ?? false });
    console.log(`wrote ${written.join(", ")}`);
  }
}

/** A progress bar on a terminal; plain log lines otherwise. */
export class Progress {
  #tty = Deno.stdout.isTerminal();
  #done: number;
  #lastLog = 0;

  constructor(readonly total: number, done: number) {
    this.#done = done;
  }

  start(name: string): void {
    if (!this.#tty) console.log(`[${this.#done + 1}/${this.total}] ${name}: training`);
  }

  step(name: string, step: number, steps: number, loss: number): void {
    if (this.#tty) {
      const width = 24;
      const filled = Math.round(width * step / steps);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      Deno.stdout.writeSync(
        new TextEncoder().encode(
          `\r\x1b[K[${this.#done + 1}/${this.total}] ${bar} ${name} step ${step}/${steps} loss ${loss.toFixed(3)}`,
        ),
      );
    } else if (performance.now() - this.#lastLog > 10_000) {
      this.#lastLog = performance.now();
      console.log(`[${this.#done + 1}/${this.total}] ${name}: step ${step}/${steps}, loss ${loss.toFixed(3)}`);
    }
  }

  /** A line between progress updates (e.g. a learning-curve point). */
  note(line: string): void {
    if (this.#tty) Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[K"));
    console.log(`[${this.#done + 1}/${this.total}] ${line}`);
  }

  finish(line: string): void {
    this.#done++;
    if (this.#tty) Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[K"));
    console.log(`[${this.#done}/${this.total}] ${line}`);
  }
}
