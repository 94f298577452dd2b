import assert from "node:assert/strict";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { startId } from "./starts.ts";
import {
  configKey,
  expandSuite,
  hashOf,
  parseSettings,
  parseShard,
  parseSweep,
  type RunSpec,
  settingLabel,
  shardFromEnv,
  shardRuns,
  type Suite,
  SUITES,
  trainingKey,
} from "./suite.ts";

const SUITE: Suite = {
  description: "test",
  tasks: {
    stitch: { datasetSize: 100, evalEpisodes: 2, config: { train: { steps: 5 } } },
    wordle: { datasetSize: 50, evalEpisodes: 4, config: { train: { steps: 5 } } },
  },
  seeds: [0, 1],
};

Deno.test("expandSuite() is deterministic: same runs, same ids, in suite order", () => {
  const a = expandSuite(SUITE, { algorithms: ["bc", "ilql"] });
  const b = expandSuite(structuredClone(SUITE), { algorithms: ["bc", "ilql"] });
  assert.deepEqual(a, b);
  assert.equal(a.length, 2 * 2 * 2); // tasks × algorithms × seeds
  assert.equal(new Set(a.map((r) => r.id)).size, a.length);
  assert.deepEqual(a.slice(0, 4).map((r) => [r.task, r.algorithm, r.seed]), [
    ["stitch", "bc", 0],
    ["stitch", "bc", 1],
    ["stitch", "ilql", 0],
    ["stitch", "ilql", 1],
  ]);
  // the run's resolved config carries the layers: task defaults, suite budget, algorithm preset, seed
  const bc = a[1]!;
  assert.equal(bc.config.train.steps, 5);
  assert.equal(bc.config.train.seed, 1);
  assert.equal(bc.config.model.width, 32);
  assert.equal(bc.config.ilql.qWeight, 0);
  assert.equal(bc.config.decode.beta, 0);
  assert.equal(a[2]!.config.decode.beta, 16);
});

Deno.test("hashOf() ignores key order and tells values apart", () => {
  assert.equal(hashOf({ a: 1, b: { c: [1, 2], d: "x" } }), hashOf({ b: { d: "x", c: [1, 2] }, a: 1 }));
  assert.notEqual(hashOf({ a: 1 }), hashOf({ a: 2 }));
  assert.notEqual(hashOf([1, 2]), hashOf([2, 1]));
  assert.match(hashOf(null), /^[0-9a-f]{16}$/);
});

Deno.test("a run's id changes with anything that changes the run, and only then", () => {
  const base = expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["ilql"], seeds: [0] })[0]!;
  const again = expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["ilql"], seeds: [0], set: {} })[0]!;
  assert.equal(again.id, base.id);
  const changed = [
    expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["ilql"], seeds: [1] })[0]!,
    expandSuite(SUITE, {
      tasks: ["stitch"],
      algorithms: ["ilql"],
      seeds: [0],
      set: parseSettings(["ilql.expectile=0.8"]),
    })[0]!,
    expandSuite({ ...SUITE, tasks: { stitch: { ...SUITE.tasks.stitch!, evalEpisodes: 3 } } }, {
      algorithms: ["ilql"],
      seeds: [0],
    })[0]!,
  ];
  for (const c of changed) assert.notEqual(c.id, base.id);
  // keys added after records existed: their neutral value keeps the old id, any other value changes it
  const set = (...settings: string[]) =>
    expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["ilql"], seeds: [0], set: parseSettings(settings) })[0]!.id;
  assert.equal(set("model.valueMax=none", "model.valueMin=none"), base.id);
  assert.notEqual(set("model.valueMax=0"), base.id);
  assert.equal(set("optim.schedule=constant"), base.id);
  assert.notEqual(set("optim.schedule=cosine"), base.id);
  assert.equal(set("ppo.evalEvery=0"), base.id);
  assert.notEqual(set("ppo.evalEvery=5"), base.id);
  assert.equal(set("ilql.transitionWeight=0", "start.transitionWeight=0"), base.id);
  assert.notEqual(set("ilql.transitionWeight=0.5"), base.id);
  assert.notEqual(set("start.transitionWeight=0.5"), base.id);
  assert.equal(set("train.lengthPool=1"), base.id);
  assert.notEqual(set("train.lengthPool=8"), base.id);
  assert.equal(set("start.decaySteps=0", "optim.decaySteps=0"), base.id);
  assert.notEqual(set("start.decaySteps=10"), base.id);
  assert.notEqual(set("optim.schedule=cosine", "optim.decaySteps=10"), set("optim.schedule=cosine"));
});

Deno.test("--dataset-size replaces the suite's size in every run, its id and its start", () => {
  const suite = SUITES.paper!;
  const [own] = expandSuite(suite, { tasks: ["wordle-lava"], algorithms: ["ilql"], seeds: [1] });
  const [resized] = expandSuite(suite, {
    tasks: ["wordle-lava"],
    algorithms: ["ilql"],
    seeds: [1],
    datasetSize: 20000,
  });
  assert.equal(own!.datasetSize, 5000);
  assert.equal(resized!.datasetSize, 20000);
  assert.notEqual(resized!.id, own!.id);
  assert.notEqual(startId(resized!), startId(own!));
  assert.deepEqual(resized!.config, own!.config);
});

Deno.test("narrowing, --set and --sweep: the product of the sweeps, algorithm presets win", () => {
  const runs = expandSuite(SUITE, {
    tasks: ["stitch"],
    algorithms: ["bc", "ilql"],
    seeds: [3],
    set: parseSettings(["train.steps=7", "ilql.cqlWeight=0.5"]),
    sweeps: [parseSweep("decode.beta=1,4"), parseSweep("ilql.expectile=0.6,0.9")],
  });
  assert.equal(runs.length, 2 * 4); // algorithms × (2 × 2 settings)
  assert.ok(runs.every((r) => r.config.train.steps === 7 && r.config.train.seed === 3));
  const ilql = runs.filter((r) => r.algorithm === "ilql");
  assert.deepEqual(ilql.map((r) => [r.config.decode.beta, r.config.ilql.expectile]), [[1, 0.6], [1, 0.9], [4, 0.6], [
    4,
    0.9,
  ]]);
  assert.deepEqual(ilql[1]!.setting, { "decode.beta": 1, "ilql.expectile": 0.9 });
  assert.ok(ilql.every((r) => r.config.ilql.cqlWeight === 0.5));
  // BC stays BC: β 0 and no value losses whatever the sweep and --set say
  const bc = runs.filter((r) => r.algorithm === "bc");
  assert.ok(
    bc.every((r) => r.config.decode.beta === 0 && r.config.ilql.cqlWeight === 0 && r.config.ilql.qWeight === 0),
  );
});

Deno.test("presets: single-step is ILQL at expectile 0.5, mc-returns ILQL with MC-return values; all by default", () => {
  const runs = expandSuite(SUITE, { tasks: ["wordle"], seeds: [0] });
  const by = (name: string) => runs.find((r) => r.algorithm === name)!.config;
  assert.deepEqual(runs.map((r) => r.algorithm), Object.keys(ALGORITHMS));
  assert.equal(by("ilql").ilql.expectile, 0.9); // the Wordle task's setting
  assert.equal(by("single-step").ilql.expectile, 0.5);
  assert.equal(by("single-step").decode.beta, by("ilql").decode.beta);
  assert.equal(by("mc-returns").ilql.mcReturns, true);
  assert.equal(by("ilql").ilql.mcReturns, false);
});

Deno.test("presets: DT is BC on a return-conditioned model, CQL has the max backup and its own conservative weight", () => {
  const runs = expandSuite(SUITE, { tasks: ["wordle"], seeds: [0] });
  const by = (name: string) => runs.find((r) => r.algorithm === name)!.config;
  assert.equal(by("dt").model.returnConditioned, true);
  assert.deepEqual([by("dt").ilql.qWeight, by("dt").ilql.vWeight, by("dt").decode.beta], [0, 0, 0]);
  assert.equal(by("cql").ilql.backup, "max");
  assert.equal(by("cql").ilql.cqlWeight, 0.1); // over the Wordle task's 1e-4
  assert.equal(by("ilql").ilql.backup, "value");
  assert.equal(by("ppo").ilql.qWeight, 0); // PPO's offline start is BC
  const swept = expandSuite(SUITE, {
    tasks: ["wordle"],
    algorithms: ["cql"],
    set: parseSettings(["ilql.cqlWeight=1"]),
  });
  assert.equal(swept[0]!.config.ilql.cqlWeight, 1);
});

Deno.test("a suite's own sweeps expand unless --sweep replaces them", () => {
  const beta = SUITES["toxicity-beta"]!;
  assert.equal(expandSuite(beta).length, 3 * 7); // three tasks, seven β, one seed
  assert.equal(expandSuite(beta, { sweeps: [parseSweep("decode.beta=1,2")] }).length, 3 * 2);
});

Deno.test("runs that differ only in decoding share one training key (a β sweep trains once per seed)", () => {
  const runs = expandSuite(SUITE, {
    tasks: ["stitch"],
    algorithms: ["ilql", "bc"],
    sweeps: [parseSweep("decode.beta=1,4")],
  });
  const ilql = runs.filter((r) => r.algorithm === "ilql");
  assert.equal(new Set(ilql.map((r) => r.id)).size, 4); // 2 β × 2 seeds, all different runs
  assert.equal(new Set(ilql.map(trainingKey)).size, 2); // one training per seed
  assert.notEqual(trainingKey(ilql[0]!), trainingKey(runs.find((r) => r.algorithm === "bc")!));
  const other = expandSuite(SUITE, {
    tasks: ["stitch"],
    algorithms: ["ilql"],
    sweeps: [parseSweep("ilql.expectile=0.6,0.8")],
  });
  assert.equal(new Set(other.map(trainingKey)).size, 4);
});

Deno.test("filtered BC: BC's losses and β are fixed, its top fraction (0.1 by default) follows --set and --sweep", () => {
  const one = (options: Parameters<typeof expandSuite>[1]) =>
    expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["filtered-bc"], seeds: [0], ...options });
  assert.equal(one({})[0]!.config.data.topFraction, 0.1);
  const set = one({ set: parseSettings(["data.topFraction=0.3", "ilql.qWeight=1", "decode.beta=8"]) })[0]!.config;
  assert.equal(set.data.topFraction, 0.3);
  assert.equal(set.ilql.qWeight, 0);
  assert.equal(set.decode.beta, 0);
  assert.deepEqual(one({ sweeps: [parseSweep("data.topFraction=0.1,0.2,1")] }).map((r) => r.config.data.topFraction), [
    0.1,
    0.2,
    1,
  ]);
  // other algorithms train on all the data
  assert.equal(
    expandSuite(SUITE, { tasks: ["stitch"], algorithms: ["bc"], seeds: [0] })[0]!.config.data.topFraction,
    1,
  );
});

Deno.test("bad suite input throws one line naming the problem", () => {
  assert.throws(
    () => expandSuite(SUITE, { algorithms: ["dqn"] }),
    /^Error: unknown algorithm 'dqn' \(registered: bc, filtered-bc, ilql/,
  );
  assert.throws(() => expandSuite(SUITE, { tasks: ["chess"] }), /unknown task 'chess'/);
  assert.throws(() => expandSuite(SUITES.smoke!, { tasks: ["wordle"] }), /task 'wordle' has no budget in this suite/);
  assert.throws(() => parseSettings(["ilql.expectiles=0.9"]), /ilql\.expectiles/);
  assert.throws(() => parseSettings(["ilql.expectile=high"]), /ilql\.expectile/);
  assert.throws(() => parseSettings(["expectile"]), /--set expects section\.key=value, got 'expectile'/);
  assert.throws(() => parseSettings(["optimizer.lr=1"]), /unknown config section/);
  assert.throws(() => parseSweep("decode.beta"), /--sweep expects section\.key=v1,v2,…, got 'decode\.beta'/);
  assert.throws(() => parseSweep("decode.beta=1,,4"), /empty value/);
  assert.throws(() => parseSweep("decode.beta=1,1"), /repeated value/);
  assert.throws(() => parseSweep("decode.beta=1,x"), /decode\.beta/);
  assert.throws(() => parseSweep("decode.betas=1,2"), /decode\.betas/);
  for (const text of [() => parseSettings(["ilql.expectile=high"]), () => parseSweep("decode.beta=1,,4")]) {
    try {
      text();
    } catch (e) {
      assert.ok(!(e as Error).message.includes("\n"), "one line");
    }
  }
});

Deno.test("shards partition the runs deterministically; the environment names the shard", () => {
  const runs = expandSuite(SUITE);
  const shards = [0, 1, 2].map((index) => shardRuns(runs, { index, count: 3 }));
  assert.deepEqual(shards.flat().map((r) => r.id).sort(), runs.map((r) => r.id).sort());
  assert.equal(new Set(shards.flat().map((r) => r.id)).size, runs.length);
  assert.deepEqual(shardRuns(runs, { index: 1, count: 3 }), shards[1]);
  // the rows of one decode sweep share a training, so one shard trains it
  const swept = expandSuite(SUITE, { sweeps: [{ key: "decode.beta", values: [1, 2, 4] }] });
  for (let index = 0; index < 2; index++) {
    const mine = shardRuns(swept, { index, count: 2 });
    for (const r of mine) {
      assert.ok(swept.filter((o) => trainingKey(o) === trainingKey(r)).every((o) => mine.includes(o)), r.id);
    }
  }
  // a grouping of one's own: here all runs of one seed in one shard
  const bySeed = shardRuns(runs, { index: 0, count: 2 }, (r) => String(r.seed));
  assert.deepEqual(new Set(bySeed.map((r) => r.seed)).size, 1);
  assert.deepEqual(parseShard("2/5"), { index: 2, count: 5 });
  for (const bad of ["5/5", "1/0", "a/2", "1", "-1/2"]) assert.throws(() => parseShard(bad), /--shard expects i\/n/);
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(shardFromEnv(env({})), null);
  assert.deepEqual(
    shardFromEnv(env({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1" })),
    {
      index: 3,
      count: 4,
    },
  );
  assert.deepEqual(shardFromEnv(env({ JOB_COMPLETION_INDEX: "0", ILQL_SHARD_COUNT: "2" })), { index: 0, count: 2 });
  assert.throws(() => shardFromEnv(env({ SLURM_ARRAY_TASK_ID: "0" })), /SLURM_ARRAY_TASK_COUNT/);
  assert.throws(() => shardFromEnv(env({ JOB_COMPLETION_INDEX: "0" })), /ILQL_SHARD_COUNT/);
});

Deno.test("every declared suite expands", () => {
  // 'own' holds only the tasks a user's modules bring (eval/modules_test.ts)
  for (const [name, suite] of Object.entries(SUITES).filter(([name]) => name !== "own")) {
    const runs = expandSuite(suite);
    assert.ok(runs.length > 0, name);
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length, name);
  }
});

Deno.test("a task's own algorithm list narrows the suite's and --algos; the quick suite's Wordle reuses paper starts", () => {
  const suite: Suite = {
    description: "test",
    tasks: {
      stitch: { evalEpisodes: 2, config: {} },
      ridge: { evalEpisodes: 2, config: {}, algorithms: ["bc", "ilql"] },
    },
    seeds: [0],
  };
  const names = (runs: RunSpec[], task: string) => runs.filter((r) => r.task === task).map((r) => r.algorithm);
  assert.deepEqual(names(expandSuite(suite), "ridge"), ["bc", "ilql"]);
  assert.equal(names(expandSuite(suite), "stitch").length, Object.keys(ALGORITHMS).length);
  const narrowed = expandSuite(suite, { algorithms: ["ilql", "cql"] });
  assert.deepEqual([names(narrowed, "ridge"), names(narrowed, "stitch")], [["ilql"], ["ilql", "cql"]]);
  assert.throws(
    () => expandSuite({ ...suite, tasks: { ridge: { evalEpisodes: 2, config: {}, algorithms: ["dqn"] } } }),
    /task 'ridge': algorithm 'dqn' in its budget is unknown/,
  );
  // the quick suite fine-tunes from the paper suite's habit starts (same ids), 1,000 steps
  const quick = expandSuite(SUITES.quick!, { tasks: ["wordle-habit"] });
  const paper = new Set(expandSuite(SUITES.paper!, { tasks: ["wordle-habit"] }).map(startId));
  assert.deepEqual(new Set(quick.map(startId)), paper);
  assert.ok(quick.every((r) => r.config.train.steps === 1000));
});

Deno.test("a task's algorithmConfig changes only that algorithm's runs", () => {
  const base: Suite = {
    description: "test",
    tasks: { stitch: { evalEpisodes: 2, config: { train: { steps: 5 } } } },
    algorithms: ["bc", "ppo"],
    seeds: [0],
  };
  const plain = expandSuite(base);
  const tuned = expandSuite({
    ...base,
    tasks: { stitch: { ...base.tasks.stitch!, algorithmConfig: { ppo: { ppo: { iterations: 7 } } } } },
  });
  assert.equal(tuned[0]!.id, plain[0]!.id, "BC unchanged");
  assert.notEqual(tuned[1]!.id, plain[1]!.id);
  assert.equal(tuned[1]!.config.ppo.iterations, 7);
  assert.equal(tuned[1]!.config.train.steps, 5);
  assert.throws(
    () => expandSuite({ ...base, tasks: { stitch: { evalEpisodes: 2, config: {}, algorithmConfig: { nope: {} } } } }),
    /task 'stitch': algorithm 'nope' in its budget is unknown/,
  );
});

Deno.test("a task's algorithmSweeps expand only that algorithm's runs, beside --sweep, sharing one training", () => {
  const base: Suite = {
    description: "test",
    tasks: {
      stitch: {
        evalEpisodes: 2,
        config: { train: { steps: 5 } },
        algorithmSweeps: { bc: [{ key: "decode.method", values: ["greedy", "sample"] }] },
      },
    },
    algorithms: ["bc", "ilql"],
    seeds: [0],
  };
  const runs = expandSuite(base);
  assert.deepEqual(runs.map((r) => [r.algorithm, r.setting]), [
    ["bc", { "decode.method": "greedy" }],
    ["bc", { "decode.method": "sample" }],
    ["ilql", {}],
  ]);
  assert.equal(runs[1]!.config.decode.method, "sample");
  assert.equal(trainingKey(runs[0]!), trainingKey(runs[1]!), "greedy and sampled rows of one training");
  const swept = expandSuite(base, { sweeps: [{ key: "train.steps", values: [5, 6] }] });
  assert.deepEqual(swept.map((r) => `${r.algorithm} ${settingLabel(r.setting)}`), [
    'bc decode.method="greedy" train.steps=5',
    'bc decode.method="sample" train.steps=5',
    'bc decode.method="greedy" train.steps=6',
    'bc decode.method="sample" train.steps=6',
    "ilql train.steps=5",
    "ilql train.steps=6",
  ]);
  assert.throws(
    () => expandSuite({ ...base, tasks: { stitch: { ...base.tasks.stitch!, algorithmSweeps: { nope: [] } } } }),
    /task 'stitch': algorithm 'nope' in its budget is unknown/,
  );
});

Deno.test("a task's data version is part of its runs' ids, training keys, starts and experiments", () => {
  const suite: Suite = { ...SUITE, tasks: { stitch: { ...SUITE.tasks.stitch!, config: { start: { steps: 4 } } } } };
  const run = () => expandSuite(suite, { algorithms: ["ilql"], seeds: [0] })[0]!;
  const before = run();
  assert.equal(before.dataVersion, undefined, "no version, no field: older identities stay valid");
  TASKS.stitch!.dataVersion = "v2";
  try {
    const after = run();
    assert.equal(after.dataVersion, "v2");
    assert.notEqual(after.id, before.id);
    assert.notEqual(trainingKey(after), trainingKey(before));
    assert.notEqual(startId(after), startId(before));
    assert.notEqual(configKey(after), configKey(before), "no table mixes data versions");
  } finally {
    delete TASKS.stitch!.dataVersion;
  }
  assert.equal(run().id, before.id);
});
