/**
 * `deno task results:wordle`: regenerates `results/wordle.md` (and `.json`). Scripted players give the floor and
 * ceiling; ILQL and BC (the policy head trained alone) are trained on the mixed and lava datasets, three seeds each,
 * and evaluated greedily on 1,024 games of the 200-word evaluation vocabulary; the Q-ranking diagnostic compares
 * ILQL with single-step ILQL (expectile 0.5) on the lava dataset. Each finished run is stored under `--runs`
 * (default runs/wordle), so an interrupted regeneration resumes where it stopped.
 * @module
 */
import { datasetReturn } from "../ilql/data.ts";
import { type SpeedRow, speedTable, trainingSpeed } from "../eval/speed.ts";
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_FLAGS, BACKEND_HELP, backendOptions, parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { textPolicy } from "../ilql/decode.ts";
import { Prng } from "../ilql/prng.ts";
import {
  mergeOverrides,
  RUN_SECTIONS,
  type RunConfig,
  runConfig,
  trainAlgorithm,
  type Trained,
} from "../baselines/algorithm.ts";
import { improveWithPpo } from "../baselines/ppo.ts";
import { ALGORITHMS, TASKS } from "../eval/registry.ts";
import { loadCheckpoint } from "../ilql/checkpoint.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { utteranceValues } from "../ilql/values.ts";
import { bootstrapMean, meanSe, normalizedScore } from "../eval/stats.ts";
import {
  type DatasetSource,
  lavaDataset,
  mixedDataset,
  mixturePlayer,
  type WordleEpisode,
} from "../tasks/wordle/data.ts";
import { evaluateWordle, playerPolicy, type WordleEvalResult } from "../tasks/wordle/eval.ts";
import { WORDLE_TOKENIZER } from "../tasks/wordle/game.ts";
import { ConsistentPlayer, InfoPlayer, type Player, RandomPlayer } from "../tasks/wordle/players.ts";
import { branchPairs, openingPairs, type RankingAccuracy, rankingAccuracy } from "../tasks/wordle/qrank.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "../tasks/wordle/words.ts";

/** The budget of the reported runs (every value here is in the results' config record). */
const EXPERIMENT = {
  // one shared trunk (heads have the target copies) halves the step against the paper's separate layout; the
  // separate layout is one override away: --model.layout=separate
  model: { layout: "shared", width: 64, layers: 2, heads: 2, context: 80, dropout: 0 },
  optim: { lr: 1e-3 },
  // a faster target than the reference's 0.005: values must propagate over ~36 action tokens in 2,500 steps.
  // Expectile 0.9 as in the reference's evaluated Wordle checkpoint: in the lava data the expert's first guess is
  // followed by a losing repeat in 5 of 6 games, and a 0.7-expectile still sits nearer those games' values
  ilql: { cqlWeight: 1e-4, polyak: 0.05, expectile: 0.9 },
  train: { steps: 2500, batchSize: 32, logEvery: 250 },
  decode: { beta: 16, advClip: 0, maxTokens: 6, method: "greedy" },
};

/**
 * The datasets: `mixed` is played on the evaluation vocabulary (hidden words and the players' candidates); `lava`
 * follows the paper and uses the 2,315 original answers, where the expert needs more than three guesses often
 * enough to branch (on the 200 words it rarely does). The mixture's random moves draw from the same vocabulary (as
 * the reference's `RandomMixturePolicy` does).
 */
const DATASETS = { mixed: { games: 10_000 }, lava: { iterations: 1_000 } } as const;

/** The registered algorithms this table trains on each dataset: all on mixed; the value-based ones on lava. */
const TABLE: Record<string, string[]> = {
  mixed: ["bc", "filtered-bc", "dt", "single-step", "mc-returns", "cql", "ilql", "ppo"],
  lava: ["bc", "single-step", "mc-returns", "cql", "ilql"],
};
/** Methods with learned Q̄ and V, for the Q-ranking diagnostic. */
const VALUE_BASED = new Set(["single-step", "mc-returns", "cql", "ilql"]);
/** Target returns of the Decision Transformer sweep (Wordle returns lie in [−6, 0]). */
const DT_TARGETS = [-6, -5, -4, -3, -2, -1, 0];

interface RunRecord {
  dataset: string;
  algo: string;
  seed: number;
  config: RunConfig;
  eval: Omit<WordleEvalResult, "returns"> & { returns: number[] };
  qRanking?: { branch: RankingAccuracy; opening: RankingAccuracy; branchOnline: RankingAccuracy };
  trainSeconds: number;
  stepsPerSecond: number;
  /** Decision Transformer: evaluation return at each target return. */
  targetSweep?: Array<{ target: number; mean: number; se: number; winRate: number }>;
  /** PPO: mean return of each iteration's sampled games. */
  curve?: number[];
  /** PPO: seconds of the PPO iterations (after the BC start). */
  ppoSeconds?: number;
}

const HELP = `deno task results:wordle [--seeds 0,1,2] [--games 1024] [--runs DIR] [--out results/wordle]
  [--steps N] [--datasets mixed,lava] [--algos bc,ilql,…] [--no-speed] [--backend …] [--blas …] [--threads N]
  [--section.key=value …]

Regenerates the Wordle results table: every registered algorithm on the mixed dataset, the value-based ones and BC
on the lava dataset (Q-ranking), the Decision Transformer's target-return sweep, PPO's curve from its BC start, and
each algorithm's training speed (measured alone at the end; --no-speed skips it). Finished runs are kept in --runs
and reused, so rerunning resumes.

${BACKEND_HELP}`;

async function main() {
  const { values, overrides } = parseCommandLine(Deno.args, {
    seeds: { type: "string", default: "0,1,2" },
    games: { type: "string", default: "1024" },
    runs: { type: "string", default: "runs/wordle" },
    out: { type: "string", default: "results/wordle" },
    steps: { type: "string" },
    datasets: { type: "string", default: "mixed,lava" },
    algos: { type: "string", default: [...new Set(Object.values(TABLE).flat())].join(",") },
    ...BACKEND_FLAGS,
    "no-speed": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  }, RUN_SECTIONS);
  if (values.help) return console.log(HELP);
  const seeds = values.seeds.split(",").map(Number);
  const games = Number(values.games);
  if (seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(games) || games < 1) {
    throw new UsageError("--seeds and --games must be integers");
  }
  const algos = values.algos.split(",");
  for (const a of algos) {
    if (!(a in ALGORITHMS)) throw new UsageError(`unknown algorithm '${a}' (${Object.keys(ALGORITHMS)})`);
  }
  const datasets = values.datasets.split(",");
  for (const d of datasets) if (!(d in DATASETS)) throw new UsageError(`unknown dataset '${d}' (mixed, lava)`);
  const base: Record<string, Record<string, unknown>> = structuredClone(EXPERIMENT);
  if (values.steps !== undefined) base.train = { ...base.train, steps: Number(values.steps) };
  for (const [section, kv] of Object.entries(overrides)) base[section] = { ...base[section], ...kv };
  const configFor = (algo: string, seed: number) => {
    const { defaults = {}, preset } = ALGORITHMS[algo]!;
    return runConfig(mergeOverrides(defaults, base, preset, { train: { seed } }));
  };

  configFor("ilql", 0); // a bad override fails here, before anything runs

  const backend = await initBackend(backendOptions(values));
  console.log(`backend: ${backend.summary}`);
  const vocabulary = loadWordList(WORD_LISTS.eval200);
  const answers = loadWordList(WORD_LISTS.answers);
  const allowed = officialAllowed();
  const source: DatasetSource = { answers: vocabulary, allowed, rule: "official" };
  const evalOptions = { vocabulary, allowed, games, seed: 0 };

  // ---- data ----
  const data: Record<string, WordleEpisode[]> = {
    mixed: mixedDataset(source, DATASETS.mixed.games, new Prng(0)),
    lava: lavaDataset({ ...source, answers }, DATASETS.lava.iterations, new Prng(0)),
  };
  const dataReturn = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, datasetReturn(v)]));
  console.log(
    `datasets: ${
      Object.entries(data).map(([k, v]) => `${k} ${v.length} episodes, mean return ${dataReturn[k]!.toFixed(3)}`).join(
        "; ",
      )
    }`,
  );

  // ---- scripted players ----
  const players: Array<[string, Player]> = [
    ["random (allowed words)", new RandomPlayer(allowed)],
    ["random consistent", new ConsistentPlayer(vocabulary)],
    ["random vocabulary word", new RandomPlayer(vocabulary)],
    ["mixed-dataset policy (50 % consistent, 50 % random vocabulary word)", mixturePlayer(source)],
    ["greedy information (ceiling)", new InfoPlayer(vocabulary)],
  ];
  const scripted = players.map(([name, player]) => {
    const r = evaluateWordle(playerPolicy(player, new Prng(1)), evalOptions);
    console.log(
      `${name}: ${r.return.mean.toFixed(3)} ± ${r.return.se.toFixed(3)} (${(games / r.seconds).toFixed(0)} games/s)`,
    );
    return { name, ...r };
  });
  const ceiling = scripted[scripted.length - 1]!.return.mean;

  // ---- training runs ----
  const records: RunRecord[] = [];
  for (const dataset of datasets) {
    for (const algo of algos) {
      if (!TABLE[dataset]!.includes(algo)) continue;
      for (const seed of seeds) records.push(await run(dataset, algo, seed));
    }
  }

  async function run(dataset: string, algo: string, seed: number): Promise<RunRecord> {
    const config = configFor(algo, seed);
    const path = `${values.runs}/${dataset}__${algo}__${seed}.json`;
    try {
      const saved = JSON.parse(Deno.readTextFileSync(path)) as RunRecord;
      // a record made before a config field existed has that field's default, which keeps the old behaviour
      if (JSON.stringify(runConfig(saved.config)) === JSON.stringify(config)) {
        console.log(`${dataset}/${algo}/seed ${seed}: reusing ${path}`);
        return saved;
      }
    } catch { /* not run yet */ }
    const started = performance.now();
    const log = (r: LogRecord) => console.log(`${dataset}/${algo}/seed ${seed} step ${r.step}: ${fmtInfo(r.info)}`);
    const request = {
      episodes: data[dataset]!,
      tokenizer: WORDLE_TOKENIZER,
      config,
      environments: TASKS.wordle!.environments!,
      source: `${dataset} dataset`,
      checkpointPath: path.replace(/\.json$/, ".safetensors"),
      onLog: log,
    };
    let trained: Trained;
    let ppoSeconds: number | undefined;
    const bcStart = `${values.runs}/${dataset}__bc__${seed}`;
    const bcRecord = records.find((r) => r.dataset === dataset && r.algo === "bc" && r.seed === seed);
    if (algo === "ppo" && bcRecord !== undefined) {
      // PPO starts from this table's BC run of the same seed (the same config trains the same BC model)
      const { model } = await loadCheckpoint(`${bcStart}.safetensors`);
      const ppoStarted = performance.now();
      const ppo = await improveWithPpo(model, request, config.train.steps);
      ppoSeconds = (performance.now() - ppoStarted) / 1000;
      trained = { model, decode: config.decode, history: ppo.history, dispose: ppo.dispose };
      console.log(
        `${dataset}/ppo/seed ${seed}: started from ${bcStart}.safetensors (BC ${f(bcRecord.eval.return.mean)})`,
      );
    } else {
      trained = await trainAlgorithm(ALGORITHMS[algo]!, request);
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const result = evaluateWordle(textPolicy(trained.model, WORDLE_TOKENIZER, trained.decode), evalOptions);
    const record: RunRecord = {
      dataset,
      algo,
      seed,
      config,
      eval: result,
      trainSeconds,
      stepsPerSecond: config.train.steps / trainSeconds,
    };
    if (algo === "ppo") {
      record.curve = trained.history.filter((r) => r.info["eval/return"] !== undefined).map((r) =>
        r.info["eval/return"]!
      );
      if (ppoSeconds !== undefined) record.ppoSeconds = ppoSeconds;
    }
    if (config.model.returnConditioned) {
      record.targetSweep = DT_TARGETS.map((target) => {
        const r = evaluateWordle(
          textPolicy(trained.model, WORDLE_TOKENIZER, { ...trained.decode, targetReturn: target }),
          evalOptions,
        );
        return { target, mean: r.return.mean, se: r.return.se, winRate: r.winRate };
      });
    }
    if (dataset === "lava" && VALUE_BASED.has(algo)) {
      const score = (key: "qBar" | "q") => (items: Parameters<typeof utteranceValues>[2]) =>
        utteranceValues(trained.model, WORDLE_TOKENIZER, items).map((v) => v[key]);
      const branch = branchPairs(data.lava!);
      record.qRanking = {
        branch: rankingAccuracy(branch, score("qBar")),
        branchOnline: rankingAccuracy(branch, score("q")),
        opening: rankingAccuracy(openingPairs(data.lava!), score("qBar")),
      };
    }
    console.log(
      `${dataset}/${algo}/seed ${seed}: return ${result.return.mean.toFixed(3)} ± ${result.return.se.toFixed(3)}, ` +
        `win ${(100 * result.winRate).toFixed(1)} %, invalid ${(100 * result.invalidRate).toFixed(1)} %, ${
          trainSeconds.toFixed(0)
        } s` +
        (record.qRanking
          ? `, Q-rank opening ${record.qRanking.opening.mean.toFixed(3)}, branch ${
            record.qRanking.branch.mean.toFixed(3)
          }`
          : ""),
    );
    await writeFileAtomic(path, JSON.stringify(record) + "\n");
    trained.dispose();
    return record;
  }

  // ---- training speed: each algorithm alone, timed between two log points after a warm-up ----
  const speed = values["no-speed"] ? [] : await measureSpeed();

  async function measureSpeed(): Promise<SpeedRow[]> {
    const rows: SpeedRow[] = [];
    for (const algo of [...new Set(datasets.flatMap((d) => TABLE[d]!.filter((a) => algos.includes(a))))]) {
      rows.push(
        await trainingSpeed(algo, configFor(algo, 0), data.mixed!, WORDLE_TOKENIZER, TASKS.wordle!.environments!),
      );
      console.log(`speed ${algo}: ${JSON.stringify(rows[rows.length - 1])}`);
    }
    return rows;
  }

  const report = {
    generated: new Date().toISOString().slice(0, 10),
    backend: backend.summary,
    experiment: base,
    datasets: DATASETS,
    dataReturn,
    seeds,
    games,
    scripted: scripted.map(({ returns: _, ...r }) => r),
    runs: records.map(({ eval: { returns: _, ...e }, ...r }) => ({ ...r, eval: e })),
    speed,
  };
  await writeFileAtomic(`${values.out}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(
    `${values.out}.md`,
    markdown(records, scripted, dataReturn, ceiling, base, seeds, games, backend.summary, speed),
  );
  console.log(`wrote ${values.out}.md and ${values.out}.json`);
}

function fmtInfo(info: Record<string, number>): string {
  return Object.entries(info).map(([k, v]) => `${k.split("/")[1]} ${v.toFixed(3)}`).join(", ");
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "–");

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function markdown(
  records: RunRecord[],
  scripted: Array<{ name: string } & WordleEvalResult>,
  dataReturn: Record<string, number>,
  ceiling: number,
  base: Record<string, unknown>,
  seeds: number[],
  games: number,
  backendSummary: string,
  speed: SpeedRow[],
): string {
  const lines = [
    "# Wordle results",
    "",
    `Regenerate with \`npx -y deno@2.9.6 task results:wordle\` (seeds ${
      seeds.join(", ")
    }; ${games} evaluation games per run on`,
    "the 200-word evaluation vocabulary, `tasks/wordle/data/eval200.txt`, hidden words drawn with seed 0; greedy decoding).",
    "Returns are in [−6, 0] (−1 per guess, 0 for the solving guess). Per run: mean ± standard error over games; across",
    "seeds: the mean of the run means with a 95 % percentile-bootstrap interval. Normalized score: 0 = −6, 50 = the",
    "dataset's average return, 100 = the greedy information player.",
    "",
    "## Scripted players (floor and ceiling)",
    "",
    "| player | return | win rate | guesses of wins | invalid |",
    "|---|---:|---:|---:|---:|",
    ...scripted.map((s) =>
      `| ${s.name} | ${f(s.return.mean)} ± ${f(s.return.se)} | ${f(100 * s.winRate, 1)} % | ${
        f(s.meanGuessesOfWins)
      } | ${f(100 * s.invalidRate, 1)} % |`
    ),
    "",
    "## Offline RL",
    "",
    "| dataset (avg return) | algorithm | return per seed (± s.e.) | mean [95 % CI] over seeds | normalized | win rate | invalid |",
    "|---|---|---|---|---:|---:|---:|",
  ];
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) groups.set(`${r.dataset}|${r.algo}`, [...(groups.get(`${r.dataset}|${r.algo}`) ?? []), r]);
  for (const [key, rs] of groups) {
    const [dataset, algo] = key.split("|") as [string, string];
    const means = rs.map((r) => r.eval.return.mean);
    const s = bootstrapMean(means);
    const anchors = { floor: -6, datasetAverage: dataReturn[dataset]!, ceiling };
    const perSeed = rs.map((r) => `${f(r.eval.return.mean)} ± ${f(r.eval.return.se)}`).join("; ");
    lines.push(
      `| ${dataset} (${f(dataReturn[dataset]!)}) | ${algo} | ${perSeed} | ${f(s.mean)} [${f(s.low)}, ${f(s.high)}] | ${
        f(normalizedScore(s.mean, anchors), 1)
      } | ${f(100 * meanSe(rs.map((r) => r.eval.winRate)).mean, 1)} % | ${
        f(100 * meanSe(rs.map((r) => r.eval.invalidRate)).mean, 1)
      } % |`,
    );
  }
  const ranked = records.filter((r) => r.qRanking);
  if (ranked.length > 0) {
    lines.push(
      "",
      "## Q-ranking diagnostic (lava dataset)",
      "",
      "The paper's section-5 figure: at the opening state, the fraction of (expert first guess, suboptimal first guess)",
      "pairs where the learned Q̄ (min of the target Q heads, what decoding uses) ranks the expert's guess higher. In the",
      "lava data the expert's first guess is followed by an adversarial continuation that never wins in 5 of 6 games, so",
      "its average (single-step) value is below the suboptimal guess's; only a multi-step, in-support maximum sees",
      "that the expert's guess leads to the better game. The paper reports ILQL near 0.95–1.0 and single-step",
      "(expectile 0.5, “SARSA”) near 0. Values are compared token by token over the guess's six action tokens and",
      "averaged; `</a>` is position −1, the first letter −6. Branch: at the expert's state after two guesses, its next",
      "guess against the adversarial repeat (a sanity check both should pass).",
      "",
      "| algorithm | opening Q̄ rank, mean over positions (per seed) | mean over seeds | at first letter | at `</a>` | branch Q̄ rank (mean over seeds) | branch, online Q |",
      "|---|---|---:|---:|---:|---:|---:|",
    );
    const byAlgo = new Map<string, RunRecord[]>();
    for (const r of ranked) byAlgo.set(r.algo, [...(byAlgo.get(r.algo) ?? []), r]);
    for (const [algo, rs] of byAlgo) {
      const m = (g: (r: RunRecord) => number) => f(meanSe(rs.map(g)).mean, 3);
      lines.push(
        `| ${algo} | ${rs.map((r) => f(r.qRanking!.opening.mean, 3)).join("; ")} | ${
          m((r) => r.qRanking!.opening.mean)
        } | ${m((r) => r.qRanking!.opening.byPosition[5]!)} | ${m((r) => r.qRanking!.opening.byPosition[0]!)} | ${
          m((r) => r.qRanking!.branch.mean)
        } | ${m((r) => r.qRanking!.branchOnline.mean)} |`,
      );
    }
  }
  const sweeps = records.filter((r) => r.targetSweep);
  if (sweeps.length > 0) {
    lines.push(
      "",
      "## Decision Transformer: return against the target return",
      "",
      "The same trained models (mixed dataset) conditioned on each target return; the table above uses the default, the",
      "best return in the training data (0, a first-guess win). Mean over seeds of the per-run means (1,024 games).",
      "",
      "| target return | return | win rate |",
      "|---:|---:|---:|",
      ...DT_TARGETS.map((target) => {
        const at = sweeps.map((r) => r.targetSweep!.find((t) => t.target === target)!);
        return `| ${target} | ${f(meanSe(at.map((t) => t.mean)).mean)} | ${
          f(100 * meanSe(at.map((t) => t.winRate)).mean, 1)
        } % |`;
      }),
    );
  }
  const ppoRuns = records.filter((r) => r.curve && r.curve.length > 0);
  if (ppoRuns.length > 0) {
    const n = Math.min(...ppoRuns.map((r) => r.curve!.length));
    const marks = [1, ...Array.from({ length: Math.floor(n / 10) }, (_, i) => (i + 1) * 10)];
    const warmup = ppoRuns[0]!.config.ppo.valueWarmup;
    lines.push(
      "",
      "## Online PPO from the BC start",
      "",
      `PPO starts from the BC run of the same seed (the table's BC rows) and plays ${
        ppoRuns[0]!.config.ppo.episodes
      } games per iteration with the sampling`,
      `policy; the first ${warmup} iterations fit only the critic. Mean return of each iteration's sampled games (mean over seeds;`,
      "sampling, so below the greedy evaluation of the table):",
      "",
      `| iteration | ${marks.join(" | ")} |`,
      `|---|${marks.map(() => "---:").join("|")}|`,
      `| sampled return | ${marks.map((m) => f(meanSe(ppoRuns.map((r) => r.curve![m - 1]!)).mean)).join(" | ")} |`,
    );
  }
  const mixedNormalized = (algo: string) => {
    const rs = records.filter((r) => r.dataset === "mixed" && r.algo === algo);
    if (rs.length === 0) return "–";
    const anchors = { floor: -6, datasetAverage: dataReturn.mixed!, ceiling };
    return f(normalizedScore(meanSe(rs.map((r) => r.eval.return.mean)).mean, anchors), 1);
  };
  lines.push(
    "",
    "## Against LMRL-Gym's Wordle row",
    "",
    "LMRL-Gym (Abdulhai et al. 2023) reports normalized Wordle scores for GPT-2-small agents trained on its own",
    "Wordle dataset. Ours are on the mixed dataset (same normalization idea, our own anchors: −6, the dataset average,",
    "the greedy information player):",
    "",
    "| method | LMRL-Gym | ours |",
    "|---|---:|---:|",
    ...([["BC", "bc", 79.9], ["filtered (%) BC", "filtered-bc", 79.1], ["MC returns", "mc-returns", 94.9], [
      "ILQL",
      "ilql",
      97.7,
    ], ["online PPO", "ppo", 84.2]] as const).map(([name, algo, theirs]) =>
      `| ${name} | ${theirs} | ${mixedNormalized(algo)} |`
    ),
    "",
    "The gap is not a ranking of methods: at this budget (0.14 M parameters, 2,500 steps × 32 games, ~250× fewer games",
    "than the reference's runs) no agent learns to use the colour feedback, so every method sits near the floor and",
    "their differences are within a few hundredths of a guess. LMRL-Gym's agents are pretrained GPT-2 models with",
    "millions of training tokens; their BC already reads the feedback (≈ 80 % of the way to their ceiling), which is",
    "what lets values add the last 15–18 points. See the README's Wordle section for what we tried.",
  );
  const r0 = records[0];
  lines.push(
    "",
    "## Setup",
    "",
    `Model and training (all runs): \`${JSON.stringify(base)}\`; layout ${r0?.config.model.layout ?? "separate"}.`,
    "Algorithms are the registry's (`eval/registry.ts`, `baselines/`), each applied over this config: " +
      [...new Set(records.map((r) => r.algo))].map((a) => {
        const { preset, defaults } = ALGORITHMS[a]!;
        return `\`${a}\` ${JSON.stringify(preset)}${defaults ? ` (defaults ${JSON.stringify(defaults)})` : ""}`;
      }).join(
        ", ",
      ) + ". Datasets (seed 0): `mixed` = 10,000 games of a per-move mixture of a random vocabulary word and",
    "a random word consistent with the feedback, hidden words and candidates from the 200-word evaluation vocabulary",
    "(`deno task data wordle mixed`); `lava` = 1,000 iterations of the section-5 recipe on the 2,315 original answers",
    "(`deno task data wordle lava --iterations 1000 --answers tasks/wordle/data/answers.txt`).",
    `Evaluation: ${
      f(medianOf(records.map((r) => games / r.eval.seconds)), 0)
    } games/s with the trained models (median over runs), greedy decoding with the KV cache.`,
  );
  if (speed.length > 0) {
    lines.push(
      "",
      `## Training speed (${backendSummary}, each algorithm alone, steps 50 → 250 of a fresh run; batch 32)`,
      "",
      ...speedTable(speed),
    );
  }
  lines.push("");
  return lines.join("\n");
}

if (import.meta.main) await runMain(main);
