import assert from "node:assert/strict";
import type { RunRecord } from "./store.ts";
import { expandSuite, type Suite } from "./suite.ts";
import { csvTable, groupResults, markdownTable } from "./table.ts";

const SUITE: Suite = {
  description: "test",
  tasks: { stitch: { evalEpisodes: 4, config: { train: { steps: 10 } } } },
  seeds: [0, 1, 2, 3],
};

/** A record with the given evaluation returns (everything else fixed). */
function record(algorithm: string, seed: number, returns: number[], metric: number): RunRecord {
  const spec = expandSuite(SUITE, { algorithms: [algorithm], seeds: [seed] })[0]!;
  const mean = returns.reduce((s, x) => s + x, 0) / returns.length;
  const sd = Math.sqrt(returns.reduce((s, x) => s + (x - mean) ** 2, 0) / (returns.length - 1));
  return {
    spec,
    configHash: "x",
    datasetReturn: -1.2,
    anchors: { floor: -2, ceiling: 0 },
    eval: { returns, mean, se: sd / Math.sqrt(returns.length), metrics: { optimal_rate: metric }, seconds: 1 },
    history: [],
    provenance: {
      commit: "c",
      deno: "2",
      tfjs: "4",
      backend: "b",
      trainSeconds: 2,
      wallSeconds: 3,
      peakRssMiB: 1,
      finished: "t",
    },
  };
}

Deno.test("groupResults(): mean, IQM, interval, normalized score and metrics match hand-computed values", () => {
  const records = [
    // ILQL: per-seed means 0, −0.5, −1, −2.5 (listed out of seed order)
    record("ilql", 2, [-1, -1, -1, -1], 0.25),
    record("ilql", 0, [0, 0, 0, 0], 1),
    record("ilql", 1, [0, -1, 0, -1], 0.5),
    record("ilql", 3, [-2, -3, -2, -3], 0),
    record("bc", 0, [-2, -2, -2, -2], 0),
  ];
  const [bc, ilql] = groupResults(records);
  assert.equal(bc!.algorithm, "bc"); // registration order
  assert.deepEqual(ilql!.seeds, [0, 1, 2, 3]);
  assert.equal(ilql!.summary.mean, -1);
  // IQM of 4 values: the mean of the middle two
  assert.equal(ilql!.summary.iqm, -0.75);
  assert.ok(ilql!.summary.low >= -2.5 && ilql!.summary.low < -1 && ilql!.summary.high > -1 && ilql!.summary.high <= 0);
  // normalized: above the dataset average −1.2 → 50 + 50·(−1 + 1.2)/(0 + 1.2)
  assert.ok(Math.abs(ilql!.normalized! - (50 + 50 * 0.2 / 1.2)) < 1e-9);
  // below it → 50·(−2 + 2)/(−1.2 + 2) = 0
  assert.equal(bc!.normalized, 0);
  // mean over seeds of each run's s.e.: 0, √(1/3)/2, 0, √(1/3)/2
  assert.ok(Math.abs(ilql!.episodeSe - Math.sqrt(1 / 3) / 4) < 1e-12);
  assert.equal(ilql!.metrics.optimal_rate, 0.4375);
  assert.equal(ilql!.episodesPerRun, 4);
  assert.equal(ilql!.stepsPerSecond, 5);
  // a run that trains past its optimizer steps (PPO: train.steps 0, then play iterations it logs) is timed by those
  const ppo = record("ppo", 0, [0], 1);
  ppo.spec.config.train.steps = 0;
  ppo.history = [{ step: 1, info: {} }, { step: 8, info: {} }];
  assert.equal(groupResults([ppo])[0]!.stepsPerSecond, 4);
  // a metric one seed lacks (a diagnostic added after it ran) is left out rather than averaged into NaN
  const later = record("ilql", 4, [0], 1);
  later.eval.metrics.qrank_opening = 0.9;
  const [mixed] = groupResults([later, record("ilql", 5, [0], 1)]);
  assert.deepEqual(mixed!.metrics, { optimal_rate: 1 });
});

Deno.test("markdownTable() bolds the best of each column; csvTable() quotes and lists every group", () => {
  const groups = groupResults([record("bc", 0, [-2, -2, -2, -2], 0), record("ilql", 0, [0, -1, 0, 0], 0.75)]);
  const md = markdownTable(groups);
  assert.match(md, /\| ilql \| \*\*-0\.25 \[-0\.25, -0\.25\]\*\* \|/);
  assert.match(md, /\| bc \| -2\.00 \[-2\.00, -2\.00\] \|/);
  const csv = csvTable(groups).trim().split("\n");
  assert.equal(csv.length, 3);
  assert.equal(
    csv[0],
    "task,algorithm,setting,config,seeds,episodes_per_run,mean,ci_low,ci_high,iqm,episode_se,normalized,optimal_rate," +
      "steps_per_s",
  );
  assert.match(csv[2]!, new RegExp(`^stitch,ilql,,${groups[1]!.config},0,4,-0\\.25,-0\\.25,-0\\.25,-0\\.25,0\\.25,`));
  const withSetting = (setting: Record<string, unknown>) =>
    csvTable(
      groupResults([{ ...record("ilql", 0, [0, 0, 0, 0], 1), spec: { ...record("ilql", 0, [0], 1).spec, setting } }]),
    );
  assert.match(
    withSetting({ "ilql.expectile": 0.9, "decode.beta": 1 }),
    /^stitch,ilql,decode\.beta=1 ilql\.expectile=0\.9,/m,
  );
  // a field with a comma or a quote is quoted, quotes doubled
  assert.match(withSetting({ "model.layout": "a,b" }), /^stitch,ilql,"model\.layout=""a,b""",/m);
});

Deno.test("groupResults() never averages runs of different configs: one row per config, named by the keys that differ", () => {
  const at = (steps: number, seed: number, returns: number[]) => {
    const r = record("bc", seed, returns, 0);
    const config = { ...r.spec.config, train: { ...r.spec.config.train, steps } };
    return { ...r, spec: { ...r.spec, id: `${steps}-${seed}`, config } };
  };
  const groups = groupResults([at(10, 0, [-2, -2]), at(0, 0, [-1, -1]), at(10, 1, [-2, -2]), at(0, 1, [-1, -1])]);
  assert.deepEqual(
    groups.map((g) => [g.algorithm, g.setting, g.seeds, g.summary.mean]),
    [["bc", "train.steps=0", [0, 1], -1], ["bc", "train.steps=10", [0, 1], -2]],
  );
  assert.notEqual(groups[0]!.config, groups[1]!.config);
  assert.deepEqual(groups.map((g) => g.ids), [["0-0", "0-1"], ["10-0", "10-1"]]);
  // a sweep setting stays first in the label, the differing keys follow
  const swept = (steps: number) => {
    const r = at(steps, 0, [0]);
    return { ...r, spec: { ...r.spec, setting: { "decode.beta": 4 } } };
  };
  assert.deepEqual(groupResults([swept(10), swept(0)]).map((g) => g.setting), [
    "decode.beta=4 train.steps=0",
    "decode.beta=4 train.steps=10",
  ]);
  // one config: no extra keys in the label
  assert.deepEqual(groupResults([at(10, 0, [0]), at(10, 1, [0])]).map((g) => g.setting), [""]);
});
