import assert from "node:assert/strict";
import type { Trained } from "../baselines/algorithm.ts";
import { TrainedModels } from "./runner.ts";
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
