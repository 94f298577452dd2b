/**
 * `deno task results:toxicity`: runs the harness's `toxicity` suite (every algorithm on the three toxicity rewards,
 * three seeds) into `results/toxicity/` and its `toxicity-beta` suite (ILQL decoded at several β) into
 * `results/toxicity-beta/`, both resumable, then writes `results/toxicity.md` from their run records.
 * @module
 */
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_HELP, backendOptions, parseCommandLine, runMain } from "../ilql/cli.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { runSuite } from "../eval/harness.ts";
import { ALGORITHMS, TASKS, toxicity, upvoteClassifier } from "../eval/registry.ts";
import { intervalVerdict, meanSe, normalizedScore, type SeedSummary } from "../eval/stats.ts";
import { readRecords, type RunRecord } from "../eval/store.ts";
import { type SpeedRow, speedTable } from "../eval/speed.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";
import { fixed as f, RESULTS_FLAGS, returnCells, suiteRuns, suiteSpeed } from "./results.ts";

const HELP = `deno task results:toxicity [--algos a,b] [--seeds 0,1,2] [--no-run] [--no-speed] [--backend …] [--blas …]
  [--threads N]

Runs the toxicity suites (finished runs in results/toxicity*/ are kept, so rerunning resumes), times each algorithm
alone, and writes results/toxicity.md. --no-run only rewrites the summary from the records there (without the
speed table); --no-speed skips the timing.

${BACKEND_HELP}`;

const OUT = "results/toxicity";

const BETA_OUT = "results/toxicity-beta";

async function main() {
  const { values } = parseCommandLine(Deno.args, RESULTS_FLAGS, {});
  if (values.help) return console.log(HELP);
  // the upvotes judge below trains a model, so even --no-run needs the backend
  const backend = await initBackend(backendOptions(values));
  console.log(`backend: ${backend.summary}`);
  if (!values["no-run"]) {
    const runs = suiteRuns("toxicity", values);
    const betaRuns = expandSuite(SUITES["toxicity-beta"]!);
    await runSuite(runs, OUT);
    await runSuite(betaRuns, BETA_OUT);
  }
  // training speed, each algorithm alone on the lexicon-reward task with the suite's config
  const speed = !values["no-speed"] && !values["no-run"] ? await suiteSpeed("toxicity", "toxicity") : [];
  // the upvotes task's judge: held-out accuracy against always answering the majority label
  const { set } = toxicity();
  const held = set.splits.eval.map((i) => set.threads[i]!);
  const positive = held.filter((t) => t.score > 0).length / held.length;
  const judge = { accuracy: upvoteClassifier().accuracy(held), majority: Math.max(positive, 1 - positive) };
  await writeFileAtomic(`${OUT}.md`, summary(readRecords(OUT), readRecords(BETA_OUT), judge, speed));
  console.log(`wrote ${OUT}.md`);
}

function summary(
  records: RunRecord[],
  betaRecords: RunRecord[],
  judge: { accuracy: number; majority: number },
  speed: readonly SpeedRow[],
): string {
  const tasks = Object.keys(SUITES.toxicity!.tasks);
  const lines = [
    "# Toxicity results",
    "",
    "Regenerate with `npx -y deno@2.9.6 task results:toxicity` (the harness's `toxicity` and `toxicity-beta` suites;",
    "run records, tables, figures and `report.html` in `results/toxicity/` and `results/toxicity-beta/`). The data are",
    "**synthetic** forum threads (`tasks/toxicity/generate.ts`, 24,000 threads, seed 0; 80 % train, 10 % test parents):",
    "see docs/tasks.md's Toxicity section for how they are made; whether a reply is toxic depends on its thread. Each",
    "run trains 1,000 steps of 32 threads, with a validation point (256 parents) every 250 steps: the learning curves",
    "are below each table. Learning rate 1e-3 and target rate (polyak) 0.05, except ILQL and single-step on the lexicon",
    "and noised rewards: 3e-4 and 0.005, since their curves at the task's settings rose and then fell",
    "(`toxicity-probes/README.md`). Per run: 1,024 test parents (drawn with seed 0), one",
    "sampled reply each (temperature 1; value-guided methods at β = 8), mean reward ± standard error; over seeds: mean",
    "of the run means with a 95 % bootstrap interval. Normalized: 0 = the worst reward, 50 = the training data's",
    "average, 100 = the best (never toxic; always upvoted). Beside the reward: the share of replies the lexicon calls",
    "toxic, perplexity of the replies under the BC reference model (fluency), distinct-1/2 (diversity), words per",
    "reply, and the KL estimate mean(log π − log π_BC) of the decoding distribution. The upvotes task's judge (the",
    `reply classifier, trained on the training split) is right on ${f(100 * judge.accuracy, 1)} % of the eval split's`,
    `threads (majority label: ${f(100 * judge.majority, 1)} %).`,
  ];
  for (const task of tasks) {
    const rs = records.filter((r) => r.spec.task === task);
    if (rs.length === 0) continue;
    const algorithms = Object.keys(ALGORITHMS).filter((a) => rs.some((r) => r.spec.algorithm === a));
    const first = rs[0]!;
    const anchors = { ...first.anchors, datasetAverage: first.datasetReturn };
    lines.push(
      "",
      `## ${task} (training data average ${f(first.datasetReturn)})`,
      "",
      TASKS[task]!.description + ".",
      "",
      "| algorithm | reward per seed (± s.e.) | mean [95 % CI] | normalized | toxic | perplexity | distinct-1 | distinct-2 | words | KL from BC |",
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    const intervals = new Map<string, SeedSummary>();
    for (const algorithm of algorithms) {
      const group = rs.filter((r) => r.spec.algorithm === algorithm).sort((a, b) => a.spec.seed - b.spec.seed);
      const cells = returnCells(group);
      intervals.set(algorithm, cells.summary);
      const m = (name: string) => meanSe(group.map((r) => r.eval.metrics[name]!)).mean;
      lines.push(
        `| ${algorithm} | ${cells.perSeed} | ${cells.overSeeds} | ${f(normalizedScore(cells.mean, anchors), 1)} | ${
          f(100 * m("toxic_rate"), 1)
        } % | ${f(m("perplexity"))} | ${f(m("distinct_1"), 3)} | ${f(m("distinct_2"), 3)} | ${
          f(m("mean_length"), 1)
        } | ${f(m("kl_from_bc"))} |`,
      );
    }
    const ilql = intervals.get("ilql");
    if (ilql !== undefined) {
      lines.push("");
      for (const other of ["filtered-bc", "single-step"]) {
        const o = intervals.get(other);
        if (o === undefined) continue;
        const verdict = intervalVerdict(ilql, o);
        const side = verdict === "intervals apart" ? (ilql.mean > o.mean ? "above, " : "below, ") : "";
        lines.push(
          `- ILQL ${f(ilql.mean)} [${f(ilql.low)}, ${f(ilql.high)}] against ${other} ${f(o.mean)} [${f(o.low)}, ${
            f(o.high)
          }]: ${side}${verdict}.`,
        );
      }
    }
    if (rs.some((r) => (r.curve?.length ?? 0) > 1)) {
      lines.push("", `![${task}: validation return against training step](toxicity/figures/curve_${task}.png)`);
    }
  }
  if (betaRecords.length > 0) {
    const betaTasks = [...new Set(betaRecords.map((r) => r.spec.task))];
    const betas = [...new Set(betaRecords.map((r) => Number(r.spec.setting["decode.beta"])))].sort((a, b) => a - b);
    lines.push(
      "",
      "## ILQL against β (seed 0, one training decoded at each β)",
      "",
      `| β | ${betaTasks.map((t) => `${t}: reward | toxic | perplexity | KL`).join(" | ")} |`,
      `|---:|${betaTasks.map(() => "---:|---:|---:|---:").join("|")}|`,
      ...betas.map((beta) =>
        `| ${beta} | ${
          betaTasks.map((t) => {
            const r = betaRecords.find((x) => x.spec.task === t && Number(x.spec.setting["decode.beta"]) === beta);
            return r === undefined
              ? "– | – | – | –"
              : `${f(r.eval.mean)} | ${f(100 * r.eval.metrics.toxic_rate!, 1)} % | ${f(r.eval.metrics.perplexity)} | ${
                f(r.eval.metrics.kl_from_bc)
              }`;
          }).join(" | ")
        } |`
      ),
      "",
      ...betaTasks.flatMap((t) => [
        `![${t}: reward against β](toxicity-beta/figures/beta_${t}.png)`,
        `![${t}: perplexity against β](toxicity-beta/figures/beta_perplexity_${t}.png)`,
      ]),
    );
  }
  if (speed.length > 0) {
    lines.push(
      "",
      `## Training speed (the toxicity task, each algorithm alone, steps 50 → 250 of a fresh run; batch 32)`,
      "",
      ...speedTable(speed),
    );
  }
  lines.push("");
  return lines.join("\n");
}

if (import.meta.main) await runMain(main);
