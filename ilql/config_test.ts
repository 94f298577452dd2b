import assert from "node:assert/strict";
import { testBackend } from "./_test_util.ts";
import {
  bool,
  choice,
  type ConfigOf,
  defaultsOf,
  formatConfigHelp,
  int,
  num,
  optionalNum,
  parseOverrides,
  resolveConfig,
  resolveSections,
  str,
} from "./config.ts";
import { ILQL_SPEC } from "./ilql.ts";
import { MODEL_SPEC } from "./model.ts";

await testBackend();

const TRAIN = {
  lr: num("Learning rate", 0.001, { above: 0 }),
  gamma: num("Discount", 0.99, { min: 0, max: 1 }),
  bias: num("Any number", 0),
  steps: int("Training steps", 100, { min: 1 }),
  clip: optionalNum("Gradient clip norm; none = off", null, { above: 0 }),
  warmup: optionalNum("Warm-up steps; none = off", 5, { min: 0 }),
  amp: bool("Mixed precision", false),
  mode: choice("Speed", "fast", ["fast", "slow"] as const),
  name: str("Run name", "run"),
};
type TrainConfig = ConfigOf<typeof TRAIN>;

/** Throws unless `fn` throws an Error whose message is exactly `message`, on one line. */
function throwsOneLine(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

// ---- defaults and resolveConfig ----

Deno.test("defaultsOf() gives every field's default", () => {
  const d: TrainConfig = defaultsOf(TRAIN);
  assert.deepEqual(d, {
    lr: 0.001,
    gamma: 0.99,
    bias: 0,
    steps: 100,
    clip: null,
    warmup: 5,
    amp: false,
    mode: "fast",
    name: "run",
  });
  assert.deepEqual(defaultsOf({}), {});
  // a fresh record each time
  assert.notEqual(defaultsOf(TRAIN), defaultsOf(TRAIN));
});

Deno.test("defaultsOf() of the real ILQL and model specs matches their documented defaults", () => {
  assert.deepEqual(defaultsOf(ILQL_SPEC), {
    gamma: 0.99,
    expectile: 0.7,
    cqlWeight: 0.25,
    qWeight: 1,
    vWeight: 1,
    awacWeight: 1,
    awacBeta: 0,
    transitionWeight: 0,
    polyak: 0.005,
    mcReturns: false,
    backup: "value",
    stopOnNonFinite: true,
  });
  const model = defaultsOf(MODEL_SPEC);
  assert.equal(model.layout, "separate");
  assert.equal(model.context, 128);
  assert.equal(model.returnConditioned, false);
  assert.deepEqual(Object.keys(model), Object.keys(MODEL_SPEC));
  // every default passes its own check
  for (const spec of [ILQL_SPEC, MODEL_SPEC, TRAIN]) {
    for (const [key, field] of Object.entries(spec)) assert.equal(field.check(field.default), field.default, key);
  }
});

Deno.test("resolveConfig() applies valid overrides over the defaults", () => {
  const c: TrainConfig = resolveConfig(TRAIN, {
    lr: 0.5,
    gamma: 1,
    bias: -3.5,
    steps: 7,
    clip: 1.5,
    warmup: null,
    amp: true,
    mode: "slow",
    name: "",
  }, "train");
  assert.deepEqual(c, {
    lr: 0.5,
    gamma: 1,
    bias: -3.5,
    steps: 7,
    clip: 1.5,
    warmup: null,
    amp: true,
    mode: "slow",
    name: "",
  });
  // bounds are inclusive for min/max
  assert.equal(resolveConfig(TRAIN, { gamma: 0 }).gamma, 0);
  assert.equal(resolveConfig(TRAIN, { steps: 1 }).steps, 1);
  // no overrides: the defaults
  assert.deepEqual(resolveConfig(TRAIN), defaultsOf(TRAIN));
  assert.deepEqual(resolveConfig(TRAIN, {}), defaultsOf(TRAIN));
  // the spec's defaults are untouched
  assert.equal(TRAIN.steps.default, 100);
  assert.deepEqual(resolveConfig(ILQL_SPEC, { expectile: 0.9 }, "ilql"), { ...defaultsOf(ILQL_SPEC), expectile: 0.9 });
  assert.equal(resolveConfig(MODEL_SPEC, { layout: "shared", heads: 2 }, "model").layout, "shared");
});

Deno.test("resolveConfig() rejects an unknown key and names it", () => {
  throwsOneLine(
    () => resolveConfig(ILQL_SPEC, { expectle: 0.9 }, "ilql"),
    "Unknown config key 'ilql.expectle' (did you mean 'ilql.expectile'?)",
  );
  throwsOneLine(
    () => resolveConfig(TRAIN, { stpes: 3 }, "train"),
    "Unknown config key 'train.stpes' (did you mean 'train.steps'?)",
  );
  // no section: the bare key; case differences are close
  throwsOneLine(() => resolveConfig(TRAIN, { LR: 3 }), "Unknown config key 'LR' (did you mean 'lr'?)");
  // nothing close: no hint
  throwsOneLine(() => resolveConfig(TRAIN, { temperature: 1 }, "train"), "Unknown config key 'train.temperature'");
  // inherited Object properties are not keys
  throwsOneLine(() => resolveConfig(TRAIN, { toString: 1 }, "train"), "Unknown config key 'train.toString'");
  throwsOneLine(
    () => resolveConfig(TRAIN, JSON.parse('{"__proto__": 1}'), "train"),
    "Unknown config key 'train.__proto__'",
  );
});

Deno.test("resolveConfig() rejects values of the wrong type with a one-line message naming the key", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ lr: "0.1" }, "Config key 'train.lr' expected a finite number, got '0.1'"],
    [{ lr: null }, "Config key 'train.lr' expected a finite number, got null"],
    [{ lr: undefined }, "Config key 'train.lr' expected a finite number, got nothing"],
    [{ lr: 0 }, "Config key 'train.lr' must be > 0, got 0"],
    [{ lr: -1 }, "Config key 'train.lr' must be > 0, got -1"],
    [{ gamma: 1.5 }, "Config key 'train.gamma' must be <= 1, got 1.5"],
    [{ gamma: -0.1 }, "Config key 'train.gamma' must be >= 0, got -0.1"],
    [{ steps: 2.5 }, "Config key 'train.steps' expected an integer, got 2.5"],
    [{ steps: "3" }, "Config key 'train.steps' expected an integer, got '3'"],
    [{ steps: 0 }, "Config key 'train.steps' must be >= 1, got 0"],
    [{ clip: 0 }, "Config key 'train.clip' must be > 0, got 0"],
    [{ clip: "none" }, "Config key 'train.clip' expected a finite number, got 'none'"],
    [{ amp: "true" }, "Config key 'train.amp' expected true or false, got 'true'"],
    [{ amp: 1 }, "Config key 'train.amp' expected true or false, got 1"],
    [{ mode: "medium" }, "Config key 'train.mode' expected one of fast, slow, got 'medium'"],
    [{ mode: 1 }, "Config key 'train.mode' expected one of fast, slow, got 1"],
    [{ name: 3 }, "Config key 'train.name' expected a string, got 3"],
    [{ name: ["a"] }, `Config key 'train.name' expected a string, got ["a"]`],
  ];
  for (const [overrides, message] of cases) throwsOneLine(() => resolveConfig(TRAIN, overrides, "train"), message);
  throwsOneLine(() => resolveConfig(TRAIN, { steps: 1.5 }), "Config key 'steps' expected an integer, got 1.5");
  // real specs
  throwsOneLine(
    () => resolveConfig(ILQL_SPEC, { expectile: 0 }, "ilql"),
    "Config key 'ilql.expectile' must be > 0, got 0",
  );
  throwsOneLine(
    () => resolveConfig(ILQL_SPEC, { stopOnNonFinite: "no" }, "ilql"),
    "Config key 'ilql.stopOnNonFinite' expected true or false, got 'no'",
  );
  throwsOneLine(
    () => resolveConfig(MODEL_SPEC, { layout: "mixed" }, "model"),
    "Config key 'model.layout' expected one of separate, shared, got 'mixed'",
  );
  throwsOneLine(
    () => resolveConfig(MODEL_SPEC, { width: 64.5 }, "model"),
    "Config key 'model.width' expected an integer, got 64.5",
  );
  throwsOneLine(
    () => resolveConfig(MODEL_SPEC, { context: 1 }, "model"),
    "Config key 'model.context' must be >= 2, got 1",
  );
});

Deno.test("resolveConfig() rejects non-finite numbers, naming the key", () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    assert.throws(() => resolveConfig(TRAIN, { bias: value }, "train"), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /^Config key 'train\.bias' expected a finite number, got /);
      return true;
    });
    assert.throws(
      () => resolveConfig(TRAIN, { steps: value }, "train"),
      /Config key 'train\.steps' expected an integer/,
    );
  }
});

Deno.test("resolveConfig() rejects an overrides value that is not a record", () => {
  throwsOneLine(() => resolveConfig(TRAIN, 3 as never, "train"), "Config train must be an object, got 3");
  throwsOneLine(() => resolveConfig(TRAIN, [1] as never, "train"), "Config train must be an object, got [1]");
  throwsOneLine(() => resolveConfig(TRAIN, null as never), "Config record must be an object, got null");
});

Deno.test("optionalNum accepts null in code and `none` or `null` on the command line", () => {
  assert.equal(resolveConfig(TRAIN, { clip: null }).clip, null);
  assert.equal(resolveConfig(TRAIN, { clip: 2 }).clip, 2);
  assert.equal(resolveConfig(TRAIN, { warmup: null }).warmup, null);
  assert.equal(TRAIN.clip.parse("none"), null);
  assert.equal(TRAIN.clip.parse("null"), null);
  assert.equal(TRAIN.clip.parse("0.5"), 0.5);
  assert.throws(() => TRAIN.clip.parse("off"), { message: "expected a number, got 'off'" });
  assert.throws(() => TRAIN.clip.parse("-1"), { message: "must be > 0, got -1" });
  const { overrides } = parseOverrides({ train: TRAIN }, ["--train.warmup=none", "--train.clip", "3"]);
  assert.deepEqual(overrides, { train: { warmup: null, clip: 3 } });
  assert.equal(TRAIN.clip.type, "number|none");
});

Deno.test("field parsers read numbers, integers, booleans, choices and strings from text", () => {
  assert.equal(TRAIN.lr.parse("1e-3"), 0.001);
  assert.equal(TRAIN.lr.parse(" 0.5 "), 0.5);
  assert.equal(TRAIN.steps.parse("20"), 20);
  assert.equal(TRAIN.amp.parse("true"), true);
  assert.equal(TRAIN.amp.parse("false"), false);
  assert.equal(TRAIN.mode.parse("slow"), "slow");
  assert.equal(TRAIN.name.parse(""), "");
  assert.throws(() => TRAIN.lr.parse(""), { message: "expected a number, got ''" });
  assert.throws(() => TRAIN.lr.parse("  "), { message: "expected a number, got '  '" });
  assert.throws(() => TRAIN.lr.parse("Infinity"), { message: "expected a number, got 'Infinity'" });
  assert.throws(() => TRAIN.lr.parse("abc"), { message: "expected a number, got 'abc'" });
  assert.throws(() => TRAIN.steps.parse("2.5"), { message: "expected an integer, got 2.5" });
  assert.throws(() => TRAIN.amp.parse("True"), { message: "expected true or false, got 'True'" });
  assert.throws(() => TRAIN.mode.parse("FAST"), { message: "expected one of fast, slow, got 'FAST'" });
});

// ---- command line ----

const SECTIONS = { train: TRAIN, ilql: ILQL_SPEC };

Deno.test("parseOverrides() reads --section.key=value and --section.key value, leaving other args in rest", () => {
  const args = [
    "data.jsonl",
    "--ilql.expectile=0.9",
    "--train.steps",
    "20",
    "--verbose",
    "--out",
    "dir",
    "--train.mode=slow",
    "--train.amp",
    "true",
    "--other.key=1",
    "--ilql",
    "--train.bias",
    "-2.5",
    "--train.name=a=b",
    "-x",
  ];
  const { overrides, rest } = parseOverrides(SECTIONS, args);
  assert.deepEqual(overrides, {
    ilql: { expectile: 0.9 },
    train: { steps: 20, mode: "slow", amp: true, bias: -2.5, name: "a=b" },
  });
  assert.deepEqual(rest, ["data.jsonl", "--verbose", "--out", "dir", "--other.key=1", "--ilql", "-x"]);
  // the arguments are not modified
  assert.equal(args.length, 16);
  assert.deepEqual(parseOverrides(SECTIONS, []), { overrides: {}, rest: [] });
  // the last of a repeated key wins
  assert.deepEqual(parseOverrides(SECTIONS, ["--train.steps=2", "--train.steps=3"]).overrides, { train: { steps: 3 } });
  // parsed overrides resolve to a full config
  const config = resolveSections(SECTIONS, overrides);
  assert.equal(config.ilql.expectile, 0.9);
  assert.equal(config.ilql.gamma, 0.99);
  assert.equal(config.train.steps, 20);
  assert.equal(config.train.lr, 0.001);
});

Deno.test("parseOverrides() rejects a missing value", () => {
  throwsOneLine(() => parseOverrides(SECTIONS, ["--ilql.expectile"]), "Config key 'ilql.expectile' needs a value");
  throwsOneLine(
    () => parseOverrides(SECTIONS, ["--ilql.expectile", "--train.steps=2"]),
    "Config key 'ilql.expectile' needs a value",
  );
});

Deno.test("parseOverrides() rejects an unknown key of a known section and names it", () => {
  throwsOneLine(
    () => parseOverrides(SECTIONS, ["--ilql.expectle=0.9"]),
    "Unknown config key 'ilql.expectle' (did you mean 'ilql.expectile'?)",
  );
  throwsOneLine(() => parseOverrides(SECTIONS, ["--train.zzzzzz", "1"]), "Unknown config key 'train.zzzzzz'");
});

Deno.test("parseOverrides() rejects a bad value, naming the key", () => {
  const cases: [string[], string][] = [
    [["--ilql.expectile=high"], "Config key 'ilql.expectile' expected a number, got 'high'"],
    [["--ilql.expectile", "1.5"], "Config key 'ilql.expectile' must be <= 1, got 1.5"],
    [["--ilql.expectile="], "Config key 'ilql.expectile' expected a number, got ''"],
    [["--train.steps=2.5"], "Config key 'train.steps' expected an integer, got 2.5"],
    [["--train.amp=yes"], "Config key 'train.amp' expected true or false, got 'yes'"],
    [["--train.mode=medium"], "Config key 'train.mode' expected one of fast, slow, got 'medium'"],
    [["--ilql.awacBeta", "-1"], "Config key 'ilql.awacBeta' must be >= 0, got -1"],
    [["--train.clip=0"], "Config key 'train.clip' must be > 0, got 0"],
  ];
  for (const [args, message] of cases) throwsOneLine(() => parseOverrides(SECTIONS, args), message);
});

Deno.test("resolveSections() resolves every section and rejects an unknown one", () => {
  const config = resolveSections({ model: MODEL_SPEC, ilql: ILQL_SPEC }, { ilql: { polyak: 0.1 } });
  assert.deepEqual(config, { model: defaultsOf(MODEL_SPEC), ilql: { ...defaultsOf(ILQL_SPEC), polyak: 0.1 } });
  assert.deepEqual(resolveSections({ train: TRAIN }), { train: defaultsOf(TRAIN) });
  throwsOneLine(
    () => resolveSections({ model: MODEL_SPEC, ilql: ILQL_SPEC }, { ilqll: {} }),
    "Unknown config section 'ilqll'",
  );
  throwsOneLine(() => resolveSections({ train: TRAIN }, { toString: {} }), "Unknown config section 'toString'");
  // key errors carry the section
  throwsOneLine(
    () => resolveSections({ model: MODEL_SPEC, ilql: ILQL_SPEC }, { model: { heads: 0 } }),
    "Config key 'model.heads' must be >= 1, got 0",
  );
  throwsOneLine(
    () => resolveSections({ model: MODEL_SPEC, ilql: ILQL_SPEC }, { ilql: { expectle: 1 } }),
    "Unknown config key 'ilql.expectle' (did you mean 'ilql.expectile'?)",
  );
});

Deno.test("formatConfigHelp() lists every key with its type, default and doc", () => {
  assert.equal(
    formatConfigHelp({ train: TRAIN }),
    [
      "  train:",
      "    --train.lr=<number>  (default 0.001)  Learning rate",
      "    --train.gamma=<number>  (default 0.99)  Discount",
      "    --train.bias=<number>  (default 0)  Any number",
      "    --train.steps=<integer>  (default 100)  Training steps",
      "    --train.clip=<number|none>  (default none)  Gradient clip norm; none = off",
      "    --train.warmup=<number|none>  (default 5)  Warm-up steps; none = off",
      "    --train.amp=<boolean>  (default false)  Mixed precision",
      "    --train.mode=<fast|slow>  (default fast)  Speed",
      "    --train.name=<string>  (default run)  Run name",
    ].join("\n"),
  );
  const sections = { model: MODEL_SPEC, ilql: ILQL_SPEC };
  const lines = formatConfigHelp(sections).split("\n");
  assert.equal(lines.length, 2 + Object.keys(MODEL_SPEC).length + Object.keys(ILQL_SPEC).length);
  assert.equal(lines[0], "  model:");
  assert.equal(lines[1 + Object.keys(MODEL_SPEC).length], "  ilql:");
  for (const [name, spec] of Object.entries(sections)) {
    for (const [key, field] of Object.entries(spec)) {
      const line = lines.find((l) => l.startsWith(`    --${name}.${key}=`));
      assert.ok(line !== undefined, `${name}.${key} is listed`);
      // an unset optional value is written as the command line takes it
      const shown = field.default === null ? "none" : String(field.default);
      assert.equal(line, `    --${name}.${key}=<${field.type}>  (default ${shown})  ${field.doc}`);
    }
  }
  assert.ok(lines.includes("    --model.layout=<separate|shared>  (default separate)  " + MODEL_SPEC.layout.doc));
  assert.ok(lines.includes("    --ilql.expectile=<number>  (default 0.7)  " + ILQL_SPEC.expectile.doc));
  assert.equal(formatConfigHelp({}), "");
});
