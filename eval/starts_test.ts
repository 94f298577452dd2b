import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { testBackend } from "../ilql/_test_util.ts";
import { copyPolicyWeights } from "../ilql/run.ts";
import { IlqlModel } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { executeRun } from "./runner.ts";
import { startConfig } from "../baselines/bc.ts";
import { existsSync } from "node:fs";
import { weightsDigest } from "../ilql/checkpoint.ts";
import { digestPath, obtainStart, STALE_LOCK_MS, startId } from "./starts.ts";
import { expandSuite, parseSettings, type Suite, SUITES } from "./suite.ts";
import type { CurvePoint } from "./store.ts";

await testBackend(1);

const SUITE: Suite = {
  description: "test",
  tasks: {
    stitch: {
      datasetSize: 60,
      evalEpisodes: 2,
      config: {
        start: { steps: 8 },
        train: { steps: 6, batchSize: 8, evalEvery: 4, validationEpisodes: 2 },
        ppo: { iterations: 1, episodes: 4, minibatch: 4, epochs: 1, valueWarmup: 0 },
      },
    },
  },
  seeds: [0, 1],
};

Deno.test("a start's id depends on the seed, model, data and start budget, never on the algorithm or its budget", () => {
  const runs = expandSuite(SUITE);
  const ids = (seed: number) => new Set(runs.filter((r) => r.seed === seed).map(startId));
  assert.equal(ids(0).size, 1, "every algorithm of seed 0 shares one start");
  assert.notDeepEqual(ids(0), ids(1));
  const with_ = (...settings: string[]) =>
    startId(expandSuite(SUITE, { set: parseSettings(settings), seeds: [0] })[0]!);
  const base = with_();
  assert.equal(
    with_(
      "train.steps=50",
      "optim.lr=0.01",
      "optim.schedule=cosine",
      "decode.beta=4",
      "ilql.expectile=0.8",
      "ppo.evalEvery=2",
    ),
    base,
  );
  // the layout only decides which trunks the start is copied into
  assert.equal(with_("model.layout=separate"), with_("model.layout=shared"));
  // a BC start never reads the value clips
  assert.equal(with_("model.valueMax=0", "model.valueMin=-6"), base);
  // the run's own loss on the environment's tokens is its fine-tuning's; the start's is start.transitionWeight
  assert.equal(with_("ilql.transitionWeight=1"), base);
  assert.equal(with_("start.transitionWeight=0"), base);
  assert.equal(with_("train.lengthPool=1"), base);
  assert.equal(with_("start.decaySteps=0", "optim.decaySteps=30"), base);
  const transitionRun = expandSuite(SUITE, { set: parseSettings(["start.transitionWeight=0.5"]), seeds: [0] })[0]!;
  assert.equal(startConfig(transitionRun.config).ilql.transitionWeight, 0.5);
  for (
    const change of [
      "start.steps=9",
      "start.lr=0.01",
      "start.transitionWeight=0.5",
      "model.width=16",
      "train.batchSize=4",
      "train.lengthPool=16",
      "start.decaySteps=5",
    ]
  ) {
    assert.notEqual(with_(change), base, change);
  }
  assert.equal(with_("start.steps=0"), null);
  // …because the start itself always trains at start.lr, at a constant rate
  const cosineRun = expandSuite(SUITE, { set: parseSettings(["optim.schedule=cosine"]), seeds: [0] })[0]!;
  assert.deepEqual(
    [startConfig(cosineRun.config).optim.schedule, startConfig(cosineRun.config).optim.lr],
    ["constant", cosineRun.config.start.lr],
  );
  // …unless it decays over its last start.decaySteps
  const decaying = expandSuite(SUITE, { set: parseSettings(["start.decaySteps=7"]), seeds: [0] })[0]!;
  const { schedule, decaySteps } = startConfig(decaying.config).optim;
  assert.deepEqual([schedule, decaySteps], ["cosine", 7]);
});

Deno.test("the dialogue variants share one start per seed, on dialogues that differ only in their rewards", async () => {
  const tiny = { evalEpisodes: 2, datasetSize: 12, config: { start: { steps: 8 } } };
  const runs = expandSuite({
    description: "test",
    tasks: { dialogue: tiny, "dialogue-yn": tiny, "dialogue-conservative": tiny, wordle: tiny, "wordle-habit": tiny },
    seeds: [0, 1],
  }, { algorithms: ["ilql"] });
  const idOf = (task: string, seed: number) => startId(runs.find((r) => r.task === task && r.seed === seed)!);
  for (const seed of [0, 1]) {
    assert.equal(idOf("dialogue-yn", seed), idOf("dialogue", seed));
    assert.equal(idOf("dialogue-conservative", seed), idOf("dialogue", seed));
    // Wordle's datasets are different games: their starts are their own
    assert.notEqual(idOf("wordle-habit", seed), idOf("wordle", seed));
  }
  assert.notEqual(idOf("dialogue", 0), idOf("dialogue", 1));
  const { datasetOf } = await import("./runner.ts");
  const texts = (task: string) =>
    datasetOf(runs.find((r) => r.task === task && r.seed === 0)!).map((e) => e.segments.map((s) => [s.kind, s.text]));
  const rewards = (task: string) =>
    datasetOf(runs.find((r) => r.task === task && r.seed === 0)!).flatMap((e) => e.segments.map((s) => s.reward ?? 0));
  assert.deepEqual(texts("dialogue-yn"), texts("dialogue"));
  assert.deepEqual(texts("dialogue-conservative"), texts("dialogue"));
  assert.notDeepEqual(rewards("dialogue-yn"), rewards("dialogue"));
});

Deno.test("a suite's committed starts are exactly its runs' starts, each with the weights its digest records", () => {
  for (const [name, suite] of Object.entries(SUITES)) {
    if (suite.starts === undefined) continue;
    const dir = new URL(`../${suite.starts}/`, import.meta.url).pathname;
    const committed = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".safetensors"));
    const suiteIds = new Set(expandSuite(suite).map(startId).filter((id) => id !== null));
    assert.deepEqual(
      committed.map((n) => n.replace(".safetensors", "")).sort(),
      [...suiteIds].sort(),
      `${suite.starts} holds the ${name} suite's starts (deno task bench --suite ${name} --starts-only makes them)`,
    );
    for (const file of committed) {
      const id = file.replace(".safetensors", "");
      assert.equal(
        weightsDigest(Deno.readFileSync(`${dir}${file}`), file),
        Deno.readTextFileSync(digestPath(dir, id)).trim(),
        `${suite.starts}/${file} has the weights its digest records`,
      );
    }
  }
});

Deno.test("a deleted start retrains to its recorded digest; a changed one is refused; other weights are set aside", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [run] = expandSuite(SUITE, { algorithms: ["bc"], seeds: [0], set: parseSettings(["start.steps=3"]) });
    const data = (await import("./runner.ts")).datasetOf(run!);
    const first = await obtainStart(run!, data, { dir, fresh: true });
    const path = `${dir}/${first.id}.safetensors`;
    assert.equal(Deno.readTextFileSync(digestPath(dir, first.id)).trim(), first.digest);
    first.model.dispose();
    Deno.removeSync(path);
    const again = await obtainStart(run!, data, { dir, fresh: true });
    assert.equal(again.digest, first.digest, "retrained byte for byte");
    again.model.dispose();
    // one weight changed: the start is refused, naming the file
    const bytes = Deno.readFileSync(path);
    bytes[bytes.length - 1]! ^= 1;
    Deno.writeFileSync(path, bytes);
    await assert.rejects(obtainStart(run!, data, { dir, fresh: true }), /safetensors: its weights .* are not the ones/);
    // a recorded digest that another training cannot reach: the new start is kept aside, the record stays
    Deno.removeSync(path);
    Deno.writeTextFileSync(digestPath(dir, first.id), `${"0".repeat(64)}\n`);
    await assert.rejects(obtainStart(run!, data, { dir, fresh: true }), /retrained to other weights than/);
    assert.ok(!existsSync(path), "no start under the recorded name");
    assert.ok(existsSync(`${dir}/${first.id}.mismatch.safetensors`));
    assert.equal(Deno.readTextFileSync(digestPath(dir, first.id)).trim(), "0".repeat(64));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a start stopped midway goes on from its last resumable checkpoint to the uninterrupted start's weights and curve", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // dropout on: the resumed training must continue the dropout stream too
    const set = parseSettings(["start.steps=6", "model.dropout=0.1"]);
    const [run, other] = expandSuite(SUITE, { algorithms: ["bc"], seeds: [0, 1], set });
    const data = (await import("./runner.ts")).datasetOf(run!);
    const points = (of: { curve: CurvePoint[] }) => of.curve.map((p) => [p.step, p.mean]);
    const whole = await obtainStart(run!, data, { dir: `${dir}/whole`, fresh: true, evaluate: curvePoint });
    whole.model.dispose();
    // killed at its step-4 evaluation, after the checkpoint of step 2
    const stopped = obtainStart(run!, data, {
      dir,
      fresh: true,
      resumeEvery: 2,
      evaluate: async (model, step, curve) => {
        if (step === 4) throw new Error("killed");
        await curvePoint(model, step, curve);
      },
    });
    await assert.rejects(stopped, /killed/);
    const partial = `${dir}/${whole.id}.partial.safetensors`;
    assert.ok(existsSync(partial) && !existsSync(`${dir}/${whole.id}.safetensors`));
    // a resumable checkpoint under another start's name is refused
    Deno.copyFileSync(partial, `${dir}/${startId(other!)}.partial.safetensors`);
    await assert.rejects(
      obtainStart(other!, data, { dir, fresh: true }),
      new RegExp(`a resumable checkpoint of start ${whole.id}, not ${startId(other!)}`),
    );
    const resumed = await obtainStart(run!, data, { dir, fresh: true, resumeEvery: 2, evaluate: curvePoint });
    resumed.model.dispose();
    assert.equal(resumed.digest, whole.digest, "the uninterrupted start's weights");
    assert.deepEqual(points(resumed), points(whole));
    assert.deepEqual(points(resumed).map(([step]) => step), [0, 4, 6]);
    assert.ok(!existsSync(partial), "the resumable checkpoint goes once the start is made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A stand-in learning-curve point: the sum of the policy's LM head, which any change of weights moves. */
async function curvePoint(model: IlqlModel, step: number, curve: CurvePoint[]): Promise<void> {
  const sum = tf.tidy(() => tf.sum(model.trunk("policy")!.wte!).dataSync()[0]!);
  curve.push({ step, mean: await Promise.resolve(sum), se: 0, metrics: {} });
}

Deno.test("copyPolicyWeights() gives every trunk the start's policy trunk and LM head; value heads stay fresh", () => {
  for (const layout of ["shared", "separate"] as const) {
    const config = { width: 16, layers: 1, heads: 2, context: 8, dropout: 0, layout, tiedLmHead: false };
    const start = new IlqlModel({ ...modelDefaults(), ...config }, 7, new Prng(1));
    const model = new IlqlModel({ ...modelDefaults(), ...config }, 7, new Prng(2));
    const fresh = [...model.heads.q1["out.w"]!.dataSync()];
    copyPolicyWeights(model, start);
    const from = start.trunk("policy")!;
    for (const trunk of Object.values(model.trunks)) {
      for (const [k, v] of Object.entries(trunk)) assert.deepEqual(v.dataSync(), from[k]!.dataSync(), `${layout} ${k}`);
    }
    assert.deepEqual(model.lmHead!.dataSync(), start.lmHead!.dataSync());
    assert.deepEqual([...model.heads.q1["out.w"]!.dataSync()], fresh, "Q heads keep their initialisation");
    const other = new IlqlModel({ ...modelDefaults(), ...config, width: 32 }, 7, new Prng(3));
    assert.throws(() => copyPolicyWeights(other, start), /the start's width is 16, the run's 32/);
    for (const m of [start, model, other]) m.dispose();
  }
});

function modelDefaults() {
  return expandSuite(SUITE, { seeds: [0] })[0]!.config.model;
}

Deno.test("runs of one seed fine-tune from one start: trained once, then shared in memory and read back from disk", async () => {
  const dir = await Deno.makeTempDir();
  const startsDir = `${dir}/starts`;
  try {
    const [bc, ilql] = expandSuite(SUITE, { algorithms: ["bc", "ilql"], seeds: [0] });
    const data = (await import("./runner.ts")).datasetOf(bc!);
    let trained = 0;
    const start = await obtainStart(bc!, data, { dir: startsDir, onLog: () => trained++ });
    const before = tf.memory().numTensors;
    assert.ok(trained > 0, "the first run trained the start");
    assert.equal(start.steps, 8);
    assert.deepEqual(
      [...Deno.readDirSync(startsDir)].map((e) => e.name).sort(),
      [`${start.id}.safetensors`, `${start.id}.weights.sha256`],
      "no lock left",
    );
    const again = await obtainStart(ilql!, data, { dir: startsDir, onLog: () => trained++ });
    assert.equal(again, start, "the second algorithm gets the same start");
    // a process that did not make it reads it from disk: the same weights
    const read = await obtainStart(bc!, data, { dir: startsDir, fresh: true });
    assert.notEqual(read, start);
    for (const [k, v] of read.model.variables()) {
      assert.deepEqual(v.dataSync(), start.model.variables().get(k)!.dataSync(), k);
    }
    read.model.dispose();
    assert.equal(tf.memory().numTensors, before, "sharing and reading a start leaves no tensor behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock whose owner stopped is taken over; a live lock is waited for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [run] = expandSuite(SUITE, { algorithms: ["bc"], seeds: [1], set: parseSettings(["start.steps=3"]) });
    const data = (await import("./runner.ts")).datasetOf(run!);
    const lock = `${dir}/${startId(run!)}.lock`;
    Deno.writeTextFileSync(lock, "12345\n");
    const past = new Date(Date.now() - STALE_LOCK_MS - 60_000);
    Deno.utimeSync(lock, past, past);
    const start = await obtainStart(run!, data, { dir, fresh: true });
    assert.equal(start.steps, 3);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [`${start.id}.safetensors`, `${start.id}.weights.sha256`],
    );
    start.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run records its learning curve (start, every train.evalEvery steps, end) and its start's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [run] = expandSuite(SUITE, { algorithms: ["ilql"], seeds: [0] });
    const record = await executeRun(run!, dir, { startsDir: `${dir}/starts` });
    assert.deepEqual(record.curve!.map((p) => p.step), [0, 4, 6]);
    assert.deepEqual(record.start!.curve.map((p) => p.step), [0, 4, 8]);
    assert.equal(record.start!.steps, 8);
    for (const p of [...record.curve!, ...record.start!.curve]) {
      assert.ok(p.mean >= -2 && p.mean <= 0 && Number.isFinite(p.se), JSON.stringify(p));
      assert.ok("optimal_rate" in p.metrics);
    }
    // a start's curve is the same whichever run's decoding made it (the runs' own curves differ); a start that
    // learns something (60 steps at 0.01), so that its sampled and greedy returns part
    const byDecode = async (method: string) => {
      const set = parseSettings([
        `decode.method=${method}`,
        "train.validationEpisodes=32",
        "start.steps=60",
        "start.lr=0.01",
      ]);
      const [bc] = expandSuite(SUITE, { algorithms: ["bc"], seeds: [0], set });
      return await executeRun(bc!, dir, { startsDir: `${dir}/starts-${method}` });
    };
    const [sampled, greedy] = [await byDecode("sample"), await byDecode("greedy")];
    assert.notDeepEqual(sampled.curve, greedy.curve);
    assert.deepEqual(sampled.start!.curve, greedy.start!.curve);
    // no curve without train.evalEvery
    const [plain] = expandSuite(SUITE, { algorithms: ["bc"], seeds: [0], set: parseSettings(["train.evalEvery=0"]) });
    const without = await executeRun(plain!, dir, { startsDir: `${dir}/starts` });
    assert.equal(without.curve, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
