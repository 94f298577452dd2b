/**
 * Checks made before a suite spends any compute: that the results directory takes files, and that every run can
 * train (its config makes sense for its algorithm, its model can be built, its data passes the filter, fills a
 * batch and fits the context). A problem is one line naming the run and the key; nothing is written.
 * @module
 */
import { checkRunConfig } from "../baselines/algorithm.ts";
import { encodeTrainingEpisodes } from "../ilql/run.ts";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { datasetOf } from "./runner.ts";
import { hashOf, runName, type RunSpec } from "./suite.ts";

/** The write permissions `deno task bench` and the results commands are started with (deno.json). */
const TASK_WRITE_DIRS = "results/, runs/ and .cache/";

/**
 * Makes `dir/records` (or `dir` itself, for a starts directory) and writes and removes a probe file in it, so that an
 * unwritable directory is found before the first run trains rather than when its first file is written.
 * @throws one line naming the directory (as `flag` gives it) and why it cannot be written
 */
export function probeWritable(dir: string, flag: "--out" | "--starts" = "--out"): void {
  const target = flag === "--out" ? `${dir}/records` : dir;
  const probe = `${target}/.probe-${Deno.pid}`;
  try {
    Deno.mkdirSync(target, { recursive: true });
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0]!;
    const denied = (e as Error).name === "NotCapable" || /--allow-write/.test(reason);
    throw new Error(
      denied
        ? `${flag} ${dir}: outside this command's write permission (the deno tasks may write under ${TASK_WRITE_DIRS} only)`
        : `${flag} ${dir}: cannot write there (${reason})`,
    );
  }
}

/**
 * Checks every run: its evaluation budget, its algorithm's config check, its model shape, and its training data
 * (filtered and encoded as training will: episodes that exceed the context or a batch larger than the data fail
 * here). Datasets are made once per process, so this costs the data generation the runs need anyway.
 * @throws one line naming the run and the problem
 */
export function checkRuns(runs: readonly RunSpec[]): void {
  const encoded = new Map<string, number>();
  for (const run of runs) {
    try {
      if (!Number.isInteger(run.evalEpisodes) || run.evalEpisodes < 1) {
        throw new Error(`${run.evalEpisodes} evaluation episodes: a run needs at least one`);
      }
      if (run.datasetSize !== null && (!Number.isInteger(run.datasetSize) || run.datasetSize < 1)) {
        throw new Error(`dataset size ${run.datasetSize}: a run needs at least one training episode`);
      }
      const task = TASKS[run.task]!, algorithm = ALGORITHMS[run.algorithm]!;
      if (algorithm.train !== undefined && task.environments === undefined) {
        throw new Error(`${run.algorithm} plays the task online, and task '${run.task}' has no environment`);
      }
      const key = hashOf({ task: run.task, size: run.datasetSize, data: run.config.data, model: run.config.model });
      let count = encoded.get(key);
      if (count === undefined) {
        count = encodeTrainingEpisodes(datasetOf(run), task.tokenizer, run.config, `${run.task} dataset`)
          .length;
        encoded.set(key, count);
      }
      checkRunConfig(algorithm, run.config, task.tokenizer.vocabSize, count);
    } catch (e) {
      throw new Error(`${runName(run)}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}
