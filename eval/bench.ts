/**
 * `deno task bench`: runs a suite (or a share of it) into a results directory, skipping finished runs, then writes
 * the report of everything the directory holds.
 * @module
 */
import { existsSync } from "node:fs";
import { type BackendOptions, initBackend, PINNED_THREADS } from "../ilql/backend.ts";
import {
  BACKEND_FLAGS,
  BACKEND_HELP,
  backendOptions,
  parseCommandLine,
  positiveIntFlag,
  runMain,
  UsageError,
} from "../ilql/cli.ts";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { writeReport } from "./report.ts";
import { prepareStart } from "./runner.ts";
import {
  planSuite,
  pointLine,
  Progress,
  recordName,
  runSuite,
  shareGroups,
  startGroup,
  type SuiteOptions,
} from "./harness.ts";
import { loadAlgorithmModule, loadTaskModule, USER_TASK_BUDGET, withUserTasks } from "./modules.ts";
import { FILE_TASK_PREFIX, fileTask } from "./file_task.ts";
import { probeWritable } from "./preflight.ts";
import { recordDigest, startId, startPath, STARTS_DIR } from "./starts.ts";
import { CORRUPT_ADVICE, scanRecords } from "./store.ts";
import {
  expandSuite,
  parseSettings,
  parseShard,
  parseSweep,
  runName,
  type RunSpec,
  shardFromEnv,
  shardRuns,
  SUITES,
} from "./suite.ts";

const HELP =
  `deno task bench [--suite quick] [--task-module PATH.ts …] [--algo-module PATH.ts …] [--tasks a,b] [--algos x,y] [--seeds 0,1,2] [--set section.key=value …]
  [--sweep section.key=v1,v2,… …] [--out DIR] [--shard i/n] [--dry-run] [--allow-mixed] [--skip-corrupt]
  [--keep-checkpoints] [--no-report]

Runs every (task, algorithm, sweep setting, seed) of a suite, trains and evaluates each, and writes one record per
run to DIR/records (default DIR: results/<suite>). Runs whose record exists are skipped, so rerunning resumes; a run
killed halfway has no record and is redone. Every run is checked before the first one trains (the directory takes
files; configs, model shapes and data make sense), and a directory never mixes configs silently. Then writes
DIR/table.md, DIR/table.csv, figures and DIR/report.html from every record in DIR (all shards); \`deno task report
DIR\` does that step alone.

Options:
  --suite NAME        ${
    Object.entries(SUITES).map(([k, s]) => `${k}: ${s.description}`).join("\n                      ")
  }
  --task-module PATH  registers the task a TypeScript module exports (\`name\`, \`task\`, optional \`budget\`;
                      see examples/): its runs alone unless --tasks names others too, in the suite 'own' (every
                      algorithm, seeds 0, 1, 2) unless --suite names another (repeatable)
  --algo-module PATH  registers the algorithm a TypeScript module exports (\`name\`, \`algorithm\`); it runs beside
                      the registered ones unless --algos narrows them (repeatable)
  --tasks LIST        only these tasks; file:PATH.jsonl is a task made from your own episodes (format:
                      docs/episode.schema.json; scored by held-out likelihood, or by play with an environment
                      module its header names), in the suite 'own' unless --suite names another.
                      Registered: ${Object.keys(TASKS).join(", ")}
  --algos LIST        only these algorithms (registered: ${Object.keys(ALGORITHMS).join(", ")})
  --seeds LIST        training seeds instead of the suite's
  --set KEY=VALUE     a config override for every run, e.g. --set ilql.expectile=0.8 (repeatable; the algorithm's
                      own settings, e.g. BC's zero value-loss weights, still win)
  --sweep KEY=LIST    runs every value, e.g. --sweep decode.beta=1,4,8,16 (repeatable: the product of all sweeps)
  --dataset-size N    every run's dataset size instead of the suite's (games; lava: iterations); part of each
                      run's and start's identity
  --out DIR           results directory (default results/<suite>)
  --shard I/N         run share I of N (0-based); default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or
                      JOB_COMPLETION_INDEX/ILQL_SHARD_COUNT. Shards may write to one directory at once.
  --dry-run           list the runs (and which are done or have a corrupt record) and exit without writing anything
  --allow-mixed       write into DIR although it holds runs of the same task, algorithm and setting made with
                      another config (e.g. other --set values); the table keeps them as separate rows named by the
                      keys they differ in. Without it such a bench stops before training
  --skip-corrupt      leave corrupt record files out of the tables and redo their runs (each corrupt file is kept,
                      renamed to *.json.corrupt); without it a corrupt record stops the bench with its name
  --jobs N            run N runs side by side in worker processes (shards of this invocation), each with its share
                      of the cores as threads unless --threads says otherwise. Default: one job per core, at most
                      one per group of runs left to do (runs sharing a start or a training are one group); 1 with
                      --shard. Two 1-thread jobs did 2.4x the steps per hour of one 2-thread run on 2 cores
  --stack-seeds       runs that differ only in their seed train as one computation, S models stacked on a leading
                      axis (offline algorithms without dropout; each seed equals its run alone to float rounding,
                      not bit for bit, so a resumed or sharded bench may differ in the last digits). Off by default:
                      on 2 cores it measured no faster per seed for Wordle's model than one seed after another,
                      and one 1-thread job per core stays the fastest (results/speed.md)
  --starts DIR        where shared starts (start.steps > 0) are kept and found (default: the suite's committed
                      starts, results/<suite>/starts for quick, paper and dialogue; else ${STARTS_DIR}). Each start's
                      weights digest is recorded beside it (<id>.weights.sha256) and checked whenever it is read
  --starts-only       train the missing shared starts of the selected runs and stop (no fine-tuning, no report): a
                      deleted committed start is regenerated byte for byte (same code, pinned kernels, 1 thread)
                      and checked against its recorded digest; a start without a digest gets one
  --keep-checkpoints  keep each run's final checkpoint in DIR/runs/<id>/
  --no-report         skip writing the report
${BACKEND_HELP}
  --help              this text

Config keys for --set and --sweep: see \`deno task demo --help\`.`;

/** A comma-separated flag's items (undefined when the flag is absent); an empty item is a usage error. */
export function list(raw: string | undefined, what: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`--${what} has an empty item in '${raw}'`);
  return items;
}

/** The `--seeds` flag's integers (undefined when absent). */
export function seedList(raw: string | undefined): number[] | undefined {
  return list(raw, "seeds")?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new UsageError(`--seeds must be integers, got '${s}'`);
    return n;
  });
}

async function main() {
  const parsed = parseCommandLine(Deno.args, {
    suite: { type: "string" },
    "task-module": { type: "string", multiple: true, default: [] },
    "algo-module": { type: "string", multiple: true, default: [] },
    tasks: { type: "string" },
    algos: { type: "string" },
    seeds: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    sweep: { type: "string", multiple: true, default: [] },
    "dataset-size": { type: "string" },
    out: { type: "string" },
    shard: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    "allow-mixed": { type: "boolean", default: false },
    "skip-corrupt": { type: "boolean", default: false },
    "keep-checkpoints": { type: "boolean", default: false },
    starts: { type: "string" },
    "starts-only": { type: "boolean", default: false },
    jobs: { type: "string" },
    "stack-seeds": { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
    ...BACKEND_FLAGS,
    help: { type: "boolean", default: false },
  }, {});
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const { values } = parsed;
  if (values.help) return console.log(HELP);
  // the user's modules join the registry before anything names a task or an algorithm
  const userTasks = [];
  for (const path of values["task-module"]) userTasks.push(await loadTaskModule(path));
  for (const path of values["algo-module"]) await loadAlgorithmModule(path);
  // --tasks file:PATH.jsonl: a task made from the user's episodes, read and checked before anything trains
  for (const item of list(values.tasks, "tasks") ?? []) {
    if (!item.startsWith(FILE_TASK_PREFIX) || Object.hasOwn(TASKS, item)) continue;
    const { name, task } = await fileTask(item.slice(FILE_TASK_PREFIX.length));
    TASKS[name] = task;
    userTasks.push({ name, budget: USER_TASK_BUDGET });
  }
  const suiteName = values.suite ?? (userTasks.length > 0 ? "own" : "quick");
  if (!Object.hasOwn(SUITES, suiteName)) {
    throw new UsageError(`unknown suite '${suiteName}' (${Object.keys(SUITES).join(", ")})`);
  }
  const suite = withUserTasks(SUITES[suiteName]!, userTasks);
  const seeds = seedList(values.seeds);
  let runs;
  try {
    runs = expandSuite(suite, {
      ...(values.tasks !== undefined
        ? { tasks: list(values.tasks, "tasks")! }
        // a user's tasks run alone unless --tasks names others too
        : userTasks.length > 0
        ? { tasks: userTasks.map((t) => t.name) }
        : {}),
      ...(values.algos !== undefined ? { algorithms: list(values.algos, "algos")! } : {}),
      ...(seeds ? { seeds } : {}),
      set: parseSettings(values.set),
      ...(values.sweep.length > 0 ? { sweeps: values.sweep.map(parseSweep) } : {}),
      ...(values["dataset-size"] !== undefined
        ? { datasetSize: positiveIntFlag(values["dataset-size"], "--dataset-size") }
        : {}),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stackSeeds = values["stack-seeds"];
  const shard = values.shard !== undefined ? parseShardFlag(values.shard) : shardFromEnv((name) => Deno.env.get(name));
  const mine = shard ? shardRuns(runs, shard, shareGroups(runs, shard.count, stackSeeds)) : runs;
  const out = values.out ?? `results/${suiteName}`;
  const startsDir = values.starts ?? suite.starts ?? STARTS_DIR;
  const options = backendOptions(values);
  if (values["starts-only"]) return await makeStarts(mine, startsDir, shard !== null, values.jobs, options);
  const shardText = shard ? `shard ${shard.index}/${shard.count}: ` : "";
  // the directory is read once: for this line, the dry run and the plan
  const scan = scanRecords(out);
  const finished = new Set(scan.records.map((r) => r.spec.id));
  const corruptOf = new Map(scan.corrupt.map((c) => [recordName(c), c]));
  const done = mine.filter((r) => finished.has(r.id)).length;
  console.log(`${shardText}${mine.length} of ${runs.length} runs, ${done} already done, results in ${out}`);
  if (values["dry-run"]) {
    for (const r of mine) {
      const corrupt = corruptOf.get(`${r.id}.json`);
      const note = finished.has(r.id) ? "  (done)" : corrupt ? `  (corrupt record: ${corrupt.reason})` : "";
      console.log(`${r.id}  ${runName(r)}${note}`);
    }
    const { corrupt } = scan;
    if (corrupt.length > 0) {
      console.log(
        `${corrupt.length} corrupt record file(s): ${corrupt.map((c) => c.path).join(", ")}; ${CORRUPT_ADVICE}`,
      );
    }
    return;
  }
  const suiteOptions: SuiteOptions = {
    keepCheckpoints: values["keep-checkpoints"],
    report: !values["no-report"],
    allowMixed: values["allow-mixed"],
    skipCorrupt: values["skip-corrupt"],
    startsDir,
    stackSeeds,
  };
  const jobs = values.jobs === undefined ? null : positiveIntFlag(values.jobs, "--jobs");
  if (jobs !== null && jobs > 1 && shard !== null) {
    throw new UsageError("--jobs splits the runs into shards itself; drop --shard");
  }
  // everything that can fail without compute fails before the backend starts
  const plan = planSuite(mine, out, suiteOptions, scan);
  const pendingGroups = new Set(plan.todo.map(startGroup)).size;
  const jobCount = jobs ??
    (shard !== null ? 1 : Math.max(1, Math.min(navigator.hardwareConcurrency || 1, pendingGroups)));
  if (jobCount > 1) {
    const pinned = options.kernels === "pinned";
    return await runJobs(jobCount, values.threads, pinned, out, startsDir, !values["no-report"], suiteOptions);
  }
  const backend = await initBackend(options);
  console.log(`backend: ${backend.summary}`);
  await runSuite(mine, out, { ...suiteOptions, plan });
}

/**
 * `--starts-only`: trains the shared starts of `runs` that are missing (in worker processes, one per core, when there
 * are several and no shard is given), checks each against its recorded weights digest, records the digest of a start
 * that has none, and prints each start's digest.
 */
async function makeStarts(
  runs: readonly RunSpec[],
  dir: string,
  sharded: boolean,
  jobsFlag: string | undefined,
  options: BackendOptions,
): Promise<void> {
  const firsts = [...new Map(runs.flatMap((r) => {
    const id = startId(r);
    return id === null ? [] : [[id, r] as const];
  })).values()];
  if (firsts.length === 0) throw new UsageError("--starts-only: none of these runs has a shared start (start.steps 0)");
  const missing = firsts.filter((r) => !existsSync(startPath(dir, startId(r)!))).length;
  const jobs = jobsFlag === undefined
    ? (sharded ? 1 : Math.max(1, Math.min(navigator.hardwareConcurrency || 1, missing)))
    : positiveIntFlag(jobsFlag, "--jobs");
  if (jobs > 1) {
    if (sharded) throw new UsageError("--jobs splits the runs into shards itself; drop --shard");
    const threads = options.threads === undefined ? undefined : String(options.threads);
    return await runJobs(jobs, threads, options.kernels === "pinned", dir, dir, false, {});
  }
  probeWritable(dir, "--starts");
  const backend = await initBackend(options);
  console.log(`backend: ${backend.summary}; ${firsts.length} start(s) in ${dir}, ${missing} to train`);
  const progress = new Progress(firsts.length, 0);
  for (const run of firsts) {
    const id = startId(run)!, name = `start ${id} (${run.task} seed ${run.seed})`;
    if (!existsSync(startPath(dir, id))) progress.start(name);
    const start = await prepareStart(run, {
      startsDir: dir,
      onStartLog: (r) => progress.step(name, r.step, run.config.start.steps, r.info["losses/total"]!),
      onEval: (p) => progress.note(`${name}: ${pointLine(p)}`),
    });
    await recordDigest(dir, id, start.digest);
    progress.finish(`${name}: weights sha256 ${start.digest}`);
  }
}

/**
 * `--jobs N`: this invocation's runs as N shards in worker processes side by side (each with ⌊cores / N⌋ threads
 * unless `--threads` is given), then the report of everything in `out`.
 * @throws when a worker fails
 */
async function runJobs(
  jobs: number,
  threads: string | undefined,
  pinned: boolean,
  out: string,
  starts: string,
  report: boolean,
  options: SuiteOptions,
): Promise<void> {
  // pinned kernels fix the thread count (it changes the digits); native ones share the cores out
  const perJob = threads ??
    String(pinned ? PINNED_THREADS : Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / jobs)));
  const args = Deno.args.filter((a, i, all) => a !== "--jobs" && all[i - 1] !== "--jobs" && !a.startsWith("--jobs="))
    .filter((a, i, all) => a !== "--threads" && all[i - 1] !== "--threads" && !a.startsWith("--threads="));
  console.log(`${jobs} jobs, ${perJob} thread(s) each`);
  const statuses = await Promise.all(Array.from({ length: jobs }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--config=${new URL("../deno.json", import.meta.url).pathname}`,
        "--allow-read",
        `--allow-write=${out},${starts},.cache`,
        "--allow-sys",
        "--allow-ffi",
        "--allow-env",
        new URL("./bench.ts", import.meta.url).pathname,
        ...args,
        "--shard",
        `${i}/${jobs}`,
        "--threads",
        perJob,
        "--no-report",
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status));
  const failed = statuses.map((s, i) => [s, i] as const).filter(([s]) => !s.success).map(([, i]) => i);
  if (failed.length > 0) throw new Error(`job(s) ${failed.join(", ")} of ${jobs} failed; rerun to resume`);
  if (report) {
    const written = await writeReport(out, { skipCorrupt: options.skipCorrupt ?? false });
    console.log(`wrote ${written.join(", ")}`);
  }
}

function parseShardFlag(text: string) {
  try {
    return parseShard(text);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

if (import.meta.main) await runMain(main);
