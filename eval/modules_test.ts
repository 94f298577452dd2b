import assert from "node:assert/strict";
import { ALGORITHMS, TASKS } from "./registry.ts";
import { loadAlgorithmModule, loadTaskModule, USER_TASK_BUDGET, withUserTasks } from "./modules.ts";
import { expandSuite, SUITES } from "./suite.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

/** A module file with `source`, in a fresh temporary folder. */
async function moduleFile(source: string): Promise<string> {
  const path = `${await Deno.makeTempDir()}/module.ts`;
  await Deno.writeTextFile(path, source);
  return path;
}

const TASK_SOURCE = (name: string, task: string, rest = "") =>
  `export const name = ${JSON.stringify(name)};\nexport const task = ${task};\n${rest}`;
const GOOD_TASK = `{ description: "d", tokenizer: {}, defaults: {}, dataset: () => [], evaluate: () => ({ returns: [],
  metrics: {} }), anchors: () => ({ floor: 0, ceiling: 1 }) }`;

Deno.test("the example modules register a task and an algorithm that the suites then expand", async () => {
  const task = await loadTaskModule(`${EXAMPLES}reverse_task.ts`);
  const algorithm = await loadAlgorithmModule(`${EXAMPLES}median_bc.ts`);
  try {
    assert.deepEqual([task.name, algorithm], ["reverse", "median-bc"]);
    assert.equal(task.budget.evalEpisodes, 256);
    const runs = expandSuite(withUserTasks(SUITES.own!, [task]), { algorithms: ["bc", "median-bc"] });
    assert.deepEqual(runs.map((r) => `${r.task}/${r.algorithm}/${r.seed}`), [
      "reverse/bc/0",
      "reverse/bc/1",
      "reverse/bc/2",
      "reverse/median-bc/0",
      "reverse/median-bc/1",
      "reverse/median-bc/2",
    ]);
    // the module's defaults and the algorithm's own default reach the runs
    assert.equal(runs[0]!.config.model.context, 12);
    assert.equal(runs.at(-1)!.config.data.topFraction, 0.5);
    assert.equal(runs[0]!.config.data.topFraction, 1);
  } finally {
    delete TASKS.reverse;
    delete ALGORITHMS["median-bc"];
  }
});

Deno.test("a bad module is refused with one line naming the file and the export", async () => {
  const cases: Array<[string, RegExp]> = [
    [TASK_SOURCE("Bad Name", GOOD_TASK), /export 'name' must be a lower-case name .*got "Bad Name"$/],
    [TASK_SOURCE("wordle", GOOD_TASK), /task 'wordle' is already registered$/],
    [
      TASK_SOURCE("t1", GOOD_TASK.replace("evaluate:", "evaluated:")),
      /export 'task.evaluate' must be a function, got undefined$/,
    ],
    [TASK_SOURCE("t2", GOOD_TASK.replace('"d"', "7")), /export 'task.description' must be a string, got number$/],
    [
      TASK_SOURCE("t3", GOOD_TASK, "export const budget = { evalEpisodes: 0, config: {} };"),
      /'budget.evalEpisodes' must be a positive integer, got 0$/,
    ],
    [`export const name = "t4";`, /export 'task' must be an object, got undefined$/],
    [`export const name = "t5"; export const task = {`, /cannot load the module: /],
  ];
  for (const [source, message] of cases) {
    const path = await moduleFile(source);
    await assert.rejects(loadTaskModule(path), (e: Error) => {
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
  await assert.rejects(
    loadTaskModule("/nonexistent/task.ts"),
    /^UsageError: \/nonexistent\/task.ts: cannot load the module: /,
  );
  const algorithm = await moduleFile(
    `export const name = "bc"; export const algorithm = { description: "x", preset: {} };`,
  );
  await assert.rejects(loadAlgorithmModule(algorithm), /algorithm 'bc' is already registered$/);
  const noPreset = await moduleFile(`export const name = "a1"; export const algorithm = { description: "x" };`);
  await assert.rejects(loadAlgorithmModule(noPreset), /export 'algorithm.preset' must be an object, got undefined$/);
  // nothing half-registered
  assert.ok(!["t1", "t2", "t3", "t4", "t5"].some((t) => Object.hasOwn(TASKS, t)));
  assert.ok(!Object.hasOwn(ALGORITHMS, "a1"));
});

Deno.test("withUserTasks adds a user's tasks at their budgets and leaves the suite's own", () => {
  const suite = withUserTasks(SUITES.quick!, [{ name: "mine", budget: USER_TASK_BUDGET }]);
  assert.deepEqual(Object.keys(suite.tasks), [...Object.keys(SUITES.quick!.tasks), "mine"]);
  assert.equal(withUserTasks(SUITES.quick!, []), SUITES.quick);
  assert.deepEqual(Object.keys(SUITES.own!.tasks), []);
});
