import assert from "node:assert/strict";
import { testBackend } from "../ilql/_test_util.ts";
import { executeRun } from "../eval/runner.ts";
import { expandSuite, type Suite } from "../eval/suite.ts";
import { fixed } from "./results.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SCRIPT = new URL("./wordle.ts", import.meta.url).pathname;

Deno.test("results:wordle --no-run writes the page from the records: every seed, comparisons, Q-ranking, LMRL-Gym", async () => {
  await testBackend(1);
  const tiny = { model: { width: 16, layers: 1 }, train: { steps: 2, batchSize: 4 } };
  const suite: Suite = {
    description: "test",
    tasks: {
      wordle: {
        datasetSize: 20,
        evalEpisodes: 4,
        config: tiny,
        algorithmSweeps: { bc: [{ key: "decode.method", values: ["greedy", "sample"] }] },
      },
      "wordle-lava": { datasetSize: 6, evalEpisodes: 4, config: tiny },
    },
    algorithms: ["bc", "ilql"],
    seeds: [0, 1],
  };
  const dir = await Deno.makeTempDir();
  try {
    const specs = expandSuite(suite);
    for (const spec of specs) await executeRun(spec, `${dir}/results`);
    const writePage = async (tasks: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", `--config=${CONFIG}`, "-A", SCRIPT, "--no-run", "--tasks", tasks, "--results", `${dir}/results`]
          .concat(["--page", `${dir}/w.md`, "--lava-iterations", "30"]),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return Deno.readTextFileSync(`${dir}/w.md`);
    };
    const page = await writePage("wordle,wordle-habit,wordle-lava");
    assert.match(page, /from the run records in \[`.*\/results\/`\]\(results\/\)/);
    assert.match(page, /10 runs \(seeds 0, 1\); \d+ of the suite's runs are not done yet/);
    assert.match(page, /\| information \(greedy max-entropy[^|]*\| -1\.76 ± 0\.02 \| 100\.0 % \|/);
    // one row per config, each with both seeds' returns
    for (const row of ['bc (decode.method="greedy")', 'bc (decode.method="sample")', "ilql"]) {
      assert.match(
        page,
        new RegExp(`\\| ${row.replace(/[().]/g, "\\$&")} \\| 0; 1 \\| -?[\\d.]+ ± [\\d.]+; -?[\\d.]+ ± [\\d.]+ \\|`),
      );
    }
    assert.match(
      page,
      /ILQL against: bc \(decode.method="greedy"\) [+-][\d.]+ \(intervals (apart|overlap)\); bc \(decode/,
    );
    // per-seed values in the order of the seeds column, whatever order the records are read in
    const perSeed = specs.filter((s) => s.task === "wordle" && s.algorithm === "ilql").sort((a, b) => a.seed - b.seed)
      .map((s) => JSON.parse(Deno.readTextFileSync(`${dir}/results/records/${s.id}.json`)).eval)
      .map((e) => `${fixed(e.mean)} ± ${fixed(e.se)}`).join("; ");
    assert.ok(page.includes(`| ilql | 0; 1 | ${perSeed} |`), perSeed);
    // lava: the Q-ranking of ILQL per seed, none for BC
    assert.match(page, /\| ilql \| [^\n]*\|( [\d.]+; [\d.]+ \|){4} [\d.]+ \|\n/);
    assert.match(page, /\| bc \| [^\n]*\| – \| – \| – \| – \| [\d.]+ \|\n/);
    assert.match(page, /\| ILQL \| 97\.7 \| [\d.–-]+ \| – \| [\d.–-]+ \|/);
    assert.match(page, /results\/figures\/curve_wordle-lava\.png/);
    // one seed has no interval to compare
    for (const spec of specs.filter((s) => s.task === "wordle" && s.seed === 1)) {
      await Deno.remove(`${dir}/results/records/${spec.id}.json`);
    }
    assert.match(
      await writePage("wordle"),
      /ILQL against: bc \(decode.method="greedy"\) [+-][\d.]+ \(one seed, no interval\)/,
    );
    // the paper suite's own settings of the lava data's value methods, and ILQL's expectile read from them
    assert.match(
      page,
      /Settings of this dataset's runs besides the above: ilql: `model\.layout=separate`, `model\.valueMax=0`, `optim\.schedule=cosine`, `ilql\.expectile=0\.99`; single-step, mc-returns, cql: `model\.layout=separate`, `model\.valueMax=0`, `optim\.schedule=cosine`; ppo: `train\.steps=0`, `ppo\.iterations=800`, `ppo\.evalEvery=100`\./,
    );
    assert.match(page, /under ILQL's τ 0\.99\./);
    // the mixed data's value methods run in the separate layout; BC's rows take the task's own settings
    const mixed = page.slice(page.indexOf("## wordle:"), page.indexOf("## wordle-lava"));
    assert.match(
      mixed,
      /Settings of this dataset's runs besides the above: ilql, single-step, mc-returns, cql: `model\.layout=separate`; ppo: `train\.steps=0`, `ppo\.iterations=800`, `ppo\.evalEvery=100`\./,
    );
    // what exact values make of the lava data, on both vocabularies, at each expectile
    for (const vocabulary of ["200 evaluation words", "2,315 official answers"]) {
      assert.match(
        page,
        new RegExp(
          `\\| ${vocabulary} \\| -[\\d.]+ / -[\\d.]+ / -6\\.00 \\|( [\\d.]+ \\(-[\\d.]+ vs -[\\d.]+\\) \\|){4}`,
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
