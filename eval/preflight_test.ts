import assert from "node:assert/strict";
import { checkRuns, probeWritable } from "./preflight.ts";
import { expandSuite, parseSettings, type Suite } from "./suite.ts";

const suite = (task: Partial<Suite["tasks"][string]> = {}, algorithms = ["bc"]): Suite => ({
  description: "test",
  tasks: { stitch: { datasetSize: 40, evalEpisodes: 4, config: { train: { steps: 5, batchSize: 8 } }, ...task } },
  algorithms,
  seeds: [0],
});

/** The one-line message checkRuns throws for a suite and `--set` settings. */
function problem(s: Suite, ...settings: string[]): string {
  try {
    checkRuns(expandSuite(s, { set: parseSettings(settings) }));
  } catch (e) {
    return (e as Error).message;
  }
  return "accepted";
}

Deno.test("checkRuns() accepts runs that can train", () => {
  assert.equal(problem(suite(), "model.heads=4"), "accepted");
  assert.equal(problem(suite({}, ["ppo"]), "train.steps=0", "ppo.iterations=3", "ppo.valueWarmup=1"), "accepted");
});

Deno.test("checkRuns() rejects runs that would be meaningless or fail, naming the run and the key", () => {
  const cases: Array<[string, Suite, string[]]> = [
    ["stitch/bc seed 0: train.steps is 0: the run would evaluate an untrained model", suite(), ["train.steps=0"]],
    [
      "stitch/ppo seed 0: train.steps and ppo.iterations are both 0: the run would evaluate an untrained model",
      suite({}, ["ppo"]),
      ["train.steps=0", "ppo.iterations=0"],
    ],
    [
      "stitch/ppo seed 0: ppo.valueWarmup (10) must be below ppo.iterations (4): the policy would never be updated",
      suite({}, ["ppo"]),
      ["ppo.iterations=4", "ppo.valueWarmup=10"],
    ],
    [
      "stitch/bc seed 0: train.batchSize 64 is larger than the 40 training episodes: every batch would repeat episodes",
      suite(),
      ["train.batchSize=64"],
    ],
    [
      "stitch/filtered-bc seed 0: train.batchSize 8 is larger than the 4 training episodes: every batch would repeat " +
      "episodes",
      suite({}, ["filtered-bc"]),
      ["data.topFraction=0.1"],
    ],
    ["stitch/bc seed 0: model.heads 3 does not divide model.width 32", suite(), ["model.heads=3"]],
    ["stitch/bc seed 0: 0 evaluation episodes: a run needs at least one", suite({ evalEpisodes: 0 }), []],
    ["stitch/bc seed 0: dataset size 0: a run needs at least one training episode", suite({ datasetSize: 0 }), []],
  ];
  for (const [message, s, settings] of cases) assert.equal(problem(s, ...settings), message, settings.join(" "));
  // an episode longer than the context names the episode; a filter that leaves nothing says so
  assert.match(problem(suite(), "model.context=3"), /^stitch\/bc seed 0: stitch dataset 0: .*context/);
  assert.match(problem(suite(), "data.minReturn=5"), /^stitch\/bc seed 0: no episode is left after the data filter/);
});

Deno.test("probeWritable() makes the directory, leaves no probe behind, and names a directory it cannot write", () => {
  const dir = Deno.makeTempDirSync();
  try {
    probeWritable(`${dir}/out`);
    assert.deepEqual([...Deno.readDirSync(`${dir}/out/records`)], [], "the probe file is removed");
    Deno.writeTextFileSync(`${dir}/file`, "");
    assert.throws(() => probeWritable(`${dir}/file/out`), (e: Error) => {
      assert.match(e.message, new RegExp(`^--out ${dir}/file/out: cannot write there \\(`));
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
