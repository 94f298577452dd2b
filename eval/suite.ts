/**
 * Benchmark suites: which tasks, algorithms, seeds and budgets a sweep runs, expanded into runs with stable ids.
 * A run is (task, algorithm, resolved config, seed, dataset size, evaluation episodes); its id is a hash of those,
 * so the same run has the same id in every process, shard and session.
 * @module
 */
import { createHash } from "node:crypto";
import { parseOverrides } from "../ilql/config.ts";
import { mergeOverrides, type Overrides, RUN_SECTIONS, type RunConfig, runConfig } from "../baselines/algorithm.ts";
import { ALGORITHMS, TASKS } from "./registry.ts";

/** A task's budget within a suite. */
export interface SuiteTask {
  /** Training episodes drawn from the task's data (the task's default when absent). */
  datasetSize?: number;
  /** Evaluation episodes per run. */
  evalEpisodes: number;
  /** Config over the task's defaults (train steps, batch size, …). */
  config: Overrides;
  /** Config of one algorithm's runs of this task, over `config` (e.g. PPO's iteration budget), by algorithm name. */
  algorithmConfig?: Record<string, Overrides>;
  /** Sweeps of one algorithm's runs of this task, by algorithm name, besides the suite's (e.g. BC decoded both ways). */
  algorithmSweeps?: Record<string, Sweep[]>;
  /** The algorithms run on this task (the suite's, narrowed by `--algos`, when absent). */
  algorithms?: string[];
}

/** A declared sweep. */
export interface Suite {
  description: string;
  tasks: Record<string, SuiteTask>;
  /** Algorithm names (every registered one when absent). */
  algorithms?: string[];
  seeds: number[];
  /** Sweeps every run of the suite takes part in (`--sweep` replaces them). */
  sweeps?: Sweep[];
  /** Where the suite's shared starts are kept, when they are committed with it (`--starts` overrides). */
  starts?: string;
}

/**
 * The dialogue task trained to competence: a shared BC start per seed (one for the three reward variants, which
 * label the same dialogues), then each algorithm fine-tuned from it. Behaviour cloning from scratch (width 64, 2
 * layers, 20,000 games, batch 16, lr 2e-3, seed 0) was still improving at 6,000 steps (validation return −19.1 at
 * 1,000, −8.1 at 6,000); width 128 with 3 layers learned no faster per step at about twice the cost. A 20,000-step
 * start left BC 4.0 below its data (−7.12 against −3.11). Length-bucketed batches (`train.lengthPool`, a random batch
 * is half padding) train 1.7 times as fast, and ending the start on a 20,000-step cosine decay of its rate moved
 * seed 0's BC from −4.89 (51,000 constant steps) to −4.09 (61,000 + 20,000), its held-out likelihood still falling
 * slowly at the end of the constant phase (`results/dialogue-probes/`). The fine-tunings decay along a cosine from
 * the same 2e-3: at 5e-4 ILQL's fresh value heads learned too little in 2,000 steps (−7.01 against −2.07).
 */
const DIALOGUE_BUDGET: SuiteTask = {
  datasetSize: 50_000,
  evalEpisodes: 1024,
  config: {
    start: { steps: 81_000, lr: 2e-3, decaySteps: 20_000 },
    optim: { schedule: "cosine" },
    train: { steps: 2000, evalEvery: 1000, validationEpisodes: 128, lengthPool: 16 },
  },
  // PPO's iterations are cheap here (32 games each); a larger policy step than the default 1e-5
  algorithmConfig: { ppo: { train: { steps: 0 }, ppo: { iterations: 40, valueWarmup: 5, lr: 1e-4 } } },
  // every method samples its questions (value methods through β); the cloning methods and PPO are also decoded
  // greedily, as the paper's evaluation: both rows, one training
  algorithmSweeps: Object.fromEntries(
    ["bc", "filtered-bc", "ppo"].map((a) => [a, [{ key: "decode.method", values: ["sample", "greedy"] }]]),
  ),
};

/** The algorithms that learn Q and V and decode with them. */
const VALUE_METHODS = ["ilql", "single-step", "mc-returns", "cql"];

/**
 * Per value method, the Wordle suites' config: fresh value heads on a BC start decode best at a small β (β 16 was
 * harmful in ../shared/notes/learning.md), plus a dataset's own settings for that method.
 */
function valueMethodConfigs(own: (algorithm: string) => Record<string, unknown> = () => ({})) {
  return Object.fromEntries(VALUE_METHODS.map((a) => [a, { decode: { beta: 4 }, ...own(a) }]));
}

/**
 * PPO plays from the shared BC start itself (no further offline steps): 800 iterations of 64 games, where its sampled
 * return had nearly flattened (−3.60 at 300, −3.43 at 500, −3.35 at 750 on the habit data, `results/ppo-budget`); 100
 * iterations after 12,000 more BC steps left it rising. Its validation curve has a point every 100 iterations.
 */
const PPO_FROM_START = { train: { steps: 0 }, ppo: { iterations: 800, evalEvery: 100 } };

/** Wordle trained to competence: a shared BC start per seed, then each algorithm fine-tuned with learning curves. */
const WORDLE_TO_COMPETENCE: SuiteTask = {
  datasetSize: 50_000,
  evalEpisodes: 1024,
  config: {
    start: { steps: 18_000, lr: 1e-3 },
    optim: { lr: 3e-4 },
    train: { steps: 12_000, evalEvery: 1000, validationEpisodes: 256 },
  },
  algorithmConfig: { ...valueMethodConfigs(), ppo: PPO_FROM_START },
  // the reference samples from BC; greedy decoding of a mixture drops its worst moves: both rows, one training
  // (PPO trains a sampling policy, so it has both rows too)
  algorithmSweeps: Object.fromEntries(
    ["bc", "filtered-bc", "ppo"].map((a) => [a, [{ key: "decode.method", values: ["greedy", "sample"] }]]),
  ),
};

/**
 * The mixed data: value methods in the `separate` layout, whose policy trains exactly as BC does. In the shared trunk
 * the value losses slowed the policy head and cost ILQL 0.33 against greedy BC's own start (`results/layout-probe`).
 */
const WORDLE_MIXED: SuiteTask = {
  ...WORDLE_TO_COMPETENCE,
  algorithmConfig: {
    ...WORDLE_TO_COMPETENCE.algorithmConfig,
    ...valueMethodConfigs(() => ({ model: { layout: "separate" } })),
  },
};

/**
 * The lava data (the paper's section 5) read through values: the value methods learn values of their own (`separate`
 * layout), clipped at 0 as the reference's Q-ranking config does (every reward is ≤ 0; unclipped, an expectile near 1
 * ratchets them upwards), and ILQL's expectile is 0.99, the one at which even the data's exact values rank the expert's
 * opening first (0.97 of pairs; 0.53 at 0.9): `results/lava-separate`. Their learning rate decays to 0 along a cosine:
 * under a constant rate ILQL's ranking wobbled around 0.9 and seed 1 ended in a dip (0.86); decayed, every seed holds
 * its plateau to the end (0.91–0.92, `results/lava-cosine`).
 */
const WORDLE_LAVA: SuiteTask = {
  ...WORDLE_TO_COMPETENCE,
  // 5,000 iterations: about 48,500 games (5,000 expert, 25,000 mixture, 18,500 lava continuations)
  datasetSize: 5000,
  algorithmConfig: {
    ...WORDLE_TO_COMPETENCE.algorithmConfig,
    ...valueMethodConfigs((a) => ({
      model: { layout: "separate", valueMax: 0 },
      optim: { schedule: "cosine" },
      ...(a === "ilql" ? { ilql: { expectile: 0.99 } } : {}),
    })),
  },
};

/**
 * Habit Wordle in minutes: the paper suite's BC starts (trained at this code and committed in `results/quick/starts`),
 * each method fine-tuned 1,000 steps, where ILQL's validation return had already risen from the start's −4.9 to about
 * −3.3 (the paper suite's curves) while greedy BC stays at the habit's −4.6.
 */
const WORDLE_QUICK: SuiteTask = {
  ...WORDLE_TO_COMPETENCE,
  evalEpisodes: 256,
  config: { ...WORDLE_TO_COMPETENCE.config, train: { ...WORDLE_TO_COMPETENCE.config.train, steps: 1000 } },
  algorithms: ["bc", "filtered-bc", "single-step", "ilql"],
};

/**
 * The toxicity tasks' budget, from learning curves on the noised reward (seed 0, 3,000 steps, 256 parents every 300,
 * `results/toxicity-curves`): BC, single-step and ILQL have no trend after step 600 (their points scatter within about
 * two standard errors: BC −1.6 to −2.3, single-step 0 to −0.5, ILQL −0.35 to −1.4, −0.55 at 3,000); filtered BC still
 * drifts up slowly (−0.82 at 600, −0.6 at 2,700–3,000). 1,000 steps, with a validation point every 250.
 */
const TOXICITY_BUDGET: SuiteTask = {
  evalEpisodes: 1024,
  config: { train: { steps: 1000, evalEvery: 250, validationEpisodes: 256 } },
};

/**
 * On the two lexicon rewards ILQL and single-step learn at 3e-4 with the paper's slow target (polyak 0.005): at the
 * task's 1e-3 and 0.05, ILQL's validation curve peaked by step 250 and fell on every seed (noised, seed 0: −0.04 at
 * 250, −1.05 at 750, −0.82 at 1,000); at 3e-4 and 0.005 it rises and stays (−0.39, −0.16, −0.20 at 500 / 750 / 1,000),
 * where 3e-4 with polyak 0.05 collapsed again by step 1,000 (−2.27; `results/toxicity-probes/lr`). Not on upvotes:
 * there the same change took ILQL's validation return from 9.96 at step 1,000 to 2.31 (seed 0), so that reward keeps
 * the task's settings.
 */
const LEXICON_BUDGET: SuiteTask = {
  ...TOXICITY_BUDGET,
  algorithmConfig: Object.fromEntries(
    ["ilql", "single-step"].map((a) => [a, { optim: { lr: 3e-4 }, ilql: { polyak: 0.005 } }]),
  ),
};

/** The declared suites. */
export const SUITES: Record<string, Suite> = {
  quick: {
    description: "the ridge diagnostic (every algorithm) and habit Wordle fine-tuned 1,000 steps from committed BC " +
      "starts; three seeds (about 12 minutes on 2 cores)",
    tasks: { ridge: { evalEpisodes: 256, config: {} }, "wordle-habit": WORDLE_QUICK },
    seeds: [0, 1, 2],
    starts: "results/quick/starts",
  },
  paper: {
    description: "Wordle to competence (mixed, habit and lava data): a shared 18,000-step BC start per seed on " +
      "~50,000 games, then each algorithm fine-tuned 12,000 steps with learning curves; three seeds, 1,024 games",
    tasks: {
      stitch: { evalEpisodes: 16, config: { train: { steps: 300 } } },
      wordle: WORDLE_MIXED,
      "wordle-habit": WORDLE_TO_COMPETENCE,
      "wordle-lava": WORDLE_LAVA,
    },
    seeds: [0, 1, 2],
    starts: "results/paper/starts",
  },
  toxicity: {
    description: "the toxicity task's three rewards (lexicon, noised, upvotes), every algorithm, three seeds",
    tasks: {
      toxicity: LEXICON_BUDGET,
      "toxicity-noised": LEXICON_BUDGET,
      "toxicity-upvotes": TOXICITY_BUDGET,
    },
    seeds: [0, 1, 2],
  },
  "toxicity-beta": {
    description:
      "ILQL's reward and fluency against β on the toxicity rewards (one training per seed, decoded at each β)",
    tasks: {
      toxicity: LEXICON_BUDGET,
      "toxicity-noised": LEXICON_BUDGET,
      "toxicity-upvotes": TOXICITY_BUDGET,
    },
    algorithms: ["ilql"],
    seeds: [0],
    sweeps: [{ key: "decode.beta", values: [0, 1, 2, 4, 8, 16, 32] }],
  },
  dialogue: {
    description: "the hidden-country dialogue task's three reward variants, every algorithm, three seeds",
    tasks: {
      dialogue: DIALOGUE_BUDGET,
      "dialogue-yn": DIALOGUE_BUDGET,
      "dialogue-conservative": DIALOGUE_BUDGET,
    },
    seeds: [0, 1, 2],
    starts: "results/dialogue/starts",
  },
  own: {
    description: "your own tasks only (--task-module): every algorithm at each task's defaults, three seeds",
    tasks: {},
    seeds: [0, 1, 2],
  },
  smoke: {
    description: "a seconds-long check of the harness itself (the stitch task, tiny budget, two seeds)",
    tasks: {
      stitch: {
        datasetSize: 200,
        evalEpisodes: 4,
        config: {
          train: { steps: 30, batchSize: 16 },
          ppo: { iterations: 2, episodes: 8, minibatch: 8, valueWarmup: 0 },
        },
      },
    },
    seeds: [0, 1],
  },
};

/** One run of a suite. */
export interface RunSpec {
  /** Hash of everything below: the run's identity. */
  id: string;
  task: string;
  algorithm: string;
  seed: number;
  datasetSize: number | null;
  evalEpisodes: number;
  /** The values of the sweep this run belongs to (`section.key` → value); empty without a sweep. */
  setting: Record<string, unknown>;
  config: RunConfig;
  /** The task's `dataVersion`, when it declares one (absent otherwise, so older identities stay as they were). */
  dataVersion?: string;
}

/** A sweep over one config key. */
export interface Sweep {
  key: string;
  values: unknown[];
}

/** Options that narrow or change a suite. */
export interface ExpandOptions {
  tasks?: string[];
  algorithms?: string[];
  seeds?: number[];
  /** `--set` overrides applied to every run (below the algorithm's own preset). */
  set?: Overrides;
  sweeps?: Sweep[];
  /** Dataset size of every run instead of the suite's (the `--dataset-size` flag; games, or iterations for lava). */
  datasetSize?: number;
}

/**
 * Parses `section.key=value` settings (the `--set` flag).
 * @throws naming the setting when the key is unknown or the value has the wrong type
 */
export function parseSettings(settings: readonly string[]): Overrides {
  const args = settings.map((s) => {
    if (!/^[\w-]+\.[\w.-]+=/.test(s)) throw new Error(`--set expects section.key=value, got '${s}'`);
    return `--${s}`;
  });
  const { overrides, rest } = parseOverrides(RUN_SECTIONS, args);
  if (rest.length > 0) throw new Error(`--set: unknown config section in '${rest[0]!.slice(2)}'`);
  return overrides;
}

/**
 * Parses `section.key=v1,v2,…` (the `--sweep` flag).
 * @throws naming the sweep when it is malformed, the key unknown or a value of the wrong type
 */
export function parseSweep(text: string): Sweep {
  const m = /^([\w-]+\.[\w.-]+)=(.+)$/.exec(text);
  if (m === null) throw new Error(`--sweep expects section.key=v1,v2,…, got '${text}'`);
  const [, key, list] = m as unknown as [string, string, string];
  const raw = list.split(",");
  if (raw.some((v) => v.trim() === "")) throw new Error(`--sweep ${key}: empty value in '${list}'`);
  const values = raw.map((v) => {
    const parsed = parseSettings([`${key}=${v.trim()}`]);
    const [section, field] = key.split(/\.(.*)/s) as [string, string];
    return parsed[section]![field];
  });
  if (new Set(values.map((v) => JSON.stringify(v))).size !== values.length) {
    throw new Error(`--sweep ${key}: repeated value in '${list}'`);
  }
  return { key, values };
}

/** Canonical JSON: object keys sorted, so equal values hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A short stable hash of any JSON value. */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(canonical(value)).digest("hex").slice(0, 16);
}

/**
 * Config keys added after results were recorded, with the value that does what runs did before the key existed (no
 * learning curve, no shared start). A run's identity leaves such a key out while it holds that value, so adding a key
 * never orphans the records of runs it does not change; any other value is part of the identity.
 */
const NEUTRAL_LATER_KEYS: Record<string, Record<string, unknown>> = {
  train: { evalEvery: 0, validationEpisodes: 64, lengthPool: 1 },
  start: { steps: 0, lr: 1e-3, transitionWeight: 0, decaySteps: 0 },
  model: { valueMax: null, valueMin: null, init: "" },
  optim: { schedule: "constant", decaySteps: 0 },
  ppo: { evalEvery: 0 },
  ilql: { transitionWeight: 0 },
};

/**
 * The config as an identity sees it: the keys of `later` (default {@link NEUTRAL_LATER_KEYS}, a run's) left out while
 * they hold their neutral values.
 */
export function identityConfig(
  config: RunConfig | Record<string, Record<string, unknown>>,
  later: Record<string, Record<string, unknown>> = NEUTRAL_LATER_KEYS,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(config as Record<string, Record<string, unknown>>)) {
    const neutral = later[section] ?? {};
    const kept = Object.fromEntries(
      Object.entries(values).filter(([k, v]) => !(Object.hasOwn(neutral, k) && neutral[k] === v)),
    );
    if (Object.keys(kept).length > 0 || Object.keys(neutral).length === 0) out[section] = kept;
  }
  return out;
}

/**
 * Expands a suite into runs, in a fixed order (task, algorithm, sweep setting, seed).
 * @throws naming the unknown task or algorithm, or the bad config key
 */
export function expandSuite(suite: Suite, options: ExpandOptions = {}): RunSpec[] {
  const taskNames = options.tasks ?? Object.keys(suite.tasks);
  for (const t of taskNames) {
    if (!Object.hasOwn(TASKS, t)) throw new Error(`unknown task '${t}' (registered: ${Object.keys(TASKS).join(", ")})`);
    if (!Object.hasOwn(suite.tasks, t)) throw new Error(`task '${t}' has no budget in this suite`);
  }
  const algorithms = options.algorithms ?? suite.algorithms ?? Object.keys(ALGORITHMS);
  for (const a of algorithms) {
    if (!Object.hasOwn(ALGORITHMS, a)) {
      throw new Error(`unknown algorithm '${a}' (registered: ${Object.keys(ALGORITHMS).join(", ")})`);
    }
  }
  for (const t of taskNames) {
    const budget = suite.tasks[t]!;
    for (
      const a of [
        ...Object.keys(budget.algorithmConfig ?? {}),
        ...Object.keys(budget.algorithmSweeps ?? {}),
        ...budget.algorithms ?? [],
      ]
    ) {
      if (!Object.hasOwn(ALGORITHMS, a)) throw new Error(`task '${t}': algorithm '${a}' in its budget is unknown`);
    }
  }
  const seeds = options.seeds ?? suite.seeds;
  const sweeps = options.sweeps ?? suite.sweeps ?? [];
  const runs: RunSpec[] = [];
  for (const task of taskNames) {
    const budget = suite.tasks[task]!;
    for (const algorithm of algorithms.filter((a) => budget.algorithms?.includes(a) ?? true)) {
      // every combination of the sweeps' values
      let settings: Array<Record<string, unknown>> = [{}];
      for (const sweep of [...sweeps, ...budget.algorithmSweeps?.[algorithm] ?? []]) {
        settings = settings.flatMap((s) => sweep.values.map((v) => ({ ...s, [sweep.key]: v })));
      }
      for (const setting of settings) {
        const swept: Overrides = {};
        for (const [key, value] of Object.entries(setting)) {
          const [section, field] = key.split(/\.(.*)/s) as [string, string];
          (swept[section] ??= {})[field] = value;
        }
        for (const seed of seeds) {
          const config = runConfig(
            mergeOverrides(
              TASKS[task]!.defaults,
              ALGORITHMS[algorithm]!.defaults ?? {},
              budget.config,
              budget.algorithmConfig?.[algorithm] ?? {},
              options.set ?? {},
              swept,
              ALGORITHMS[algorithm]!.preset,
              { train: { seed } },
            ),
          );
          const identity = {
            task,
            algorithm,
            seed,
            datasetSize: options.datasetSize ?? budget.datasetSize ?? null,
            evalEpisodes: budget.evalEpisodes,
            setting,
            config,
            ...dataIdentity(TASKS[task]!.dataVersion),
          };
          runs.push({ id: hashOf({ ...identity, config: identityConfig(config) }), ...identity });
        }
      }
    }
  }
  return runs;
}

/**
 * What a run's training depends on: everything but its decoding and evaluation. Runs of a decode-only sweep share
 * it, so one trained model serves them all.
 */
export function trainingKey(run: RunSpec): string {
  const { decode: _, ...config } = run.config;
  const { task, algorithm, seed, datasetSize } = run;
  return hashOf({ task, algorithm, seed, datasetSize, ...dataIdentity(run.dataVersion), config });
}

/**
 * A data version as a part of the hashes that identify runs, starts and experiments: nothing without one, so the
 * identities of tasks that never declared a version stay as they were.
 */
export function dataIdentity(dataVersion: string | undefined): { dataVersion?: string } {
  return dataVersion === undefined ? {} : { dataVersion };
}

/** `key=value` pairs of a setting, in key order. */
export function settingLabel(setting: Record<string, unknown>): string {
  return Object.keys(setting).sort().map((k) => `${k}=${JSON.stringify(setting[k])}`).join(" ");
}

/** A run's name in logs and errors: task/algorithm, its sweep setting, its seed. */
export function runName(r: RunSpec): string {
  return [`${r.task}/${r.algorithm}`, settingLabel(r.setting), `seed ${r.seed}`].filter(Boolean).join(" ");
}

/**
 * Everything that decides a run's result except its seed, flattened to `section.key` → value (plus `datasetSize`
 * and `evalEpisodes`): runs with equal flat configs are seeds of one experiment.
 */
export function flatConfig(run: RunSpec): Record<string, unknown> {
  const flat: Record<string, unknown> = { datasetSize: run.datasetSize, evalEpisodes: run.evalEpisodes };
  for (const [section, values] of Object.entries(identityConfig(run.config))) {
    for (const [key, value] of Object.entries(values)) flat[`${section}.${key}`] = value;
  }
  delete flat["train.seed"];
  return Object.assign(flat, dataIdentity(run.dataVersion));
}

/** The identity of a run's experiment: task, algorithm, sweep setting and {@link flatConfig}, without the seed. */
export function configKey(run: RunSpec): string {
  return hashOf({ task: run.task, algorithm: run.algorithm, setting: run.setting, config: flatConfig(run) });
}

/** The `section.key` names whose values differ between two runs' flat configs, in key order. */
export function configDifferences(a: RunSpec, b: RunSpec): string[] {
  const fa = flatConfig(a), fb = flatConfig(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()
    .filter((k) => canonical(fa[k] ?? null) !== canonical(fb[k] ?? null));
}

/** A share of the runs: shard `index` of `count` (0-based). */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parses `i/n` (0 ≤ i < n).
 * @throws naming the bad value
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : null;
  if (shard === null || shard.count < 1 || shard.index >= shard.count) {
    throw new Error(`--shard expects i/n with 0 ≤ i < n, got '${text}'`);
  }
  return shard;
}

/**
 * The shard from a cluster's environment: Slurm job arrays (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`,
 * offset by `SLURM_ARRAY_TASK_MIN`) or Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX` with `ILQL_SHARD_COUNT`,
 * the job's `completions`). Null when neither is set.
 * @throws when the variables are inconsistent
 */
export function shardFromEnv(env: (name: string) => string | undefined): Shard | null {
  const slurm = env("SLURM_ARRAY_TASK_ID");
  if (slurm !== undefined) {
    const count = env("SLURM_ARRAY_TASK_COUNT");
    if (count === undefined) throw new Error("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    return parseShard(`${Number(slurm) - Number(env("SLURM_ARRAY_TASK_MIN") ?? 0)}/${count}`);
  }
  const k8s = env("JOB_COMPLETION_INDEX");
  if (k8s !== undefined) {
    const count = env("ILQL_SHARD_COUNT");
    if (count === undefined) {
      throw new Error("JOB_COMPLETION_INDEX is set but ILQL_SHARD_COUNT (the job's completions) is not");
    }
    return parseShard(`${k8s}/${count}`);
  }
  return null;
}

/**
 * The runs of one shard: runs of one group (`groupOf`, by default their training, so the rows of one decode sweep are
 * trained once) stay together, and the groups are dealt round-robin in suite order. Deterministic: every shard
 * computes the same split from the same run list.
 */
export function shardRuns(
  runs: readonly RunSpec[],
  shard: Shard,
  groupOf: (run: RunSpec) => string = trainingKey,
): RunSpec[] {
  const groups = new Map<string, number>();
  return runs.filter((r) => {
    const key = groupOf(r);
    if (!groups.has(key)) groups.set(key, groups.size);
    return groups.get(key)! % shard.count === shard.index;
  });
}
