/**
 * Learning test: on a two-turn task whose best behaviour appears in only 5 % of the demonstrations (the rest are
 * suboptimal in one half or both, see tasks/stitch), ILQL's greedy value-guided policy must reach a clearly higher
 * return than the policy head trained by behaviour cloning alone. Runs in well under a minute of CPU.
 */
import assert from "node:assert/strict";
import { testBackend } from "../ilql/_test_util.ts";
import { scoredTextPolicy, textPolicy } from "../ilql/decode.ts";
import { Prng } from "../ilql/prng.ts";
import { ilqlRunConfig, trainIlql } from "../ilql/run.ts";
import { STITCH_TOKENIZER, stitchDataset, StitchEnv } from "../tasks/stitch/stitch.ts";
import { rollout } from "../tasks/task.ts";
import { ALGORITHMS, TASKS } from "../eval/registry.ts";
import { expandSuite } from "../eval/suite.ts";
import { evaluationDecode, trainAlgorithm } from "../baselines/algorithm.ts";

await testBackend(1); // a second thread only adds CPU time on a model this small

const data = stitchDataset(1000, new Prng(0));
// small model and a fast target network so the values converge in 200 steps
const common = {
  model: { width: 32, layers: 2, heads: 2, context: 16, dropout: 0 },
  optim: { lr: 3e-3 },
  train: { steps: 200, batchSize: 64, logEvery: 200, seed: 1 },
};

function greedyReturn(policy: ReturnType<typeof textPolicy>): { ret: number; actions: string[] } {
  const [episode] = rollout([new StitchEnv()], policy);
  return { ret: episode!.return, actions: episode!.segments.filter((s) => s.kind === "action").map((s) => s.text) };
}

Deno.test("the stitch dataset rarely contains the best behaviour", () => {
  const best = data.filter((e) => e.segments[1]!.text === "up" && e.segments[3]!.text === "ok").length;
  const mean = data.reduce((s, e) => s + e.segments.reduce((r, seg) => r + (seg.reward ?? 0), 0), 0) / data.length;
  assert.ok(best / data.length < 0.08, `optimal share ${best / data.length}`);
  assert.ok(mean < -0.9, `dataset mean return ${mean}`);
});

Deno.test("ILQL's greedy policy beats behaviour cloning on a task that needs stitching", async () => {
  const bcConfig = ilqlRunConfig({ ...common, ilql: { qWeight: 0, vWeight: 0, cqlWeight: 0 } });
  const bc = await trainIlql(data, STITCH_TOKENIZER, bcConfig);
  const bcResult = greedyReturn(textPolicy(bc.state.model, STITCH_TOKENIZER, { ...bcConfig.decode, beta: 0 }));

  const ilqlConfig = ilqlRunConfig({ ...common, ilql: { polyak: 0.1 } });
  const ilql = await trainIlql(data, STITCH_TOKENIZER, ilqlConfig);
  const ilqlResult = greedyReturn(textPolicy(ilql.state.model, STITCH_TOKENIZER, { ...ilqlConfig.decode, beta: 16 }));

  // behaviour cloning imitates the most common choice at each turn: "dn" (-1), then "ok"
  assert.deepEqual(bcResult, { ret: -1, actions: ["dn", "ok"] });
  // ILQL picks the best first move and the best second move, a combination seen in 5 % of the data
  assert.deepEqual(ilqlResult, { ret: 0, actions: ["up", "ok"] });
  for (const run of [bc, ilql]) {
    run.state.optimizer.dispose();
    run.state.model.dispose();
  }
});

Deno.test("single-step, MC-return and CQL values also improve on behaviour cloning's stitch policy", async () => {
  // single-step and MC learn values of the data's own continuations; on stitch those already rank "up" over "dn"
  // and "ok" over "no", so one step of value-guided improvement reaches the optimum that BC (−1) misses. CQL's max
  // backup needs its conservative term (default weight 0.1): at weight 0 it chases unseen tokens ("nop")
  for (const name of ["single-step", "mc-returns", "cql"]) {
    const { preset, defaults } = ALGORITHMS[name]!;
    const config = ilqlRunConfig({ ...common, ilql: { polyak: 0.1, ...defaults?.ilql, ...preset.ilql } });
    const run = await trainIlql(data, STITCH_TOKENIZER, config);
    const result = greedyReturn(textPolicy(run.state.model, STITCH_TOKENIZER, { ...config.decode, beta: 16 }));
    assert.deepEqual(result, { ret: 0, actions: ["up", "ok"] }, name);
    run.state.optimizer.dispose();
    run.state.model.dispose();
  }
});

Deno.test("filtered BC on the best 5 % of the stitch data reaches the optimum behaviour cloning misses", async () => {
  const { preset } = ALGORITHMS["filtered-bc"]!;
  const config = ilqlRunConfig({ ...common, ...preset, data: { topFraction: 0.05 } });
  const run = await trainIlql(data, STITCH_TOKENIZER, config);
  const result = greedyReturn(textPolicy(run.state.model, STITCH_TOKENIZER, config.decode));
  assert.equal(config.decode.beta, 0);
  assert.deepEqual(result, { ret: 0, actions: ["up", "ok"] });
  run.state.optimizer.dispose();
  run.state.model.dispose();
});

Deno.test("on the ridge diagnostic ILQL walks the ridge; BC and single-step keep the valley, filtered BC wagers", async () => {
  // the task as the suites run it (its defaults and each algorithm's preset), seed 0, 256 evaluation games
  const names = ["bc", "filtered-bc", "single-step", "ilql"];
  const runs = expandSuite({ description: "ridge", tasks: { ridge: { evalEpisodes: 256, config: {} } }, seeds: [0] }, {
    algorithms: names,
  });
  const task = TASKS.ridge!;
  const data = task.dataset(undefined, 0);
  const results: Record<string, { mean: number; optimal: number; wager: number }> = {};
  for (const run of runs) {
    const trained = await trainAlgorithm(ALGORITHMS[run.algorithm]!, {
      episodes: data,
      tokenizer: task.tokenizer,
      config: run.config,
    });
    const policy = scoredTextPolicy(trained.model, task.tokenizer, evaluationDecode(run.config, data), new Prng(0));
    const r = await task.evaluate(policy, run.evalEpisodes, 0);
    results[run.algorithm] = {
      mean: r.returns.reduce((a, b) => a + b, 0) / r.returns.length,
      optimal: r.metrics.optimal_rate!,
      wager: r.metrics.wager_rate!,
    };
    trained.dispose();
  }
  const { ilql, bc, "single-step": singleStep, "filtered-bc": filtered } = results as Record<
    string,
    typeof results[""]
  >;
  assert.equal(ilql!.optimal, 1, JSON.stringify(results));
  assert.equal(bc!.mean, 0, "BC copies the common valley");
  assert.equal(singleStep!.mean, 0, "single-step's average values keep the valley");
  assert.equal(filtered!.wager, 1, "filtered BC copies the lucky wagers of its top tenth");
  for (const other of [bc!, singleStep!, filtered!]) assert.ok(ilql!.mean >= other.mean + 0.9, JSON.stringify(results));
});
