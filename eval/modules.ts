/**
 * A user's own tasks and algorithms, loaded from TypeScript modules (`deno task bench --task-module PATH.ts
 * --algo-module PATH.ts`) into the registry the built-in ones live in, so the benchmark is extended without editing
 * the project. A task module exports `name` and `task` (a {@link TaskDefinition}), optionally `budget` (its
 * {@link SuiteTask} in every suite; default {@link USER_TASK_BUDGET}); an algorithm module exports `name` and
 * `algorithm` (an {@link AlgorithmDefinition}). `examples/` holds one of each.
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../ilql/cli.ts";
import type { AlgorithmDefinition } from "../baselines/algorithm.ts";
import { ALGORITHMS, type TaskDefinition, TASKS } from "./registry.ts";
import type { Suite, SuiteTask } from "./suite.ts";

/** A user task's budget when its module gives none: the task's own defaults, 256 evaluation episodes. */
export const USER_TASK_BUDGET: SuiteTask = { evalEpisodes: 256, config: {} };

/** Names a user may give a task or an algorithm: they become file and table names. */
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** A task a user brought, registered, with its budget. */
export interface UserTask {
  name: string;
  budget: SuiteTask;
}

function fail(path: string, message: string): never {
  throw new UsageError(`${path}: ${message}`);
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    fail(path, `cannot load the module: ${(e as Error).message.split("\n")[0]}`);
  }
}

function nameOf(path: string, mod: Record<string, unknown>, registry: Record<string, unknown>, kind: string) {
  const name = mod.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    fail(path, `export 'name' must be a lower-case name (letters, digits, '.', '_', '-'), got ${JSON.stringify(name)}`);
  }
  if (Object.hasOwn(registry, name)) fail(path, `${kind} '${name}' is already registered`);
  return name;
}

function expectType(path: string, value: unknown, field: string, type: FieldType) {
  const actual = value === null ? "null" : typeof value;
  if (actual !== type) fail(path, `export '${field}' must be a${type === "object" ? "n" : ""} ${type}, got ${actual}`);
}

type FieldType = "string" | "function" | "object";

/** Checks an exported definition against the fields its type requires and those it may have. */
function checkDefinition(
  path: string,
  exportName: string,
  value: unknown,
  required: Record<string, FieldType>,
  optional: Record<string, FieldType>,
): void {
  expectType(path, value, exportName, "object");
  const fields = value as Record<string, unknown>;
  for (const [field, type] of Object.entries(required)) expectType(path, fields[field], `${exportName}.${field}`, type);
  for (const [field, type] of Object.entries(optional)) {
    if (fields[field] !== undefined) expectType(path, fields[field], `${exportName}.${field}`, type);
  }
}

/**
 * Loads a task module and registers its task under its `name`.
 * @throws UsageError naming the file and the export that is missing or of the wrong type
 */
export async function loadTaskModule(path: string): Promise<UserTask> {
  const mod = await importModule(path);
  const name = nameOf(path, mod, TASKS, "task");
  checkDefinition(path, "task", mod.task, {
    description: "string",
    tokenizer: "object",
    defaults: "object",
    dataset: "function",
    evaluate: "function",
    anchors: "function",
  }, { environments: "function", diagnose: "function" });
  const budget = (mod.budget ?? USER_TASK_BUDGET) as SuiteTask;
  expectType(path, budget, "budget", "object");
  if (!Number.isInteger(budget.evalEpisodes) || budget.evalEpisodes < 1) {
    fail(path, `export 'budget.evalEpisodes' must be a positive integer, got ${JSON.stringify(budget.evalEpisodes)}`);
  }
  TASKS[name] = mod.task as TaskDefinition;
  return { name, budget };
}

/**
 * Loads an algorithm module and registers its algorithm under its `name`.
 * @throws UsageError naming the file and the export that is missing or of the wrong type
 */
export async function loadAlgorithmModule(path: string): Promise<string> {
  const mod = await importModule(path);
  const name = nameOf(path, mod, ALGORITHMS, "algorithm");
  checkDefinition(path, "algorithm", mod.algorithm, { description: "string", preset: "object" }, {
    defaults: "object",
    train: "function",
    checkConfig: "function",
  });
  ALGORITHMS[name] = mod.algorithm as AlgorithmDefinition;
  return name;
}

/** `suite` with the user's tasks added (each at its budget) — the suite's own tasks stay as they are. */
export function withUserTasks(suite: Suite, tasks: readonly UserTask[]): Suite {
  if (tasks.length === 0) return suite;
  return { ...suite, tasks: { ...suite.tasks, ...Object.fromEntries(tasks.map((t) => [t.name, t.budget])) } };
}
