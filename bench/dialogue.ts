/**
 * `deno task results:dialogue`: runs the harness's `dialogue` suite (every algorithm on the hidden-country game's
 * three reward variants, three seeds) into `results/dialogue/` (resumable), evaluates the scripted questioners on
 * the same games, and writes `results/dialogue.md` from the run records.
 * @module
 */
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_HELP, backendOptions, parseCommandLine, runMain } from "../ilql/cli.ts";
import { Prng } from "../ilql/prng.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { runSuite } from "../eval/harness.ts";
import { ALGORITHMS, DIALOGUE_GAMES, DIALOGUE_HELD_OUT, TASKS } from "../eval/registry.ts";
import { bootstrapMean, intervalVerdict, meanSe, normalizedScore, type SeedSummary } from "../eval/stats.ts";
import { readRecords, type RunRecord } from "../eval/store.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";
import { defaultMix, imitationBound } from "../tasks/dialogue/data.ts";
import { type DialogueEvalResult, evaluateDialogue } from "../tasks/dialogue/eval.ts";
import {
  GreedyQuestioner,
  HumanQuestioner,
  type Questioner,
  questionerPolicy,
  RandomQuestioner,
} from "../tasks/dialogue/questioners.ts";
import type { DialogueReward } from "../tasks/dialogue/reward.ts";
import { fixed as f, RESULTS_FLAGS, returnCells, suiteRuns, suiteSpeed } from "./results.ts";
import { type SpeedRow, speedTable } from "../eval/speed.ts";
import { existsSync } from "node:fs";
import { loadCheckpoint } from "../ilql/checkpoint.ts";
import { utteranceLogProbs } from "../ilql/values.ts";
import { startId, startPath } from "../eval/starts.ts";

const HELP = `deno task results:dialogue [--algos a,b] [--seeds 0,1,2] [--no-run] [--no-speed] [--backend …] [--blas …]
  [--threads N]

Runs the dialogue suite (finished runs in results/dialogue/ are kept, so rerunning resumes), times each algorithm
alone (results/dialogue/speed.json), evaluates the scripted questioners on the same 1,024 games, and writes
results/dialogue.md. --no-run only rewrites the summary from the records there; --no-speed skips the timing. To spread the runs over processes or machines: deno task bench --suite dialogue --out
results/dialogue --shard I/N (one per shard), then deno task results:dialogue --no-run.

${BACKEND_HELP}`;

const OUT = "results/dialogue";
const VARIANTS: Record<string, DialogueReward> = {
  dialogue: "standard",
  "dialogue-yn": "yn",
  "dialogue-conservative": "conservative",
};

async function main() {
  const { values } = parseCommandLine(Deno.args, RESULTS_FLAGS, {});
  if (values.help) return console.log(HELP);
  const runs = values["no-run"] ? null : suiteRuns("dialogue", values);
  // the cloning gap below reads the committed starts: a backend even with --no-run
  const backend = await initBackend(backendOptions(values));
  if (runs !== null) {
    console.log(`backend: ${backend.summary}`);
    await runSuite(runs, OUT);
  }
  // each algorithm timed alone; kept beside the records so that --no-run can show it again
  const speedFile = `${OUT}/speed.json`;
  let speed: SpeedRow[] = [];
  if (!values["no-run"] && !values["no-speed"]) {
    speed = await suiteSpeed("dialogue", "dialogue");
    await writeFileAtomic(speedFile, JSON.stringify(speed, null, 1) + "\n");
  } else if (existsSync(speedFile)) speed = JSON.parse(Deno.readTextFileSync(speedFile));
  const scripted = scriptedQuestioners();
  const cloning = await cloningGap();
  await writeFileAtomic(`${OUT}.md`, summary(readRecords(OUT), scripted, cloning, speed));
  console.log(`wrote ${OUT}.md`);
}

/** The scripted questioners on each variant's evaluation games (seed 0, as the runs). */
function scriptedQuestioners(): Array<{ name: string; results: Record<string, DialogueEvalResult> }> {
  const players: Array<[string, Questioner]> = [
    ["greedy information gain (ceiling)", new GreedyQuestioner()],
    ["human-like", new HumanQuestioner()],
    ["random", new RandomQuestioner()],
  ];
  return players.map(([name, questioner]) => ({
    name,
    results: Object.fromEntries(
      Object.entries(VARIANTS).map(([task, reward]) => [
        task,
        evaluateDialogue(questionerPolicy(questioner, new Prng(1)), { reward, games: 1024, seed: 0 }),
      ]),
    ),
  }));
}

/** Mean negative log-likelihood per question (nats): of every question, of guesses, of the other questions. */
interface QuestionNll {
  all: number;
  guess: number;
  other: number;
}

/**
 * How much of its data each seed's committed start has learned: its likelihood of the questions of held-out games
 * against the best a clone of the data can reach ({@link imitationBound}). Seeds whose start is missing are left out.
 */
async function cloningGap(): Promise<{ bound: QuestionNll; starts: Array<{ seed: number; nll: QuestionNll }> }> {
  // the games the learning curves' held-out likelihood reads
  const questions = imitationBound(TASKS.dialogue!.heldOut!());
  const mean = (nll: readonly number[]): QuestionNll => {
    const of = (keep: (q: (typeof questions)[number]) => boolean) => {
      const xs = nll.filter((_, i) => keep(questions[i]!));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    return { all: of(() => true), guess: of((q) => q.guess), other: of((q) => !q.guess) };
  };
  const starts = [];
  const suite = SUITES.dialogue!;
  for (const seed of suite.seeds) {
    const [run] = expandSuite(suite, { tasks: ["dialogue"], algorithms: ["bc"], seeds: [seed] });
    const path = startPath(suite.starts!, startId(run!)!);
    if (!existsSync(path)) continue;
    const { model, tokenizerInstance } = await loadCheckpoint(path);
    const logProbs = utteranceLogProbs(model, tokenizerInstance, questions);
    model.dispose();
    starts.push({ seed, nll: mean(logProbs.map((l) => -l.logProb)) });
  }
  return { bound: mean(questions.map((q) => q.nll)), starts };
}

const pct = (x: number | undefined) => `${f(x === undefined ? undefined : 100 * x, 1)} %`;

function summary(
  records: RunRecord[],
  scripted: ReadonlyArray<{ name: string; results: Record<string, DialogueEvalResult> }>,
  cloning: Awaited<ReturnType<typeof cloningGap>>,
  standalone: readonly SpeedRow[],
): string {
  const tasks = Object.keys(SUITES.dialogue!.tasks);
  const beta = (TASKS.dialogue!.defaults.decode as { beta: number }).beta;
  const planned = expandSuite(SUITES.dialogue!);
  // the resolved config of a fine-tuning run (every default filled in) says how the suite trains
  const { datasetSize, config: { start, train, optim } } = planned.find((r) => r.algorithm === "bc")!;
  const games = datasetSize ?? DIALOGUE_GAMES;
  const lines = [
    "# Dialogue results (the hidden-country game)",
    "",
    "Regenerate with `npx -y deno@2.9.6 task results:dialogue` (the harness's `dialogue` suite; run records, tables,",
    "figures and `report.html` in `results/dialogue/`). The game: find a hidden UN member state (attributes from the",
    "`world-countries` package) from an opening hint by asking a rule-based answerer up to 20 questions; −1 a",
    "question, 0 the right guess; `yn` adds −2 for every answer that is a bare yes or no, `conservative` −2 for every",
    "answer containing a hedge of the reference's list. Offline data: " +
    `${games.toLocaleString("en-US")} games of the scripted questioners (seed 0; ${
      defaultMix().map(([q, w]) => `${q.name} ${100 * w} %`).join(", ")
    }); the same dialogues under every variant, only the rewards differ. Every run fine-tunes a shared`,
    `behaviour-cloning start of its seed (${start.steps.toLocaleString("en-US")} steps at lr ${start.lr}${
      start.decaySteps ? `, the last ${start.decaySteps.toLocaleString("en-US")} decaying along a cosine` : ""
    }; one start`,
    `for the three variants) for ${train.steps.toLocaleString("en-US")} steps (its rate ${
      optim.schedule === "cosine" ? "decaying along a cosine" : optim.schedule
    }${
      train.lengthPool > 1
        ? `; batches of similar length, \`train.lengthPool\` ${train.lengthPool}, in the start too`
        : ""
    }; online PPO plays from the`,
    "start instead), with a validation point on 128 games every 1,000 steps (the curves in `results/dialogue/`).",
    "Per run: 1,024 evaluation games (hidden countries and hints from seed 0, the same for every policy), questions",
    `sampled at temperature 1 as the data's players act (value-guided methods at β = ${beta}); rows marked _greedy_`,
    "decode the same training greedily, as the paper's evaluation did; mean return ± standard error; over seeds: mean of the",
    "run means with a 95 % bootstrap interval. Normalized: 0 = the variant's worst return (20 penalised",
    "questions), 50 = the training data's average, 100 = the greedy information-gain questioner. Per question:",
    "bare yes/no answers, open questions (answered in words), questions the answerer could not parse.",
  ];
  const expected = planned.length;
  if (records.length < expected) {
    lines.push(
      "",
      `**Partial:** ${records.length} of the suite's ${expected} runs are in; \`deno task results:dialogue\` runs the rest`,
      "(resumable) and rewrites this page.",
    );
  }
  for (const task of tasks) {
    const rs = records.filter((r) => r.spec.task === task);
    if (rs.length === 0) continue;
    const first = rs[0]!;
    const anchors = { ...first.anchors, datasetAverage: first.datasetReturn };
    lines.push(
      "",
      `## ${task} (floor ${f(anchors.floor)}, training data ${f(first.datasetReturn)}, greedy questioner ${
        f(anchors.ceiling)
      })`,
      "",
      TASKS[task]!.description + ".",
      "",
      "| algorithm | return per seed (± s.e.) | mean [95 % CI] | normalized | success | questions | yes/no answers | open questions | unparsed |",
      "|---|---|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const { label, group } of rows(rs)) {
      const cells = returnCells(group);
      const m = (name: string) => meanSe(group.map((r) => r.eval.metrics[name]!)).mean;
      lines.push(
        `| ${label} | ${cells.perSeed} | ${cells.overSeeds} | ${f(normalizedScore(cells.mean, anchors), 1)} | ${
          pct(m("success_rate"))
        } | ${f(m("mean_questions"), 1)} | ${pct(m("yes_no_rate"))} | ${pct(m("open_rate"))} | ${
          pct(m("unparsed_rate"))
        } |`,
      );
    }
  }
  lines.push(...claim(records));
  lines.push(
    "",
    "## Scripted questioners (1,024 games, seed 0)",
    "",
    `| questioner | ${tasks.map((t) => `${t}: return ± s.e. | success | yes/no`).join(" | ")} |`,
    `|---|${tasks.map(() => "---:|---:|---:").join("|")}|`,
    ...scripted.map((s) =>
      `| ${s.name} | ${
        tasks.map((t) => {
          const r = s.results[t]!;
          return `${f(r.return.mean)} ± ${f(r.return.se)} | ${pct(r.metrics.success_rate)} | ${
            pct(r.metrics.yes_no_rate)
          }`;
        }).join(" | ")
      } |`
    ),
    `| training data (average) | ${
      tasks.map((t) => {
        const r = records.find((x) => x.spec.task === t);
        return `${f(r?.datasetReturn)} | – | –`;
      }).join(" | ")
    } |`,
  );
  const nll = (x: QuestionNll) => `${f(x.all)} | ${f(x.guess)} | ${f(x.other)}`;
  const gaps = cloning.starts.map((s) => s.nll.all - cloning.bound.all);
  lines.push(
    "",
    "## How much of its data the cloned questioner has learned",
    "",
    `Negative log-likelihood (nats per question: its tokens and its end) of the questions of ${DIALOGUE_HELD_OUT.games} held-out`,
    `games of the same mix (seed ${DIALOGUE_HELD_OUT.seed}), under each seed's shared start (the BC start every run fine-tunes)`,
    "and under the best possible clone of the data: the scripted questioners' exact probabilities, weighted by their",
    "posterior given the game so far (`imitationBound` in `tasks/dialogue/data.ts`). Guesses name a country; the",
    "others are every other question.",
    "",
    "| policy | all questions | guesses | other questions |",
    "|---|---:|---:|---:|",
    `| best possible clone | ${nll(cloning.bound)} |`,
    ...cloning.starts.map((s) => `| start, seed ${s.seed} | ${nll(s.nll)} |`),
  );
  if (gaps.length > 0) {
    const gap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    lines.push(
      "",
      `The starts give the data's questions ${f(gap)} nats less than the best clone does, on average: each question`,
      `${f(Math.exp(gap), 1)} times less likely. The gap is in both kinds of question, and both depend on which`,
      "countries are still consistent with the hint and the answers, a set the scripted players track exactly: a",
      "clone that has not learned it guesses countries the answers rule out and asks less informative questions.",
    );
  }
  lines.push(...speed(records));
  if (standalone.length > 0) {
    lines.push(
      "",
      "Each algorithm alone on `dialogue` (steps 50 → 250 of a fresh run with the suite's config, batch 16; PPO:",
      "seconds per iteration of 32 games and its updates):",
      "",
      ...speedTable(standalone),
    );
  }
  lines.push("");
  return lines.join("\n");
}

/** A table row: the runs of one algorithm and decoding, by seed. */
interface Row {
  algorithm: string;
  greedy: boolean;
  label: string;
  group: RunRecord[];
}

/** The rows of a variant's records: each algorithm sampled, then greedy where it has greedy runs. */
function rows(records: readonly RunRecord[]): Row[] {
  return Object.keys(ALGORITHMS).flatMap((algorithm) =>
    [false, true].flatMap((greedy) => {
      const group = records.filter((r) =>
        r.spec.algorithm === algorithm && (r.spec.config.decode.method === "greedy") === greedy
      ).sort((a, b) => a.spec.seed - b.spec.seed);
      return group.length === 0
        ? []
        : [{ algorithm, greedy, label: greedy ? `${algorithm}, greedy` : algorithm, group }];
    })
  );
}

/**
 * What the benchmark asks of this task: BC near its data's average return, ILQL at least BC, and under `yn` fewer
 * bare yes/no questions than BC with a higher return (the paper's claim), each with the intervals over seeds.
 */
function claim(records: readonly RunRecord[]): string[] {
  const byTask = new Map(
    ["dialogue", "dialogue-yn"].map((task) => [task, rows(records.filter((r) => r.spec.task === task))]),
  );
  const row = (task: string, algorithm: string, greedy = false) =>
    byTask.get(task)!.find((r) => r.algorithm === algorithm && r.greedy === greedy);
  const metric = (r: Row, name: string) => bootstrapMean(r.group.map((x) => x.eval.metrics[name]!));
  const interval = (s: SeedSummary, fmt: (x: number) => string) => `${fmt(s.mean)} [${fmt(s.low)}, ${fmt(s.high)}]`;
  const ret = (r: Row) => returnCells(r.group).summary;
  const out = ["", "## What the results show", ""];
  const data = records.find((r) => r.spec.task === "dialogue")?.datasetReturn;
  for (const greedy of [false, true]) {
    const bc = row("dialogue", "bc", greedy);
    if (bc === undefined || data === undefined) continue;
    const s = ret(bc);
    out.push(
      `- BC${greedy ? ", greedy," : " (sampled)"} on the standard reward: ${interval(s, f)} against its data's ` +
        `average ${f(data)}: ${Math.abs(s.mean - data) <= 1 ? "within" : "not within"} 1.0 of it` +
        ` (success ${pct(metric(bc, "success_rate").mean)}).`,
    );
  }
  const [ilql, bc] = [row("dialogue", "ilql"), row("dialogue", "bc")];
  if (ilql && bc) {
    const [ri, rb] = [ret(ilql), ret(bc)];
    out.push(
      `- ILQL against BC (both sampled), standard reward: ${interval(ri, f)} against ${interval(rb, f)} ` +
        `(${intervalVerdict(ri, rb)}).`,
    );
  }
  const [ilqlYn, bcYn] = [row("dialogue-yn", "ilql"), row("dialogue-yn", "bc")];
  if (ilqlYn && bcYn) {
    const [yi, yb] = [metric(ilqlYn, "yes_no_rate"), metric(bcYn, "yes_no_rate")];
    const [ri, rb] = [ret(ilqlYn), ret(bcYn)];
    const pcts = (x: number) => pct(x);
    out.push(
      `- Under \`yn\`: ILQL's bare yes/no share ${interval(yi, pcts)} against BC's ${interval(yb, pcts)} ` +
        `(${intervalVerdict(yi, yb)}); return ${interval(ri, f)} against ${interval(rb, f)} ` +
        `(${intervalVerdict(ri, rb)}). The paper's claim (fewer bare yes/no questions and a ` +
        `higher return, intervals apart) ${yi.high < yb.low && ri.low > rb.high ? "holds" : "does not hold"} here.`,
    );
  }
  const cells = (r: Row | undefined) =>
    r === undefined ? "– | – | – | –" : ["yes_no_rate", "yes_no_parsed_rate", "open_rate", "unparsed_rate"]
      .map((m) => pct(meanSe(r.group.map((x) => x.eval.metrics[m]!)).mean)).join(" | ");
  const labels = rows(records).map((r) => r.label).filter((l, i, all) => all.indexOf(l) === i);
  out.push(
    "",
    "Per question, mean over seeds: answered by a bare yes/no (of all questions, and of those the answerer",
    "understood — a garbled question is never answered yes or no), open questions, unparseable questions; under the",
    "standard reward and under `yn`:",
    "",
    "| algorithm | standard: yes/no | of parsed | open | unparsed | yn: yes/no | of parsed | open | unparsed |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...labels.map((label) => {
      const of = (task: string) => byTask.get(task)!.find((r) => r.label === label);
      return `| ${label} | ${cells(of("dialogue"))} | ${cells(of("dialogue-yn"))} |`;
    }),
  );
  return out;
}

/** Training and evaluation speed read from the run records (the runs' own clocks). */
function speed(records: readonly RunRecord[]): string[] {
  if (records.length === 0) return [];
  const rows = Object.keys(ALGORITHMS).flatMap((a) => {
    const group = records.filter((r) => r.spec.algorithm === a);
    if (group.length === 0) return [];
    const steps = group[0]!.spec.config.train.steps;
    const train = meanSe(group.map((r) => r.provenance.trainSeconds));
    const games = meanSe(group.map((r) => r.eval.returns.length / r.eval.seconds));
    // PPO's time is its BC start plus its rollouts and updates: no steps/s
    const rate = ALGORITHMS[a]!.train === undefined ? steps / train.mean : undefined;
    return [`| ${a} | ${steps} | ${f(train.mean, 0)} | ${f(rate, 2)} | ${f(games.mean, 1)} |`];
  });
  const threads = [...new Set(records.map((r) => r.provenance.backend))];
  return [
    "",
    "## Speed",
    "",
    `From the run records (mean over the suite's runs; backend: ${threads.join("; ")}; the suite ran as two such`,
    "processes side by side). Training time is the fine-tuning's (PPO: its rollouts and updates), without the shared start.",
    "",
    "| algorithm | training steps | training seconds | steps/s | evaluation games/s |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ];
}

if (import.meta.main) await runMain(main);
