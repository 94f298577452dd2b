/**
 * What the `results:*` commands that run a harness suite share: their flags, the suite's runs narrowed by
 * `--algos`/`--seeds`, and the per-algorithm return cells of their tables.
 * @module
 */
import { BACKEND_FLAGS, UsageError } from "../ilql/cli.ts";
import { list, seedList } from "../eval/bench.ts";
import { TASKS } from "../eval/registry.ts";
import { type SpeedRow, trainingSpeed } from "../eval/speed.ts";
import { bootstrapMean, type SeedSummary } from "../eval/stats.ts";
import type { RunRecord } from "../eval/store.ts";
import { expandSuite, type RunSpec, SUITES } from "../eval/suite.ts";

/** Flags of a results command. */
export const RESULTS_FLAGS = {
  algos: { type: "string" },
  seeds: { type: "string" },
  "no-run": { type: "boolean", default: false },
  "no-speed": { type: "boolean", default: false },
  ...BACKEND_FLAGS,
  help: { type: "boolean", default: false },
} as const;

/**
 * The runs of a suite (of `tasks`, when given), narrowed by `--algos a,b` and `--seeds 0,1`; a bad value is a usage
 * error.
 */
export function suiteRuns(suite: string, values: { algos?: string; seeds?: string }, tasks?: string[]): RunSpec[] {
  const algorithms = list(values.algos, "algos"), seeds = seedList(values.seeds);
  try {
    return expandSuite(SUITES[suite]!, {
      ...(tasks ? { tasks } : {}),
      ...(algorithms ? { algorithms } : {}),
      ...(seeds ? { seeds } : {}),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Fixed decimals; "–" for a missing or non-finite value. */
export const fixed = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));

/**
 * The return cells of one algorithm's runs: each seed's mean ± s.e. over episodes, and the mean over seeds with
 * its 95 % bootstrap interval.
 */
export function returnCells(
  group: readonly RunRecord[],
): { perSeed: string; overSeeds: string; mean: number; summary: SeedSummary } {
  const s = bootstrapMean(group.map((r) => r.eval.mean));
  return {
    perSeed: group.map((r) => `${fixed(r.eval.mean)} ± ${fixed(r.eval.se)}`).join("; "),
    overSeeds: `${fixed(s.mean)} [${fixed(s.low)}, ${fixed(s.high)}]`,
    mean: s.mean,
    summary: s,
  };
}

/**
 * Training speed of every algorithm of a suite, each alone on one of its tasks with the suite's seed-0 config
 * (steps 50 → 250 of a fresh run; PPO: seconds per iteration).
 */
export async function suiteSpeed(suite: string, task: string): Promise<SpeedRow[]> {
  const definition = TASKS[task]!;
  const episodes = definition.dataset(undefined, 0);
  const rows: SpeedRow[] = [];
  for (const run of expandSuite(SUITES[suite]!, { tasks: [task], seeds: [0] })) {
    rows.push(
      await trainingSpeed(
        run.algorithm,
        run.config,
        episodes,
        definition.tokenizer,
        definition.environments,
        definition.recentWindow === true,
      ),
    );
    console.log(`speed ${run.algorithm}: ${JSON.stringify(rows.at(-1))}`);
  }
  return rows;
}
