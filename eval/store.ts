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
  provenance: {
    commit: string;
    deno: string;
    tfjs: string;
    backend: string;
    trainSeconds: number;
    wallSeconds: number;
    peakRssMiB: number;
    finished: string;
  };
}

/** Path of a run's record. */
export function recordPath(dir: string, id: string): string {
  return `${dir}/records/${id}.json`;
}

/** Path of a run's working directory. */
export function runDir(dir: string, id: string): string {
  return `${dir}/runs/${id}`;
}

/** The record of run `id`, or null when the run has not finished. */
export function readRecord(dir: string, id: string): RunRecord | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(recordPath(dir, id));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const record = parseRecord(text, recordPath(dir, id));
  return record.spec.id === id ? record : null;
}

function parseRecord(text: string, where: string): RunRecord {
  let record: RunRecord;
  try {
    record = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (typeof record?.spec?.id !== "string" || !Array.isArray(record?.eval?.returns)) {
    throw new Error(`${where}: not a run record (spec.id or eval.returns missing)`);
  }
  return record;
}

/** Writes a finished run's record (atomically; the run is done from then on). */
export async function writeRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFileAtomic(recordPath(dir, record.spec.id), JSON.stringify(record) + "\n");
}

/**
 * Every record under `dir` (merging all shards), in file-name order.
 * @throws naming the file when a record is malformed
 */
export function readRecords(dir: string): RunRecord[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(`${dir}/records`)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.map((name) => {
    const path = `${dir}/records/${name}`;
    return parseRecord(Deno.readTextFileSync(path), path);
  });
}

/** The current git commit of the checkout at `root` (read from `.git`, no git binary needed), or `unknown`. */
export function gitCommit(root = "."): string {
  try {
    const head = Deno.readTextFileSync(`${root}/.git/HEAD`).trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    try {
      return Deno.readTextFileSync(`${root}/.git/${ref}`).trim();
    } catch {
      const packed = Deno.readTextFileSync(`${root}/.git/packed-refs`).split("\n").find((l) => l.endsWith(` ${ref}`));
      return packed?.split(" ")[0] ?? "unknown";
    }
  } catch {
    return "unknown";
  }
}
