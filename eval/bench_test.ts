import assert from "node:assert/strict";
import { testBackend } from "../ilql/_test_util.ts";
import { planSuite, pointLine, runSuite, shareGroups } from "./harness.ts";
import { executeRun } from "./runner.ts";
import { readRecords, recordPath } from "./store.ts";
import { startId } from "./starts.ts";
import { expandSuite, SUITES, trainingKey } from "./suite.ts";

Deno.test("shareGroups(): runs of one start stay together while there are enough starts, else runs of one training", () => {
  const runs = expandSuite(SUITES.paper!, { tasks: ["wordle"], algorithms: ["bc", "ilql"] });
  const starts = new Set(runs.map((r) => startId(r)));
  assert.equal(starts.size, 3, "one start per seed");
  const byStart = shareGroups(runs, 3);
  for (const r of runs) assert.equal(byStart(r), startId(r));
  // more shards than starts: a shard per training (BC's greedy and sampled rows are one training)
  const byTraining = shareGroups(runs, 4);
  for (const r of runs) assert.equal(byTraining(r), trainingKey(r));
  assert.equal(new Set(runs.map(byTraining)).size, 6);
  assert.equal(runs.length, 9);
});

Deno.test("runSuite() skips a planned run that another process recorded meanwhile, and keeps that record", async () => {
  await testBackend(1);
  const runs = expandSuite(SUITES.smoke!, { algorithms: ["bc"] });
  const dir = await Deno.makeTempDir();
  try {
    const plan = planSuite(runs, dir, { report: false });
    assert.equal(plan.todo.length, 2);
    // "another process" finishes the second run between this process's plan and its turn
    await executeRun(runs[1]!, dir);
    const path = recordPath(dir, runs[1]!.id);
    const before = Deno.readTextFileSync(path), stamp = Deno.statSync(path).mtime!.getTime();
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      await runSuite(runs, dir, { report: false, plan });
    } finally {
      console.log = log;
    }
    assert.ok(
      lines.some((l) => l.endsWith("bc seed 1: recorded by another process meanwhile, skipped")),
      lines.join("\n"),
    );
    assert.equal(Deno.readTextFileSync(path), before);
    assert.equal(Deno.statSync(path).mtime!.getTime(), stamp);
    assert.equal(readRecords(dir).length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runSuite() trains runs that differ only in their seed as one stacked computation, as alone", async () => {
  await testBackend(1);
  const runs = expandSuite(SUITES.smoke!, { algorithms: ["ilql"] });
  const [stacked, alone] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await runSuite(runs, stacked, { report: false, stackSeeds: true });
    await runSuite(runs, alone, { report: false, stackSeeds: false });
  } finally {
    console.log = log;
  }
  try {
    assert.ok(
      lines.some((l) => l.endsWith("ilql seed 0: seeds 0, 1 train as one stacked computation")),
      lines.join("\n"),
    );
    const byId = (dir: string) => new Map(readRecords(dir).map((r) => [r.spec.id, r]));
    const [mine, theirs] = [byId(stacked), byId(alone)];
    assert.equal(mine.size, 2);
    for (const [id, record] of theirs) {
      const other = mine.get(id)!;
      assert.equal(other.provenance.stackedSeeds, 2);
      assert.equal(record.provenance.stackedSeeds, undefined);
      assert.deepEqual(other.eval.returns, record.eval.returns);
      assert.deepEqual(other.curve?.map((p) => p.step), record.curve?.map((p) => p.step));
      for (const [i, point] of record.history.entries()) {
        for (const [k, v] of Object.entries(point.info)) {
          assert.ok(
            Math.abs(other.history[i]!.info[k]! - v) <= 1e-4 * (1 + Math.abs(v)),
            `${id} step ${point.step} ${k}`,
          );
        }
      }
    }
  } finally {
    await Promise.all([stacked, alone].map((d) => Deno.remove(d, { recursive: true })));
  }
});

Deno.test("shareGroups(): seeds that train stacked stay in one shard with the runs that reuse their training", () => {
  const runs = expandSuite(SUITES.smoke!, { algorithms: ["bc", "ilql"] });
  const key = shareGroups(runs, 2, true);
  for (const algorithm of ["bc", "ilql"]) {
    assert.equal(new Set(runs.filter((r) => r.algorithm === algorithm).map(key)).size, 1, algorithm);
  }
  assert.equal(new Set(runs.map(key)).size, 2);
});

Deno.test("pointLine(): a curve point's progress line names the held-out likelihood when the point has it", () => {
  const point = { step: 2000, mean: -6.8671, se: 0.6482, metrics: {} };
  assert.equal(pointLine(point), "validation return -6.867 ± 0.648 at step 2000");
  assert.equal(
    pointLine({ ...point, heldOut: { utterance: 4.1172, token: 0.61 } }),
    "validation return -6.867 ± 0.648, held-out NLL 4.117 nats per utterance at step 2000",
  );
});
