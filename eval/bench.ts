/**
 * `deno task bench`: runs a suite (or a share of it) into a results directory, skipping finished runs, then writes
 * the report of everything the directory holds.
 * @module
 */
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_FLAGS, BACKEND_HELP, backendOptions, parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { writeReport } from "./report.ts";
import { executeRun, TrainedModels } from "./runner.ts";
import { readRecord } from "./store.ts";
import { settingLabel } from "./table.ts";
import {
  expandSuite,
  parseSettings,
  parseShard,
  parseSweep,
  type RunSpec,
  shardFromEnv,
  shardRuns,
  SUITES,
} from "./suite.ts";

const HELP = `deno task bench [--suite quick] [--tasks a,b] [--algos x,y] [--seeds 0,1,2] [--set section.key=value …]
  [--sweep section.key=v1,v2,… …] [--out DIR] [--shard i/n] [--dry-run] [--keep-checkpoints] [--no-report]

Runs every (task, algorithm, sweep setting, seed) of a suite, trains and evaluates each, and writes one record per
run to DIR/records (default DIR: results/<suite>). Runs whose record exists are skipped, so rerunning resumes; a run
killed halfway has no record and is redone. Then writes DIR/table.md, DIR/table.csv, figures and DIR/report.html
from every record in DIR (all shards); \`deno task report DIR\` does that step alone.

Options:
  --suite NAME        ${
  Object.entries(SUITES).map(([k, s]) => `${k}: ${s.description}`).join("\n                      ")
}
  --tasks LIST        only these tasks (registered: ${Object.keys(TASKS).join(", ")})
  --algos LIST        only these algorithms (registered: ${Object.keys(ALGORITHMS).join(", ")})
  --seeds LIST        training seeds instead of the suite's
  --set KEY=VALUE     a config override for every run, e.g. --set ilql.expectile=0.8 (repeatable; the algorithm's
                      own settings, e.g. BC's zero value-loss weights, still win)
  --sweep KEY=LIST    runs every value, e.g. --sweep decode.beta=1,4,8,16 (repeatable: the product of all sweeps)
  --out DIR           results directory (default results/<suite>)
  --shard I/N         run share I of N (0-based); default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or
                      JOB_COMPLETION_INDEX/ILQL_SHARD_COUNT. Shards may write to one directory at once.
  --dry-run           list the runs (and which are done) and exit without writing anything
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
    suite: { type: "string", default: "quick" },
    tasks: { type: "string" },
    algos: { type: "string" },
    seeds: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    sweep: { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    shard: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    "keep-checkpoints": { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
    ...BACKEND_FLAGS,
    help: { type: "boolean", default: false },
  }, {});
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const { values } = parsed;
  if (values.help) return console.log(HELP);
  const suite = SUITES[values.suite];
  if (!Object.hasOwn(SUITES, values.suite) || suite === undefined) {
    throw new UsageError(`unknown suite '${values.suite}' (${Object.keys(SUITES).join(", ")})`);
  }
  const seeds = seedList(values.seeds);
  let runs;
  try {
    runs = expandSuite(suite, {
      ...(values.tasks !== undefined ? { tasks: list(values.tasks, "tasks")! } : {}),
      ...(values.algos !== undefined ? { algorithms: list(values.algos, "algos")! } : {}),
      ...(seeds ? { seeds } : {}),
      set: parseSettings(values.set),
      ...(values.sweep.length > 0 ? { sweeps: values.sweep.map(parseSweep) } : {}),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const shard = values.shard !== undefined ? parseShardFlag(values.shard) : shardFromEnv((name) => Deno.env.get(name));
  const mine = shard ? shardRuns(runs, shard) : runs;
  const out = values.out ?? `results/${values.suite}`;
  const options = backendOptions(values);
  const shardText = shard ? `shard ${shard.index}/${shard.count}: ` : "";
  const done = new Set(mine.filter((r) => readRecord(out, r.id) !== null));
  console.log(`${shardText}${mine.length} of ${runs.length} runs, ${done.size} already done, results in ${out}`);
  if (values["dry-run"]) {
    for (const r of mine) console.log(`${r.id}  ${runName(r)}${done.has(r) ? "  (done)" : ""}`);
    return;
  }

  const backend = await initBackend(options);
  console.log(`backend: ${backend.summary}`);
  await runSuite(mine, out, { keepCheckpoints: values["keep-checkpoints"], report: !values["no-report"] });
}

/** A run's name in logs: task/algorithm, its sweep setting, its seed. */
export function runName(r: RunSpec): string {
  return [`${r.task}/${r.algorithm}`, settingLabel(r.setting), `seed ${r.seed}`].filter(Boolean).join(" ");
}

/**
 * Executes the runs that have no record in `out` yet (runs differing only in decoding share one training), then
 * writes the report of `out`. The backend must be initialised.
 */
export async function runSuite(
  runs: readonly RunSpec[],
  out: string,
  options: { keepCheckpoints?: boolean; report?: boolean } = {},
): Promise<void> {
  const todo = runs.filter((r) => readRecord(out, r.id) === null);
  const progress = new Progress(runs.length, runs.length - todo.length);
  const models = new TrainedModels(todo);
  for (const run of todo) {
    const name = runName(run);
    progress.start(name);
    const record = await executeRun(run, out, {
      keepCheckpoint: options.keepCheckpoints ?? false,
      models,
      // online algorithms log their iterations after the offline steps
      onLog: (r) =>
        progress.step(
          name,
          r.step,
          run.config.train.steps + (ALGORITHMS[run.algorithm]!.train ? run.config.ppo.iterations : 0),
          r.info["losses/total"]!,
        ),
    });
    progress.finish(
      `${name}: return ${record.eval.mean.toFixed(3)} ± ${record.eval.se.toFixed(3)} ` +
        `(${record.provenance.wallSeconds.toFixed(0)} s)`,
    );
  }
  if (options.report ?? true) {
    const written = await writeReport(out);
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

/** A progress bar on a terminal; plain log lines otherwise. */
class Progress {
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

  finish(line: string): void {
    this.#done++;
    if (this.#tty) Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[K"));
    console.log(`[${this.#done}/${this.total}] ${line}`);
  }
}

if (import.meta.main) await runMain(main);
