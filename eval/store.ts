/**
 * The results store: one directory that any number of processes (shards) write into without clashing.
 *
 * ```
 * DIR/records/<run id>.json     the finished run's record: spec, evaluation, history, provenance (written last)
 * DIR/runs/<run id>/            the run's working files (checkpoint while it trains)
 * ```
 * Every file is written atomically (temporary file, then rename), so a kill at any moment leaves no half record; a
 * run counts as done exactly when its record exists and parses.
 * @module
 */
import { writeFileAtomic } from "../ilql/safetensors.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import type { RunSpec } from "./suite.ts";

/** What a finished run leaves behind. */
export interface RunRecord {
  spec: RunSpec;
  /** Hash of the resolved config alone (runs of different tasks or seeds can share it). */
  configHash: string;
  /** Mean return of the training data (the 50 mark of the normalized score). */
  datasetReturn: number;
  /** The task's normalized-score anchors. */
  anchors: { floor: number; ceiling: number };
  eval: { returns: number[]; mean: number; se: number; metrics: Record<string, number>; seconds: number };
  /** Training metrics every `train.logEvery` steps. */
  history: LogRecord[];
  /** The learning curve: validation return at step 0, every `train.evalEvery` steps and at the end (when enabled). */
  curve?: CurvePoint[];
  /**
   * The shared start the run fine-tuned from (`start.steps` > 0): its id, the task it belongs to (absent: the run's;
   * records made before starts were shared), steps, curve (on that task) and training time.
   */
  start?: { id: string; task?: string; steps: number; curve: CurvePoint[]; trainSeconds: number };
  provenance: {
    commit: string;
    deno: string;
    tfjs: string;
    backend: string;
    /**
     * What decides the digits besides the code: whether they were pinned (`--kernels`), the BLAS library's kernels,
     * build and threads, the wasm threads (absent in records made before it was recorded).
     */
    numerics?: {
      pinned: boolean;
      blas: { path: string; core: string; config: string; threads: number } | null;
      threads: number;
    };
    /**
     * The CPU the run trained on and the cores the machine offered (absent in records made before it was recorded):
     * the steps/s of two records compare only on one CPU.
     */
    machine?: { cpu: string; cores: number };
    trainSeconds: number;
    /** How many seeds trained together as one computation (absent: alone); `trainSeconds` is then the group's share. */
    stackedSeeds?: number;
    wallSeconds: number;
    peakRssMiB: number;
    finished: string;
  };
}

/** One point of a learning curve: mean return ± s.e. over the validation episodes after `step` steps. */
export interface CurvePoint {
  step: number;
  mean: number;
  se: number;
  metrics: Record<string, number>;
  /** The task's value diagnostics at this step (e.g. Wordle's Q-ranking), on a subsample of its pairs. */
  diagnostics?: Record<string, number>;
  /**
   * Negative log-likelihood (nats) of the task's held-out episodes' agent utterances under the policy head, per
   * utterance (its tokens and its end) and per token: what the policy has learned of its data, less noisy than the
   * validation return. Absent for tasks without held-out episodes and return-conditioned models.
   */
  heldOut?: { utterance: number; token: number };
}

/** The CPUs records trained on, with their counts ("AMD EPYC, 2 cores: 3 runs; not recorded: 45 runs"). */
export function machinesOf(records: readonly RunRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) {
    const m = r.provenance.machine;
    const key = m ? `${m.cpu}, ${m.cores} cores` : "not recorded";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([cpu, n]) => `${cpu}: ${n} run${n === 1 ? "" : "s"}`).join("; ");
}

/** Path of a run's record. */
export function recordPath(dir: string, id: string): string {
  return `${dir}/records/${id}.json`;
}

/** Path of a run's working directory. */
export function runDir(dir: string, id: string): string {
  return `${dir}/runs/${id}`;
}

/** What to do about a corrupt record, appended to every message that names one. */
export const CORRUPT_ADVICE = "move it aside (its run is then redone) or pass --skip-corrupt to leave it out";

/** A record file that does not hold a finished run's record. */
export interface CorruptRecord {
  path: string;
  reason: string;
}

/** Raised when a results directory holds a corrupt record; names the file and what to do about it. */
export class CorruptRecordError extends Error {
  constructor(readonly corrupt: CorruptRecord) {
    super(`${corrupt.path}: ${corrupt.reason}: a corrupt run record; ${CORRUPT_ADVICE}`);
    this.name = "CorruptRecordError";
  }
}

/**
 * The record of run `id`, or null when the run has not finished.
 * @throws CorruptRecordError when the record file is corrupt
 */
export function readRecord(dir: string, id: string): RunRecord | null {
  const path = recordPath(dir, id);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
  const parsed = parseRecord(text, `${id}.json`);
  if ("reason" in parsed) throw new CorruptRecordError({ path, reason: parsed.reason });
  return parsed;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A record, or why the text is not one (`name` is the file's name, which must be the run id). */
function parseRecord(text: string, name: string): RunRecord | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { reason: `not valid JSON (${(e as Error).message.split("\n")[0]})` };
  }
  const r = value as Partial<Record<keyof RunRecord, unknown>>;
  const spec = isObject(r) && isObject(r.spec) ? r.spec : null;
  const evaluation = isObject(r) && isObject(r.eval) ? r.eval : null;
  const missing = [
    [spec, "spec"],
    [typeof spec?.id === "string", "spec.id"],
    [typeof spec?.task === "string", "spec.task"],
    [typeof spec?.algorithm === "string", "spec.algorithm"],
    [Number.isInteger(spec?.seed), "spec.seed"],
    [isObject(spec?.config), "spec.config"],
    [isObject(spec?.setting), "spec.setting"],
    [evaluation, "eval"],
    [Array.isArray(evaluation?.returns), "eval.returns"],
    [typeof evaluation?.mean === "number", "eval.mean"],
    [isObject(evaluation?.metrics), "eval.metrics"],
    [isObject(r?.provenance), "provenance"],
    [Array.isArray(r?.history), "history"],
  ].find(([ok]) => !ok);
  if (missing !== undefined) return { reason: `not a run record (${missing[1]} missing or of the wrong type)` };
  if (`${spec!.id}.json` !== name) return { reason: `holds run ${spec!.id}, not the run its name says` };
  return value as RunRecord;
}

/** Writes a finished run's record (atomically; the run is done from then on). */
export async function writeRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFileAtomic(recordPath(dir, record.spec.id), JSON.stringify(record) + "\n");
}

/** What a results directory holds: its records and its corrupt record files, in file-name order. */
export interface RecordScan {
  records: RunRecord[];
  corrupt: CorruptRecord[];
}

/** Every record under `dir` and every corrupt record file, in file-name order. */
export function scanRecords(dir: string): RecordScan {
  let names: string[];
  try {
    names = [...Deno.readDirSync(`${dir}/records`)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return { records: [], corrupt: [] };
    }
    throw e;
  }
  const records: RunRecord[] = [], corrupt: CorruptRecord[] = [];
  for (const name of names) {
    const path = `${dir}/records/${name}`;
    const parsed = parseRecord(Deno.readTextFileSync(path), name);
    if ("reason" in parsed) corrupt.push({ path, reason: parsed.reason });
    else records.push(parsed);
  }
  return { records, corrupt };
}

/**
 * Every record under `dir` (merging all shards), in file-name order.
 * @param options.skipCorrupt leave corrupt records out instead of throwing
 * @throws CorruptRecordError naming the first corrupt record file
 */
export function readRecords(dir: string, options: { skipCorrupt?: boolean } = {}): RunRecord[] {
  const { records, corrupt } = scanRecords(dir);
  if (corrupt.length > 0 && !options.skipCorrupt) throw new CorruptRecordError(corrupt[0]!);
  return records;
}

/**
 * Moves a corrupt record out of the way (to `<name>.corrupt`, or `<name>.corrupt.N` when that exists) so that its
 * run can be redone without losing the file; returns the new path.
 */
export function setAsideCorrupt(corrupt: CorruptRecord): string {
  for (let n = 0;; n++) {
    const target = `${corrupt.path}.corrupt${n === 0 ? "" : `.${n}`}`;
    try {
      Deno.lstatSync(target);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      Deno.renameSync(corrupt.path, target);
      return target;
    }
  }
}

/**
 * The commit checked out in `root` (a clone or a `git worktree`, whose `.git` is a file naming its git directory),
 * or "unknown" outside a repository.
 */
export function gitCommit(root = "."): string {
  try {
    let dir = `${root}/.git`;
    if (Deno.statSync(dir).isFile) {
      const pointer = /^gitdir: (.+)$/m.exec(Deno.readTextFileSync(dir))?.[1];
      if (pointer === undefined) return "unknown";
      dir = pointer.startsWith("/") ? pointer : `${root}/${pointer}`;
    }
    const head = Deno.readTextFileSync(`${dir}/HEAD`).trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    // a worktree keeps its HEAD; branches and packed refs live in the main git directory
    const common = (() => {
      try {
        const text = Deno.readTextFileSync(`${dir}/commondir`).trim();
        return text.startsWith("/") ? text : `${dir}/${text}`;
      } catch {
        return dir;
      }
    })();
    for (const base of [dir, common]) {
      try {
        return Deno.readTextFileSync(`${base}/${ref}`).trim();
      } catch { /* try the next place */ }
    }
    const packed = Deno.readTextFileSync(`${common}/packed-refs`).split("\n").find((l) => l.endsWith(` ${ref}`));
    return packed?.split(" ")[0] ?? "unknown";
  } catch {
    return "unknown";
  }
}
