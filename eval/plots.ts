/**
 * Figures of a results directory as chart.js configurations (plain JSON, so the same chart renders to PNG here and
 * interactively in `report.html`): per task, returns with 95 % intervals over seeds, learning curves (validation
 * return against training steps, when the runs measured them, and the task's value diagnostics, e.g. Wordle's
 * Q-ranking, against training steps), and return against β where the runs sweep `decode.beta`.
 * @module
 */
import { bootstrapMean } from "./stats.ts";
import type { CurvePoint, RunRecord } from "./store.ts";
import { groupLabel, type ResultGroup } from "./table.ts";

/** One figure: a file stem, a title and a JSON chart.js configuration. */
export interface ChartSpec {
  name: string;
  title: string;
  config: {
    type: "bar" | "line";
    data: { labels: Array<string | number>; datasets: Array<Record<string, unknown>> };
    options: Record<string, unknown>;
  };
}

const COLOURS = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#222222"];

function options(title: string, x: string, y: string): Record<string, unknown> {
  return {
    responsive: false,
    animation: false,
    plugins: { title: { display: true, text: title, font: { size: 15 } }, legend: { position: "bottom" } },
    scales: { x: { title: { display: true, text: x } }, y: { title: { display: true, text: y } } },
  };
}

/**
 * The learning curve of a group: per evaluated step (every seed evaluated there), the mean over seeds of the
 * validation return (or of another `value` of each point) and its 95 % bootstrap interval over seeds.
 */
export function learningCurve(
  runs: readonly RunRecord[],
  value: (point: CurvePoint) => number | undefined = (p) => p.mean,
): Array<{ step: number; mean: number; low: number; high: number }> {
  const bySteps = new Map<number, number[]>();
  for (const r of runs) {
    for (const p of r.curve ?? []) {
      const y = value(p);
      if (y !== undefined) bySteps.set(p.step, [...(bySteps.get(p.step) ?? []), y]);
    }
  }
  return [...bySteps].filter(([, ys]) => ys.length === runs.length).sort((a, b) => a[0] - b[0]).map(([step, ys]) => {
    const s = bootstrapMean(ys);
    return { step, mean: s.mean, low: s.low, high: s.high };
  });
}

/**
 * A line chart of learning curves against steps: per line its mean and, as a translucent band between two unlabelled
 * edge datasets (which the legend leaves out), its 95 % interval.
 */
function curveChart(
  name: string,
  title: string,
  x: string,
  lines: Array<{ label: string; points: ReturnType<typeof learningCurve> }>,
  y = "return",
): ChartSpec {
  return {
    name,
    title,
    config: {
      type: "line",
      data: {
        labels: [],
        datasets: lines.flatMap(({ label, points }, i) => {
          const colour = COLOURS[i % COLOURS.length]!;
          const band = { label: "", borderWidth: 0, pointRadius: 0, backgroundColor: `${colour}33` };
          return [
            {
              label,
              data: points.map((p) => ({ x: p.step, y: p.mean })),
              borderColor: colour,
              backgroundColor: colour,
              pointRadius: 2,
            },
            { ...band, data: points.map((p) => ({ x: p.step, y: p.low })), fill: false },
            { ...band, data: points.map((p) => ({ x: p.step, y: p.high })), fill: "-1" },
          ];
        }),
      },
      options: {
        ...options(title, x, y),
        scales: {
          x: { type: "linear", title: { display: true, text: x } },
          y: { title: { display: true, text: y } },
        },
      },
    },
  };
}

/**
 * A group's line label in a curve figure. Points past the runs' `train.steps` are not offline optimizer steps (PPO's
 * play iterations come after its BC steps), so the label says where those begin.
 */
export function curveLabel(
  g: ResultGroup,
  runs: readonly RunRecord[],
  points: ReadonlyArray<{ step: number }>,
): string {
  const offline = Math.max(...runs.map((r) => r.spec.config.train.steps));
  const last = Math.max(...points.map((p) => p.step));
  return last > offline ? `${groupLabel(g)}, steps past ${offline} = play iterations` : groupLabel(g);
}

/** The figures of a set of results. */
export function chartSpecs(groups: readonly ResultGroup[], records: readonly RunRecord[]): ChartSpec[] {
  const specs: ChartSpec[] = [];
  for (const task of [...new Set(groups.map((g) => g.task))]) {
    const gs = groups.filter((g) => g.task === task);
    specs.push({
      name: `returns_${task}`,
      title: `${task}: mean return over seeds, 95 % interval`,
      config: {
        type: "bar",
        data: {
          labels: gs.map(groupLabel),
          datasets: [
            {
              label: "mean return",
              order: 1,
              // bars rise from the task's worst return: higher is better, and a return of 0 is a full bar
              data: gs.map((g) => [g.anchors.floor, g.summary.mean]),
              backgroundColor: gs.map((_, i) => COLOURS[i % COLOURS.length]),
            },
            {
              label: "95 % interval over seeds",
              order: 0, // drawn over the means
              data: gs.map((g) => [g.summary.low, g.summary.high]),
              backgroundColor: "#222222",
              barPercentage: 0.06,
              grouped: false,
            },
          ],
        },
        options: {
          ...options(`${task}: return (mean over seeds, 95 % bootstrap interval)`, "algorithm", "return"),
          scales: {
            x: { title: { display: true, text: "algorithm" } },
            y: { title: { display: true, text: "return" }, min: gs[0]!.anchors.floor },
          },
        },
      },
    });
    const runsOf = (g: ResultGroup) => records.filter((r) => g.ids.includes(r.spec.id));
    const curves = gs.map((g) => {
      const runs = runsOf(g);
      return { g, runs, points: learningCurve(runs) };
    }).filter((c) => c.points.length > 0);
    if (curves.length > 0) {
      specs.push(curveChart(
        `curve_${task}`,
        `${task}: validation return during training (mean over seeds, 95 % interval)`,
        "training step",
        curves.map(({ g, runs, points }) => ({ label: curveLabel(g, runs, points), points })),
      ));
    }
    // the task's value diagnostics against training steps (the paper's Q-ranking figure), one figure each
    const keys = [
      ...new Set(gs.flatMap((g) => runsOf(g).flatMap((r) => Object.keys(r.curve?.[0]?.diagnostics ?? {})))),
    ];
    for (const key of keys) {
      const lines = gs.map((g) => ({
        label: groupLabel(g),
        points: learningCurve(runsOf(g), (p) => p.diagnostics?.[key]),
      }))
        .filter((l) => l.points.length > 0);
      specs.push(curveChart(
        `diagnostic_${task}_${key}`,
        `${task}: ${key} during training (mean over seeds, 95 % interval)`,
        "training step",
        lines,
        key,
      ));
    }
    // the shared starts' own curves (one per seed), which every fine-tuning curve above continues; a start shared
    // with another task is drawn with that task (its curve is on that task's reward)
    const ownStart = (r: RunRecord) => r.start !== undefined && (r.start.task ?? r.spec.task) === task;
    const starts = [...new Map(records.filter((r) => r.spec.task === task && ownStart(r)).map((r) => [r.start!.id, r]))
      .values()].map((r) => ({ ...r, curve: r.start!.curve }));
    const startCurve = learningCurve(starts);
    if (startCurve.length > 0) {
      specs.push(curveChart(
        `start_${task}`,
        `${task}: validation return of the shared BC starts (${starts.length} seed(s), 95 % interval)`,
        "start step",
        [{ label: "BC start", points: startCurve }],
      ));
    }
    // what the policies have learned of their data, where the curves recorded it: held-out likelihood per utterance
    const nll = (p: CurvePoint) => p.heldOut?.utterance;
    const heldOut = [
      {
        name: `heldout_${task}`,
        of: "during training",
        x: "training step",
        lines: gs.map((g) => ({ label: groupLabel(g), points: learningCurve(runsOf(g), nll) })),
      },
      {
        name: `heldout_start_${task}`,
        of: "of the shared BC starts",
        x: "start step",
        lines: [{ label: "BC start", points: learningCurve(starts, nll) }],
      },
    ];
    for (const { name, of, x, lines } of heldOut) {
      const drawn = lines.filter((l) => l.points.length > 0);
      if (drawn.length === 0) continue;
      specs.push(curveChart(
        name,
        `${task}: held-out negative log-likelihood per utterance ${of} (nats, mean over seeds, 95 % interval)`,
        x,
        drawn,
        "nats per utterance",
      ));
    }
    // return against β for each algorithm whose runs sweep decode.beta (and nothing else)
    const swept = gs.filter((g) => /^decode\.beta=\S+$/.test(g.setting));
    if (swept.length > 1) {
      const algorithms = [...new Set(swept.map((g) => g.algorithm))];
      const beta = (g: ResultGroup) => Number(g.setting.split("=")[1]);
      const betas = [...new Set(swept.map(beta))].sort((a, b) => a - b);
      const datasets = algorithms.flatMap((algorithm, i) => {
        const at = (b: number) => swept.find((g) => g.algorithm === algorithm && beta(g) === b);
        const colour = COLOURS[i % COLOURS.length];
        return [
          {
            label: `${algorithm} mean`,
            data: betas.map((b) => at(b)?.summary.mean ?? null),
            borderColor: colour,
            backgroundColor: colour,
          },
          ...(["low", "high"] as const).map((side) => ({
            label: `${algorithm} 95 % ${side}`,
            data: betas.map((b) => at(b)?.summary[side] ?? null),
            borderColor: colour,
            borderDash: [4, 4],
            pointRadius: 0,
            borderWidth: 1,
          })),
        ];
      });
      specs.push({
        name: `beta_${task}`,
        title: `${task}: return against β`,
        config: {
          type: "line",
          data: { labels: betas, datasets },
          options: options(`${task}: return against β (decode.beta)`, "β", "return"),
        },
      });
      // the price of the improvement: fluency against β, for tasks that measure it
      if (swept.every((g) => Number.isFinite(g.metrics.perplexity))) {
        specs.push({
          name: `beta_perplexity_${task}`,
          title: `${task}: perplexity under BC against β`,
          config: {
            type: "line",
            data: {
              labels: betas,
              datasets: algorithms.map((algorithm, i) => ({
                label: `${algorithm} perplexity (mean over seeds)`,
                data: betas.map((b) =>
                  swept.find((g) => g.algorithm === algorithm && beta(g) === b)?.metrics.perplexity ?? null
                ),
                borderColor: COLOURS[i % COLOURS.length],
                backgroundColor: COLOURS[i % COLOURS.length],
              })),
            },
            options: options(`${task}: perplexity of the replies under BC against β`, "β", "perplexity"),
          },
        });
      }
    }
  }
  return specs;
}

/** Renders a chart to PNG bytes (chart.js on @napi-rs/canvas, DejaVu Sans, white background). */
export async function renderPng(spec: ChartSpec, width = 800, height = 450): Promise<Uint8Array> {
  const [{ createCanvas }, { Chart, registerables }] = await Promise.all([
    import("@napi-rs/canvas"),
    import("chart.js"),
  ]);
  Chart.register(...registerables);
  Chart.defaults.font.family = "DejaVu Sans";
  // datasets without a label (the edges of an interval band) stay out of the legend
  Chart.defaults.plugins.legend.labels.filter = (item: { text: string }) => item.text !== "";
  const canvas = createCanvas(width, height);
  const white = {
    id: "white",
    beforeDraw: (chart: { ctx: ReturnType<typeof canvas.getContext>; width: number; height: number }) => {
      chart.ctx.save();
      chart.ctx.fillStyle = "white";
      chart.ctx.fillRect(0, 0, chart.width, chart.height);
      chart.ctx.restore();
    },
  };
  const chart = new Chart(
    canvas.getContext("2d") as never,
    {
      ...structuredClone(spec.config),
      options: { ...structuredClone(spec.config.options), devicePixelRatio: 1 },
      plugins: [white],
    } as never,
  );
  const png = await canvas.encode("png");
  chart.destroy();
  return png;
}
