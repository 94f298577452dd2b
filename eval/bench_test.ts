import assert from "node:assert/strict";
import { shareGroups } from "./bench.ts";
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
