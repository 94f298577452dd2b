import assert from "node:assert/strict";
import type { Trained } from "../baselines/algorithm.ts";
import { testBackend } from "../ilql/_test_util.ts";
import { loadCheckpoint } from "../ilql/checkpoint.ts";
import { utteranceLogProbs } from "../ilql/values.ts";
import { chartSpecs } from "./plots.ts";
import { TASKS } from "./registry.ts";
import { runDir } from "./store.ts";
import { executeRun, TrainedModels } from "./runner.ts";
import { groupResults } from "./table.ts";
import { expandSuite, parseSweep, type Suite } from "./suite.ts";

const SUITE: Suite = {
  description: "test",
  tasks: { stitch: { datasetSize: 10, evalEpisodes: 2, config: { train: { steps: 1 } } } },
  algorithms: ["ilql"],
  seeds: [0, 1],
};

Deno.test("TrainedModels keeps a training while later runs share it and frees it after the last one", () => {
  const runs = expandSuite(SUITE, { sweeps: [parseSweep("decode.beta=0,4,8")] }); // β-major: β0 s0, β0 s1, β4 s0, …
  const models = new TrainedModels(runs);
  const disposed: number[] = [];
  const fake = (seed: number) => ({ dispose: () => disposed.push(seed) }) as unknown as Trained;
  const made = new Map<number, Trained>();
  for (const run of runs) {
    const kept = models.take(run);
    if (made.has(run.seed)) assert.equal(kept?.trained, made.get(run.seed), "reused");
    else {
      assert.equal(kept, undefined);
      made.set(run.seed, fake(run.seed));
    }
    models.release(run, { trained: kept?.trained ?? made.get(run.seed)!, history: [], trainSeconds: 1 });
  }
  assert.deepEqual(disposed, [0, 1], "each training freed once, after its last run");
  assert.equal(models.take(runs[0]!), undefined);
});

Deno.test("TrainedModels.skip(): a run another process finished is one use fewer; the training is still freed", () => {
  const runs = expandSuite(SUITE, { seeds: [0], sweeps: [parseSweep("decode.beta=0,4,8")] }); // one training, 3 uses
  const models = new TrainedModels(runs);
  let disposed = 0;
  const trained = { dispose: () => disposed++ } as unknown as Trained;
  models.release(runs[0]!, { trained, history: [], trainSeconds: 1 }); // β 0 trains, kept for two more
  models.skip(runs[1]!); // β 4 was recorded meanwhile
  assert.equal(disposed, 0, "β 8 still needs it");
  assert.equal(models.take(runs[2]!)?.trained, trained);
  models.release(runs[2]!, models.take(runs[2]!)!);
  assert.equal(disposed, 1);
  // skipping the run that would train leaves the next one to train, and frees it after its own use
  const fresh = new TrainedModels(runs);
  fresh.skip(runs[0]!);
  fresh.skip(runs[1]!);
  assert.equal(fresh.take(runs[2]!), undefined);
  fresh.release(runs[2]!, { trained, history: [], trainSeconds: 1 });
  assert.equal(disposed, 2);
});

Deno.test("the dialogue tasks run through the harness (BC and online PPO, tiny budget)", async () => {
  await testBackend(1);
  const suite: Suite = {
    description: "test",
    tasks: {
      "dialogue-yn": {
        datasetSize: 40,
        evalEpisodes: 8,
        config: {
          train: { steps: 3, batchSize: 4 },
          ppo: { iterations: 1, episodes: 4, minibatch: 4, epochs: 1, valueWarmup: 0 },
        },
      },
    },
    algorithms: ["bc", "ppo"],
    seeds: [0],
  };
  const dir = await Deno.makeTempDir();
  try {
    for (const spec of expandSuite(suite)) {
      const record = await executeRun(spec, dir);
      assert.equal(record.eval.returns.length, 8);
      assert.equal(record.anchors.floor, -60);
      assert.ok(record.anchors.ceiling > -3 && record.anchors.ceiling <= 0, String(record.anchors.ceiling));
      for (const key of ["success_rate", "mean_questions", "yes_no_rate", "unparsed_rate", "open_rate"]) {
        assert.ok(Number.isFinite(record.eval.metrics[key]), key);
      }
      for (const r of record.eval.returns) assert.ok(r <= 0 && r >= -60, String(r));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("learning curves carry the held-out likelihood: ln V per token untrained, the final model's own at the end; none for DT", async () => {
  await testBackend(1);
  const suite: Suite = {
    description: "test",
    tasks: {
      dialogue: {
        datasetSize: 40,
        evalEpisodes: 2,
        config: { train: { steps: 2, batchSize: 4, evalEvery: 2, validationEpisodes: 2 } },
      },
    },
    algorithms: ["bc", "dt"],
    seeds: [0],
  };
  const dir = await Deno.makeTempDir();
  const records = [];
  try {
    for (const spec of expandSuite(suite)) {
      const record = await executeRun(spec, dir, { keepCheckpoint: true });
      records.push(record);
      assert.deepEqual(record.curve!.map((p) => p.step), [0, 2]);
      if (spec.algorithm === "dt") {
        assert.ok(record.curve!.every((p) => p.heldOut === undefined), "a return-conditioned policy is not scored");
        continue;
      }
      const [first, last] = record.curve!;
      const task = TASKS.dialogue!;
      // small initial weights: every token about equally likely
      assert.ok(Math.abs(first!.heldOut!.token - Math.log(task.tokenizer.vocabSize)) < 0.05, JSON.stringify(first));
      const { model } = await loadCheckpoint(`${runDir(dir, spec.id)}/checkpoint.safetensors`);
      const items = task.heldOut!().flatMap((e) =>
        e.segments.flatMap((s, i) =>
          s.kind === "action" ? [{ history: e.segments.slice(0, i), utterance: s.text }] : []
        )
      );
      const logProbs = utteranceLogProbs(model, task.tokenizer, items);
      model.dispose();
      const nll = -logProbs.reduce((sum, l) => sum + l.logProb, 0);
      assert.ok(Math.abs(last!.heldOut!.utterance - nll / items.length) < 1e-4, JSON.stringify(last));
      assert.ok(last!.heldOut!.utterance > last!.heldOut!.token);
    }
    // the figure draws the runs that recorded it (BC's), no start figure without starts
    const heldOutCharts = chartSpecs(groupResults(records), records).filter((c) => c.name.startsWith("heldout_"));
    assert.deepEqual(heldOutCharts.map((c) => c.name), ["heldout_dialogue"]);
    const labels = heldOutCharts[0]!.config.data.datasets.map((d) => String(d.label));
    assert.deepEqual(labels.filter((l) => l !== ""), ["bc"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wordle-lava runs record the Q-ranking of value methods (its pairs scored from the model) at the end and along the curve, none for BC", async () => {
  await testBackend(1);
  const suite: Suite = {
    description: "test",
    tasks: {
      "wordle-lava": {
        datasetSize: 6,
        evalEpisodes: 4,
        config: {
          model: { width: 16, layers: 1 },
          train: { steps: 2, batchSize: 4, evalEvery: 1, validationEpisodes: 2 },
        },
      },
    },
    algorithms: ["bc", "single-step"],
    seeds: [0],
  };
  const dir = await Deno.makeTempDir();
  try {
    const records = [];
    for (const spec of expandSuite(suite)) records.push(await executeRun(spec, dir));
    const [bc, singleStep] = records;
    assert.equal(bc!.eval.metrics.qrank_opening, undefined);
    for (const key of ["qbar_opening_expert", "qbar_opening_mixture", "qbar_branch_expert", "qbar_branch_lava"]) {
      assert.ok(Number.isFinite(singleStep!.eval.metrics[key]), key);
    }
    for (const key of ["qrank_opening", "qrank_branch", "qrank_opening_word", "qrank_branch_word"]) {
      const value = singleStep!.eval.metrics[key]!;
      assert.ok(value >= 0 && value <= 1, `${key} ${value}`);
    }
    // along the curve: every point of the value method (on all pairs of this small data), none of BC's
    assert.deepEqual(singleStep!.curve!.map((p) => p.step), [0, 1, 2]);
    assert.ok(bc!.curve!.every((p) => p.diagnostics === undefined));
    const last = singleStep!.curve!.at(-1)!.diagnostics!;
    assert.equal(Object.keys(last).length, 8);
    for (const [key, value] of Object.entries(last)) assert.equal(value, singleStep!.eval.metrics[key], key);
    assert.notDeepEqual(singleStep!.curve![0]!.diagnostics, last, "the values moved in training");
    // drawn against steps, one figure per diagnostic
    const names = chartSpecs(groupResults(records), records).map((c) => c.name);
    assert.ok(names.includes("diagnostic_wordle-lava_qrank_opening"), names.join());
    assert.ok(names.includes("diagnostic_wordle-lava_qbar_branch_lava"), names.join());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
