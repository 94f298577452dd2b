/**
 * Executes runs: data → training → evaluation → record. One trainer (`trainIlql`) and one evaluator (the task's)
 * for every algorithm and task.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import process from "node:process";
import { backendInfo } from "../ilql/backend.ts";
import { datasetReturn } from "../ilql/data.ts";
import { textPolicy } from "../ilql/decode.ts";
import { trainIlql } from "../ilql/run.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { meanSe } from "./stats.ts";
import { TASKS } from "./registry.ts";
import { gitCommit, runDir, type RunRecord, writeRecord } from "./store.ts";
import { hashOf, type RunSpec } from "./suite.ts";

/** Options of {@link executeRun}. */
export interface ExecuteOptions {
  /** Keep the final checkpoint in the run's directory (default: removed once the record is written). */
  keepCheckpoint?: boolean;
  onLog?: (record: LogRecord) => void;
}

/**
 * Trains and evaluates one run and writes its record. A run killed halfway leaves no record, so it is redone from
 * the start next time (deterministically: the same seed gives the same run).
 */
export async function executeRun(spec: RunSpec, dir: string, options: ExecuteOptions = {}): Promise<RunRecord> {
  const started = performance.now();
  const task = TASKS[spec.task]!;
  const data = task.dataset(spec.datasetSize ?? undefined, 0);
  const checkpointPath = `${runDir(dir, spec.id)}/checkpoint.safetensors`;
  const history: LogRecord[] = [];
  const { state } = await trainIlql(data, task.tokenizer, spec.config, {
    source: `${spec.task} dataset`,
    checkpointPath,
    onLog: (r) => {
      history.push(r);
      options.onLog?.(r);
    },
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const evalStarted = performance.now();
  const result = task.evaluate(textPolicy(state.model, task.tokenizer, spec.config.decode), spec.evalEpisodes, 0);
  const evalSeconds = (performance.now() - evalStarted) / 1000;
  state.optimizer.dispose();
  state.model.dispose();
  const { mean, se } = meanSe(result.returns);
  const record: RunRecord = {
    spec,
    configHash: hashOf(spec.config),
    datasetReturn: datasetReturn(data),
    anchors: task.anchors(),
    eval: { returns: result.returns, mean, se, metrics: result.metrics, seconds: evalSeconds },
    history,
    provenance: {
      commit: gitCommit(),
      deno: Deno.version.deno,
      tfjs: tf.version_core,
      backend: backendInfo()?.summary ?? "unknown",
      trainSeconds,
      wallSeconds: (performance.now() - started) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      finished: new Date().toISOString(),
    },
  };
  await writeRecord(dir, record);
  if (!options.keepCheckpoint) await Deno.remove(runDir(dir, spec.id), { recursive: true }).catch(() => {});
  return record;
}
