/**
 * `deno task results:wordle`: runs the harness's `paper` suite on the Wordle tasks (mixed, habit and lava data: a
 * shared BC start per seed, every algorithm fine-tuned with learning curves) into `results/paper/` (resumable), then
 * writes `results/wordle.md` from its run records: scripted players, each dataset's table with every seed, ILQL
 * against greedy and sampled BC, the lava Q-ranking per seed, the comparison with LMRL-Gym, and where the curves are.
 * @module
 */
import { dirname, relative } from "node:path";
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_HELP, backendOptions, parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { Prng } from "../ilql/prng.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { list } from "../eval/bench.ts";
import { runSuite } from "../eval/harness.ts";
import { TASKS } from "../eval/registry.ts";
import { groupLabel, groupResults, type ResultGroup } from "../eval/table.ts";
import { intervalVerdict } from "../eval/stats.ts";
import { machinesOf, readRecords, type RunRecord } from "../eval/store.ts";
import { type RunSpec, SUITES, trainingKey } from "../eval/suite.ts";
import { mergeOverrides, runConfig } from "../baselines/algorithm.ts";
import { exactValues } from "../eval/exact_values.ts";
import { datasetReturn } from "../ilql/data.ts";
import { habitPlayer, lavaDataset, mixturePlayer } from "../tasks/wordle/data.ts";
import { openingPairs } from "../tasks/wordle/qrank.ts";
import { evaluateWordle, playerPolicy } from "../tasks/wordle/eval.ts";
import { ConsistentPlayer, InfoPlayer, type Player, RandomPlayer } from "../tasks/wordle/players.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "../tasks/wordle/words.ts";
import { fixed as f, RESULTS_FLAGS, suiteRuns } from "./results.ts";

/** What each dataset can and cannot show, printed under its table (facts about the data, not about the runs). */
const DATASET_NOTES: Record<string, string> = {
  wordle: "Greedy decoding of a per-move mixture already drops its uniform random half: the data's ideal per-move " +
    "policy decoded greedily scores −1.96 (`../shared/notes/learning.md`), so this dataset cannot show what values " +
    "add over greedy BC; the reference's protocol compares ILQL with sampled BC, whose ideal is the data's own return.",
  "wordle-habit": "The mistakes are systematic, not noise: most games open with the least informative word and then " +
    "read only green letters, so greedy BC copies the habit, while better play (the consistent-word player's) is in " +
    "the data one opener away: here values must matter.",
};

/** The `paper` suite's Wordle tasks, in the page's order. */
const WORDLE_TASKS = ["wordle", "wordle-habit", "wordle-lava"];
const OUT = "results/paper";
const PAGE = "results/wordle.md";
// the `paper` suite's lava data size, so the exact values are those of the data its runs train on
const LAVA_ANALYSIS_ITERATIONS = 5000;
// behaviour values (single-step's 0.5), two in between, and ILQL's own on the lava data
const LAVA_ANALYSIS_EXPECTILES = [...new Set([0.5, 0.7, 0.9, 0.99, ilqlExpectile("wordle-lava")])].sort((x, y) =>
  x - y
);

/** LMRL-Gym's Wordle row (normalized scores) and the registered algorithm (greedy row) it corresponds to. */
const LMRL_GYM: Array<[string, number, string]> = [
  ["BC", 79.9, 'bc (decode.method="greedy")'],
  ["%BC (filtered BC)", 79.1, 'filtered-bc (decode.method="greedy")'],
  ["MC returns", 94.9, "mc-returns"],
  ["ILQL", 97.7, "ilql"],
  ["online PPO", 84.2, 'ppo (decode.method="greedy")'],
];

const HELP =
  `deno task results:wordle [--tasks wordle,wordle-habit,wordle-lava] [--algos a,b] [--seeds 0,1,2] [--no-run]
  [--results DIR] [--page FILE] [--backend …] [--blas …] [--threads N]

Runs the paper suite's Wordle runs in this process (finished runs in --results, default ${OUT}/, are kept, so
rerunning resumes; the shared starts are kept in and read from DIR/starts, committed beside the records; for runs
side by side use \`deno task bench --suite paper --tasks …\`, which shares both), then
writes --page (default ${PAGE}) from every Wordle record there. --no-run only rewrites the page.
With wordle-lava, the page also shows what exact values at each expectile make of --lava-iterations (default
${LAVA_ANALYSIS_ITERATIONS}) lava iterations on the 200 evaluation words and on the reference's 2,315 answers.

${BACKEND_HELP}`;

async function main() {
  const { values } = parseCommandLine(Deno.args, {
    ...RESULTS_FLAGS,
    tasks: { type: "string" },
    results: { type: "string", default: OUT },
    page: { type: "string", default: PAGE },
    "lava-iterations": { type: "string", default: String(LAVA_ANALYSIS_ITERATIONS) },
  }, {});
  if (values.help) return console.log(HELP);
  const tasks = list(values.tasks, "tasks") ?? WORDLE_TASKS;
  const stray = tasks.find((t) => !WORDLE_TASKS.includes(t));
  if (stray !== undefined) {
    throw new UsageError(`--tasks: '${stray}' is not a Wordle task (${WORDLE_TASKS.join(", ")})`);
  }
  const runs = suiteRuns("paper", values, tasks);
  if (!values["no-run"]) {
    const backend = await initBackend(backendOptions(values));
    console.log(`backend: ${backend.summary}`);
    // the shared starts the records fine-tuned from are committed beside them, so a rerun does not retrain them
    await runSuite(runs, values.results, { startsDir: `${values.results}/starts` });
  }
  const records = readRecords(values.results).filter((r) => WORDLE_TASKS.includes(r.spec.task));
  const link = relative(dirname(values.page), values.results) || ".";
  const iterations = Number(values["lava-iterations"]);
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new UsageError(`--lava-iterations must be an integer >= 1, got '${values["lava-iterations"]}'`);
  }
  const analysis = tasks.includes("wordle-lava") ? lavaExactValues(iterations) : [];
  await writeFileAtomic(values.page, page(records, runs, scriptedPlayers(), analysis, values.results, link));
  console.log(`wrote ${values.page}`);
}

interface Scripted {
  name: string;
  mean: number;
  se: number;
  winRate: number;
}

/** The scripted players on the evaluation games (1,024 games, seed 0, as every run is evaluated). */
function scriptedPlayers(): Scripted[] {
  const vocabulary = loadWordList(WORD_LISTS.eval200);
  const allowed = officialAllowed();
  const source = { answers: vocabulary, allowed, rule: "official" as const };
  const players: Array<[string, Player]> = [
    ["information (greedy max-entropy over consistent words; the ceiling)", new InfoPlayer(vocabulary)],
    ["random consistent word", new ConsistentPlayer(vocabulary)],
    ["mixed data's player (50 % random, 50 % consistent word per move)", mixturePlayer(source)],
    ["habit player (opens with `puppy`, reads only greens)", habitPlayer(source)],
    ["random vocabulary word", new RandomPlayer(vocabulary)],
  ];
  return players.map(([name, player]) => {
    const r = evaluateWordle(playerPolicy(player, new Prng(1)), { vocabulary, allowed, games: 1024, seed: 0 });
    return { name, mean: r.return.mean, se: r.return.se, winRate: r.winRate };
  });
}

/** Exact values of lava data on one vocabulary (see {@link lavaExactValues}). */
export interface LavaValues {
  vocabulary: string;
  /** Average return of each kind of game. */
  averages: Record<string, number>;
  iterations: number;
  byExpectile: Array<{ tau: number; rank: number; expert: number; mixture: number }>;
}

/**
 * What exact (memorised) values at each expectile make of the lava data's opening, on the 200 evaluation words and on
 * the reference's 2,315 answers (the suite's 5,000 iterations by default, seed 0): the fraction of opening pairs where the expert's first
 * guess has the higher Q, and the mean Q of each side. A model that cannot tell the mixture's random openers apart
 * learns their mean, so the means decide the ranking a trained network can show.
 */
export function lavaExactValues(iterations = LAVA_ANALYSIS_ITERATIONS): LavaValues[] {
  const allowed = officialAllowed();
  return [["200 evaluation words", WORD_LISTS.eval200], ["2,315 official answers", WORD_LISTS.answers]].map(
    ([vocabulary, path]) => {
      const source = { answers: loadWordList(path!), allowed, rule: "official" as const };
      const episodes = lavaDataset(source, iterations, new Prng(0));
      const averages: Record<string, number> = {};
      for (const kind of ["expert", "suboptimal", "adversarial"]) {
        const games = episodes.filter((e) => e.meta.kind === kind);
        averages[kind] = datasetReturn(games);
      }
      const pairs = openingPairs(episodes);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const byExpectile = LAVA_ANALYSIS_EXPECTILES.map((tau) => {
        const values = exactValues(episodes, tau);
        const q = new Map<string, number>();
        const qOf = (word: string) => q.get(word) ?? q.set(word, values.q([], word)).get(word)!;
        return {
          tau,
          rank: pairs.filter((p) => qOf(p.expert) > qOf(p.other)).length / pairs.length,
          expert: mean(pairs.map((p) => qOf(p.expert))),
          mixture: mean(pairs.map((p) => qOf(p.other))),
        };
      });
      return { vocabulary: vocabulary!, averages, iterations, byExpectile };
    },
  );
}

/** The difference of two rows' means and whether their 95 % intervals over seeds are disjoint. */
function comparison(a: ResultGroup, b: ResultGroup): string {
  const d = a.summary.mean - b.summary.mean;
  return `${d >= 0 ? "+" : ""}${f(d)} (${intervalVerdict(a.summary, b.summary)})`;
}

/** The page; `results` is the records' directory, `link` the same directory relative to the page. */
function page(
  records: RunRecord[],
  runs: readonly RunSpec[],
  scripted: readonly Scripted[],
  lavaValues: readonly LavaValues[],
  results: string,
  link: string,
): string {
  const done = new Set(records.map((r) => r.spec.id));
  const missing = runs.filter((r) => !done.has(r.id));
  const groups = groupResults(records);
  const seeds = [...new Set(records.map((r) => r.spec.seed))].sort();
  const budget = SUITES.paper!.tasks.wordle!;
  const lines = [
    "# Wordle results",
    "",
    `Regenerated by \`npx -y deno@2.9.6 task results:wordle\` from the run records in [\`${results}/\`](${link}/) (the`,
    "harness's `paper` suite; `deno task bench --suite paper --tasks wordle,wordle-habit,wordle-lava` makes the same",
    `records with one process per core). ${records.length} runs (seeds ${seeds.join(", ") || "–"}); ${
      missing.length === 0
        ? "no run of the suite is missing."
        : `${missing.length} of the suite's runs are not done yet.`
    }`,
    "",
    `Every run: a shared behaviour-cloning start per (dataset, seed) of ${
      Number(budget.config.start?.steps).toLocaleString("en")
    } steps (lr ${budget.config.start?.lr}), then ${
      Number(budget.config.train?.steps).toLocaleString("en")
    } fine-tuning steps (lr ${budget.config.optim?.lr}, batch 32) with a validation`,
    "curve every 1,000 steps on 256 games of their own seed; the task's model (width 64, 2 layers, shared layout,",
    "unless a dataset's section names other settings; online PPO plays from the start itself instead of fine-tuning",
    "offline, for the iterations its settings name, 64 games each). Final",
    `evaluation: ${
      budget.evalEpisodes.toLocaleString("en")
    } games of the 200-word evaluation vocabulary (hidden words drawn with seed 0), the`,
    "official dictionary of valid guesses. Greedy decoding unless the row says `sample`; value methods decode with",
    "β = 4. Per run: mean ± standard error over games; across seeds: the mean of the run means with its 95 %",
    "percentile-bootstrap interval. Normalized score: 0 = −6, 50 = the dataset's average return, 100 = the",
    "information player. Steps/s: fine-tuning steps a second of training time (PPO: play iterations a second); runs",
    "that shared their cores with other processes are slower, so rates compare only within one machine's records.",
    "",
    "## Scripted players (1,024 games, seed 0)",
    "",
    "| player | return ± s.e. | win rate |",
    "|---|---:|---:|",
    ...scripted.map((s) => `| ${s.name} | ${f(s.mean)} ± ${f(s.se)} | ${f(100 * s.winRate, 1)} % |`),
  ];
  for (const task of WORDLE_TASKS) {
    const rows = groups.filter((g) => g.task === task);
    if (rows.length === 0) continue;
    const lava = task === "wordle-lava";
    lines.push(
      "",
      `## ${task}: ${TASKS[task]!.description}`,
      "",
      `Data: ${(records.find((r) => r.spec.task === task)!.spec.datasetSize ?? 0).toLocaleString("en")} ${
        lava ? "iterations" : "games"
      }, average return ${f(rows[0]!.anchors.datasetAverage)}.`,
      "",
      `| algorithm | seeds | return per seed (± s.e.) | mean [95 % CI] over seeds | normalized | win rate | invalid |${
        lava ? " Q̄ rank opening: tokens | word | Q̄ rank branch: tokens | word |" : ""
      } steps/s |`,
      `|---|---|---|---|---:|---:|---:|${lava ? "---:|---:|---:|---:|" : ""}---:|`,
      ...rows.map((g) => {
        // every per-seed list in the order of the seeds column
        const runs = records.filter((r) => g.ids.includes(r.spec.id)).sort((a, b) => a.spec.seed - b.spec.seed);
        const perSeed = runs.map((r) => `${f(r.eval.mean)} ± ${f(r.eval.se)}`).join("; ");
        const rank = (key: string) =>
          g.metrics[key] === undefined ? "–" : runs.map((r) => f(r.eval.metrics[key], 2)).join("; ");
        return `| ${groupLabel(g)} | ${runs.map((r) => r.spec.seed).join("; ")} | ${perSeed} | ${f(g.summary.mean)} [${
          f(g.summary.low)
        }, ${f(g.summary.high)}] | ${f(g.normalized ?? NaN, 1)} | ${f(100 * (g.metrics.win_rate ?? NaN), 1)} % | ${
          f(100 * (g.metrics.invalid_rate ?? NaN), 1)
        } % |${
          lava
            ? ` ${rank("qrank_opening")} | ${rank("qrank_opening_word")} | ${rank("qrank_branch")} | ${
              rank("qrank_branch_word")
            } |`
            : ""
        } ${f(g.stepsPerSecond, 1)} |`;
      }),
    );
    const settings = algorithmSettings(task);
    if (settings.length > 0) {
      lines.push("", `Settings of this dataset's runs besides the above: ${settings.join("; ")}.`);
    }
    if (DATASET_NOTES[task] !== undefined) lines.push("", DATASET_NOTES[task]!);
    if (lava && lavaValues.length > 0) lines.push("", ...lavaValueLines(lavaValues));
    const row = (label: string) => rows.find((g) => groupLabel(g) === label);
    const ilql = row("ilql");
    const against = [
      'bc (decode.method="greedy")',
      'bc (decode.method="sample")',
      "single-step",
      'filtered-bc (decode.method="greedy")',
    ].map((label) => [label, row(label)] as const).filter(([, g]) => g !== undefined);
    if (ilql && against.length > 0) {
      lines.push(
        "",
        `ILQL against: ${against.map(([label, g]) => `${label} ${comparison(ilql, g!)}`).join("; ")}.`,
      );
    }
  }
  lines.push(
    "",
    "## Against LMRL-Gym",
    "",
    "LMRL-Gym's Wordle row (normalized, GPT-2 agents) beside ours on the same kind of scale (0 = the worst return, 50 = the",
    "data's average, 100 = the best scripted player); its dataset is closest to our mixed data.",
    "",
    `| method | LMRL-Gym | ${WORDLE_TASKS.join(" | ")} |`,
    `|---|---:|${WORDLE_TASKS.map(() => "---:").join("|")}|`,
    ...LMRL_GYM.map(([name, theirs, label]) =>
      `| ${name} | ${theirs} | ${
        WORDLE_TASKS.map((t) => {
          const g = groups.find((x) => x.task === t && groupLabel(x) === label);
          return g ? f(g.normalized ?? NaN, 1) : "–";
        }).join(" | ")
      } |`
    ),
    "",
    "## Learning curves",
    "",
    ...WORDLE_TASKS.filter((t) => groups.some((g) => g.task === t)).flatMap((t) => [
      `- ${t}: fine-tuning [\`${link}/figures/curve_${t}.png\`](${link}/figures/curve_${t}.png), shared starts ` +
      `[\`${link}/figures/start_${t}.png\`](${link}/figures/start_${t}.png)` +
      // the paper's figure: the Q-ranking against training steps, where the runs recorded it along their curves
      (records.some((r) => r.spec.task === t && r.curve?.[0]?.diagnostics !== undefined)
        ? `, Q̄ ranking of the opening against steps [\`${link}/figures/diagnostic_${t}_qrank_opening_word.png\`](${link}/figures/diagnostic_${t}_qrank_opening_word.png)`
        : ""),
    ]),
    "",
    "## Compute",
    "",
    ...computeLines(records),
  );
  return lines.join("\n") + "\n";
}

/**
 * The suite's own settings of some algorithms on one task, beyond the page's common ones (value methods' β), as
 * "algorithms: `section.key=value`, …", algorithms with equal settings together.
 */
function algorithmSettings(task: string): string[] {
  const groups = new Map<string, string[]>();
  for (const [algorithm, overrides] of Object.entries(SUITES.paper!.tasks[task]?.algorithmConfig ?? {})) {
    const settings = Object.entries(overrides).flatMap(([section, values]) =>
      Object.entries(values).map(([key, value]) => `${section}.${key}=${value}`)
    ).filter((s) => !s.startsWith("decode.beta=")).map((s) => `\`${s}\``).join(", ");
    if (settings !== "") groups.set(settings, [...groups.get(settings) ?? [], algorithm]);
  }
  return [...groups].map(([settings, algorithms]) => `${algorithms.join(", ")}: ${settings}`);
}

/** ILQL's expectile on one task of the suite (its task config over the algorithm's default). */
function ilqlExpectile(task: string): number {
  const suiteTask = SUITES.paper!.tasks[task]!;
  return runConfig(mergeOverrides(suiteTask.config, suiteTask.algorithmConfig?.ilql ?? {})).ilql.expectile;
}

/** The lava data's exact values: why the task's data is made on the reference's 2,315 answers. */
function lavaValueLines(lavaValues: readonly LavaValues[]): string[] {
  const ilqlTau = ilqlExpectile("wordle-lava");
  return [
    `What the data allows: exact (memorised) values of ${
      lavaValues[0]!.iterations.toLocaleString("en")
    } lava iterations`,
    "(seed 0) at each expectile τ, on the 200 evaluation words and on the reference's 2,315 answers (the task's data).",
    "Rank: the share of opening pairs where the expert's first guess has the higher exact Q; the mean Q of each side",
    "decides what a network that cannot tell the mixture's random openers apart can rank (the Q̄ ranks above).",
    "",
    `| vocabulary | expert / mixture / lava games | ${
      LAVA_ANALYSIS_EXPECTILES.map((t) => `τ ${t}: rank (Q expert vs mixture)`).join(" | ")
    } |`,
    `|---|---|${LAVA_ANALYSIS_EXPECTILES.map(() => "---").join("|")}|`,
    ...lavaValues.map((v) =>
      `| ${v.vocabulary} | ${f(v.averages.expert!)} / ${f(v.averages.suboptimal!)} / ${f(v.averages.adversarial!)} | ${
        v.byExpectile.map((x) => `${f(x.rank, 2)} (${f(x.expert)} vs ${f(x.mixture)})`).join(" | ")
      } |`
    ),
    "",
    ...lavaValues.map((v) => {
      const at = (tau: number) => v.byExpectile.find((x) => x.tau === tau)!;
      const order = (tau: number) =>
        `${at(tau).expert > at(tau).mixture ? "above" : "below"} the mixture's (${f(at(tau).expert)} vs ${
          f(at(tau).mixture)
        })`;
      return `- ${v.vocabulary}: the expert's opening is worth ${order(0.5)} under behaviour values (τ 0.5, ` +
        `single-step's target) and ${order(ilqlTau)} under ILQL's τ ${ilqlTau}.`;
    }),
    "",
    "The paper's figure needs the second vocabulary's pattern (below, then above), so the task's data is made on it.",
  ];
}

/** Time of the records: shared starts and trainings each counted once, evaluations, and the backends. */
function computeLines(records: readonly RunRecord[]): string[] {
  const starts = new Map(records.filter((r) => r.start).map((r) => [r.start!.id, r.start!.trainSeconds]));
  const trainings = new Map(records.map((r) => [trainingKey(r.spec), r.provenance.trainSeconds]));
  const total = (seconds: Iterable<number>) => [...seconds].reduce((s, x) => s + x, 0);
  const backends = [...new Set(records.map((r) => r.provenance.backend))];
  return [
    `Wall time of the processes that made them (one thread each; several processes may have shared the cores, so ` +
    `alone they take less): ${starts.size} shared starts ${f(total(starts.values()) / 3600, 1)} h, ${trainings.size} ` +
    `fine-tunings ${f(total(trainings.values()) / 3600, 1)} h, ${records.length} final evaluations ${
      f(total(records.map((r) => r.eval.seconds)) / 60, 1)
    } min. Backend: ${backends.join("; ")}. CPU (steps/s compare only on one): ${machinesOf(records)}.`,
  ];
}

if (import.meta.main) await runMain(main);
