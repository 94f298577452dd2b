/**
 * Results tables from run records: per (task, algorithm, setting) the mean over seeds with a 95 % bootstrap
 * interval, the interquartile mean and the normalized score; paper-style markdown (rows algorithms, columns tasks,
 * best in bold) and CSV.
 * @module
 */
import { ALGORITHMS, TASKS } from "./registry.ts";
import { bootstrapMean, meanSe, normalizedScore, type SeedSummary } from "./stats.ts";
import type { RunRecord } from "./store.ts";
import { configDifferences, configKey, flatConfig, settingLabel } from "./suite.ts";

/** One cell of the results: the runs (seeds) of one task, algorithm, setting and resolved config. */
export interface ResultGroup {
  task: string;
  algorithm: string;
  /**
   * The sweep setting as `key=value` pairs (empty without a sweep), followed by the config keys in which this
   * group differs from other groups of the same task, algorithm and setting (results of mixed configs).
   */
  setting: string;
  /** The sweep setting alone (`key=value` pairs; empty without a sweep). */
  sweep: string;
  /** The hash of the resolved config the group's runs share ({@link configKey}); one config per group, always. */
  config: string;
  seeds: number[];
  /** The records' run ids. */
  ids: string[];
  /** Over seeds of the per-run mean returns. */
  summary: SeedSummary;
  /** Mean over seeds of each run's standard error over its evaluation episodes. */
  episodeSe: number;
  episodesPerRun: number;
  /** Worst possible return, the training data's mean return, and the best scripted policy's. */
  anchors: { floor: number; datasetAverage: number; ceiling: number };
  /** Normalized score of the mean (0 = floor, 50 = dataset average, 100 = ceiling), or null without anchors. */
  normalized: number | null;
  /** Task metrics averaged over seeds. */
  metrics: Record<string, number>;
  /** Mean training updates per second: optimizer steps, or play iterations for runs that log past them (PPO). */
  stepsPerSecond: number;
}

/** A run's training updates: its optimizer steps, or its logged steps where they run past them (PPO's iterations). */
function updatesOf(record: RunRecord): number {
  return Math.max(record.spec.config.train.steps, record.history.at(-1)?.step ?? 0);
}

/** Registration order (unregistered names last, alphabetically). */
function order(names: string[], name: string): string {
  const i = names.indexOf(name);
  return `${String(i < 0 ? names.length : i).padStart(4, "0")}${name}`;
}

/** A group's row name: the algorithm, and its sweep setting in brackets. */
export function groupLabel(g: ResultGroup): string {
  return `${g.algorithm}${g.setting ? ` (${g.setting})` : ""}`;
}

/**
 * The setting label of each config of one task, algorithm and setting (one record each): the sweep setting, then,
 * when several configs share them, the `key=value` pairs in which the configs differ.
 */
function distinguishingLabels(configs: ReadonlyMap<string, RunRecord>, setting: string): Map<string, string> {
  const [first, ...others] = [...configs.values()];
  // the keys in which any config differs from the first are the keys in which the configs are not all equal
  const differing = [...new Set(others.flatMap((r) => configDifferences(first!.spec, r.spec)))].sort();
  return new Map(
    [...configs].map(([key, r]) => {
      const flat = flatConfig(r.spec);
      return [
        key,
        [setting, ...differing.map((k) => `${k}=${JSON.stringify(flat[k] ?? null)}`)].filter(Boolean).join(" "),
      ];
    }),
  );
}

/**
 * Groups records by task, algorithm, setting and resolved config (in registration order, then setting) and
 * summarises each group. Runs of different configs never share a group: they are separate rows whose setting names
 * the keys they differ in.
 */
export function groupResults(records: readonly RunRecord[]): ResultGroup[] {
  // per record, once: its (task, algorithm, setting) in registration order, and its config's hash
  const family = new Map(records.map((r) => [
    r,
    [
      order(Object.keys(TASKS), r.spec.task),
      order(Object.keys(ALGORITHMS), r.spec.algorithm),
      settingLabel(r.spec.setting),
    ].join("\u0000"),
  ]));
  const config = new Map(records.map((r) => [r, configKey(r.spec)]));
  // the configs of each (task, algorithm, setting), and their labels
  const configs = new Map<string, Map<string, RunRecord>>();
  for (const r of records) {
    const byConfig = configs.get(family.get(r)!) ?? new Map<string, RunRecord>();
    configs.set(family.get(r)!, byConfig);
    if (!byConfig.has(config.get(r)!)) byConfig.set(config.get(r)!, r);
  }
  const labels = new Map<string, string>();
  for (const [f, byConfig] of configs) {
    const setting = settingLabel([...byConfig.values()][0]!.spec.setting);
    for (const [key, label] of distinguishingLabels(byConfig, setting)) labels.set(`${f}\u0000${key}`, label);
  }
  const key = new Map(records.map((r) => [r, `${family.get(r)}\u0000${config.get(r)}`]));
  const sortKey = new Map(
    records.map((r) => [r, `${family.get(r)}\u0000${labels.get(key.get(r)!)}\u0000${config.get(r)}`]),
  );
  const sorted = [...records].sort((a, b) => {
    const ka = sortKey.get(a)!, kb = sortKey.get(b)!;
    return ka < kb ? -1 : ka > kb ? 1 : a.spec.seed - b.spec.seed;
  });
  const groups = new Map<string, RunRecord[]>();
  for (const r of sorted) groups.set(key.get(r)!, [...(groups.get(key.get(r)!) ?? []), r]);
  return [...groups.entries()].map(([k, rs]) => {
    const first = rs[0]!;
    const summary = bootstrapMean(rs.map((r) => r.eval.mean));
    const { floor, ceiling } = first.anchors;
    const datasetAverage = first.datasetReturn;
    const metrics: Record<string, number> = {};
    // a metric averages over seeds only where every seed has it (a diagnostic added later is absent from older runs)
    for (const name of Object.keys(first.eval.metrics)) {
      if (rs.every((r) => name in r.eval.metrics)) metrics[name] = meanSe(rs.map((r) => r.eval.metrics[name]!)).mean;
    }
    return {
      task: first.spec.task,
      algorithm: first.spec.algorithm,
      setting: labels.get(k)!,
      sweep: settingLabel(first.spec.setting),
      config: config.get(first)!,
      seeds: rs.map((r) => r.spec.seed),
      ids: rs.map((r) => r.spec.id),
      summary,
      episodeSe: meanSe(rs.map((r) => r.eval.se)).mean,
      episodesPerRun: first.eval.returns.length,
      anchors: { floor, datasetAverage, ceiling },
      normalized: floor < datasetAverage && datasetAverage < ceiling
        ? normalizedScore(summary.mean, { floor, datasetAverage, ceiling })
        : null,
      metrics,
      stepsPerSecond: meanSe(rs.map((r) => updatesOf(r) / r.provenance.trainSeconds)).mean,
    };
  });
}

const f = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? "–" : x.toFixed(d));

/** A rows × tasks grid of one statistic: cell text and whether it is the column's best. */
export interface Grid {
  tasks: string[];
  rows: Array<{ name: string; cells: Array<{ text: string; best: boolean } | null> }>;
}

/** Rows (algorithm and setting) × columns (tasks) of one statistic; the highest value of each column is marked. */
export function resultGrid(
  groups: readonly ResultGroup[],
  value: (g: ResultGroup) => number | null,
  text: (g: ResultGroup) => string,
): Grid {
  const tasks = [...new Set(groups.map((g) => g.task))];
  const names = [...new Set(groups.map(groupLabel))];
  const best = new Map(
    tasks.map((t) => [t, Math.max(...groups.filter((g) => g.task === t).map((g) => value(g) ?? -Infinity))]),
  );
  return {
    tasks,
    rows: names.map((row) => ({
      name: row,
      cells: tasks.map((t) => {
        const g = groups.find((x) => x.task === t && groupLabel(x) === row);
        if (g === undefined) return null;
        return { text: text(g), best: names.length > 1 && value(g) !== null && value(g) === best.get(t) };
      }),
    })),
  };
}

/** The two headline grids: mean return [95 % interval], and normalized score. */
export function headlineGrids(groups: readonly ResultGroup[]): Array<{ caption: string; grid: Grid }> {
  return [
    {
      caption: "Mean return over seeds [95 % bootstrap interval over seeds] (best in bold):",
      grid: resultGrid(
        groups,
        (g) => g.summary.mean,
        (g) => `${f(g.summary.mean)} [${f(g.summary.low)}, ${f(g.summary.high)}]`,
      ),
    },
    {
      caption: "Normalized score (0 = worst return, 50 = the dataset's average, 100 = the best scripted policy):",
      grid: resultGrid(groups, (g) => g.normalized, (g) => f(g.normalized, 1)),
    },
  ];
}

/** Paper-style markdown: the headline grids, then one detail line per group. */
export function markdownTable(groups: readonly ResultGroup[]): string {
  const md = ({ tasks, rows }: Grid) => [
    `| algorithm | ${tasks.join(" | ")} |`,
    `|---|${tasks.map(() => "---:").join("|")}|`,
    ...rows.map((r) =>
      `| ${r.name} | ${r.cells.map((c) => (c === null ? "" : c.best ? `**${c.text}**` : c.text)).join(" | ")} |`
    ),
  ];
  return [
    ...headlineGrids(groups).flatMap(({ caption, grid }) => [caption, "", ...md(grid), ""]),
    "Per group (the seeds of one resolved config, named by its hash): seeds, mean ± s.e. over evaluation episodes",
    "(averaged over seeds), interquartile mean over seeds, task metrics, training speed:",
    "",
    "| task | algorithm | setting | config | seeds | episodes/run | return ± s.e. | IQM | metrics | steps/s |",
    "|---|---|---|---|---|---:|---|---:|---|---:|",
    ...groups.map((g) =>
      `| ${g.task} | ${g.algorithm} | ${g.setting || "–"} | ${g.config} | ${
        g.seeds.join(", ")
      } | ${g.episodesPerRun} | ${f(g.summary.mean)} ± ${f(g.episodeSe)} | ${f(g.summary.iqm)} | ${
        Object.entries(g.metrics).map(([k, v]) => `${k} ${f(v, 3)}`).join(", ") || "–"
      } | ${f(g.stepsPerSecond, 1)} |`
    ),
    "",
  ].join("\n");
}

function csvField(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV row per group. */
export function csvTable(groups: readonly ResultGroup[]): string {
  const metricNames = [...new Set(groups.flatMap((g) => Object.keys(g.metrics)))].sort();
  const header = [
    "task",
    "algorithm",
    "setting",
    "config",
    "seeds",
    "episodes_per_run",
    "mean",
    "ci_low",
    "ci_high",
    "iqm",
    "episode_se",
    "normalized",
    ...metricNames,
    "steps_per_s",
  ];
  const lines = groups.map((g) =>
    [
      g.task,
      g.algorithm,
      g.setting,
      g.config,
      g.seeds.join(" "),
      g.episodesPerRun,
      g.summary.mean,
      g.summary.low,
      g.summary.high,
      g.summary.iqm,
      g.episodeSe,
      g.normalized,
      ...metricNames.map((m) => g.metrics[m] ?? null),
      g.stepsPerSecond,
    ].map(csvField).join(",")
  );
  return [header.join(","), ...lines].join("\n") + "\n";
}
