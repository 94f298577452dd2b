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
import { ALGORITHMS, DIALOGUE_GAMES, TASKS } from "../eval/registry.ts";
import { meanSe, normalizedScore } from "../eval/stats.ts";
import { readRecords, type RunRecord } from "../eval/store.ts";
import { SUITES } from "../eval/suite.ts";
import { defaultMix } from "../tasks/dialogue/data.ts";
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
  if (!values["no-run"]) {
    const runs = suiteRuns("dialogue", values);
    const backend = await initBackend(backendOptions(values));
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
  await writeFileAtomic(`${OUT}.md`, summary(readRecords(OUT), scripted, speed));
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

const pct = (x: number | undefined) => `${f(x === undefined ? undefined : 100 * x, 1)} %`;

function summary(
  records: RunRecord[],
  scripted: ReadonlyArray<{ name: string; results: Record<string, DialogueEvalResult> }>,
  standalone: readonly SpeedRow[],
): string {
  const tasks = Object.keys(SUITES.dialogue!.tasks);
  const beta = (TASKS.dialogue!.defaults.decode as { beta: number }).beta;
  const lines = [
    "# Dialogue results (the hidden-country game)",
    "",
    "Regenerate with `npx -y deno@2.9.6 task results:dialogue` (the harness's `dialogue` suite; run records, tables,",
    "figures and `report.html` in `results/dialogue/`). The game: find a hidden UN member state (attributes from the",
    "`world-countries` package) from an opening hint by asking a rule-based answerer up to 20 questions; −1 a",
    "question, 0 the right guess; `yn` adds −2 for every answer that is a bare yes or no, `conservative` −2 for every",
    "answer containing a hedge of the reference's list. Offline data: " +
    `${DIALOGUE_GAMES.toLocaleString("en-US")} games of the scripted questioners (seed 0; ${
      defaultMix().map(([q, w]) => `${q.name} ${100 * w} %`).join(", ")
    }); the same dialogues under every variant, only the rewards differ. Per run: 1,024 evaluation games (hidden`,
    "countries and hints from seed 0, the same for every policy), questions sampled (temperature 1; value-guided",
    `methods at β = ${beta}), mean return ± standard error; over seeds: mean of`,
    "the run means with a 95 % bootstrap interval. Normalized: 0 = the variant's worst return (20 penalised",
    "questions), 50 = the training data's average, 100 = the greedy information-gain questioner. Per question:",
    "bare yes/no answers, open questions (answered in words), questions the answerer could not parse.",
  ];
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
    for (const algorithm of Object.keys(ALGORITHMS)) {
      const group = rs.filter((r) => r.spec.algorithm === algorithm).sort((a, b) => a.spec.seed - b.spec.seed);
      if (group.length === 0) continue;
      const cells = returnCells(group);
      const m = (name: string) => meanSe(group.map((r) => r.eval.metrics[name]!)).mean;
      lines.push(
        `| ${algorithm} | ${cells.perSeed} | ${cells.overSeeds} | ${f(normalizedScore(cells.mean, anchors), 1)} | ${
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

/** The paper's claim: value-based RL adapts its questions to the yes/no penalty where BC cannot. */
function claim(records: readonly RunRecord[]): string[] {
  const mean = (task: string, algorithm: string, metric: string) => {
    const group = records.filter((r) => r.spec.task === task && r.spec.algorithm === algorithm);
    return group.length === 0 ? undefined : meanSe(group.map((r) => r.eval.metrics[metric]!)).mean;
  };
  const algorithms = Object.keys(ALGORITHMS).filter((a) => records.some((r) => r.spec.algorithm === a));
  if (algorithms.length === 0) return [];
  const cells = (task: string, a: string) =>
    `${pct(mean(task, a, "yes_no_rate"))} | ${pct(mean(task, a, "yes_no_parsed_rate"))} | ${
      pct(mean(task, a, "open_rate"))
    } | ${pct(mean(task, a, "unparsed_rate"))}`;
  const out = [
    "",
    "## Does the questioning adapt to the yes/no penalty?",
    "",
    "Per question, mean over seeds: answered by a bare yes/no (of all questions, and of those the answerer",
    "understood — a garbled question is never answered yes or no), open questions, unparseable questions; under the",
    "standard reward and under `yn`:",
    "",
    "| algorithm | standard: yes/no | of parsed | open | unparsed | yn: yes/no | of parsed | open | unparsed |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...algorithms.map((a) => `| ${a} | ${cells("dialogue", a)} | ${cells("dialogue-yn", a)} |`),
  ];
  const ilql = mean("dialogue-yn", "ilql", "yes_no_parsed_rate"), bc = mean("dialogue-yn", "bc", "yes_no_parsed_rate");
  if (ilql !== undefined && bc !== undefined) {
    out.push(
      "",
      `Under \`yn\`, ${pct(ilql)} of ILQL's understood questions get a bare yes/no, against ${pct(bc)} of BC's: ${
        ilql < bc
          ? "ILQL asks fewer bare yes/no questions, as the paper reports"
          : "the paper's claim does not hold here"
      }.`,
    );
  }
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
    "processes side by side). PPO's training time includes its BC start and its rollouts.",
    "",
    "| algorithm | training steps | training seconds | steps/s | evaluation games/s |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ];
}

if (import.meta.main) await runMain(main);
