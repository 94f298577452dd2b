import assert from "node:assert/strict";
import { BACKEND_FLAGS, backendOptions, parseCommandLine, UsageError } from "./cli.ts";
import { ILQL_RUN_SECTIONS } from "./run.ts";

Deno.test("backend flags parse into backend options", () => {
  const { values, overrides } = parseCommandLine(
    ["--blas", "off", "--threads", "1", "--ilql.expectile=0.9"],
    BACKEND_FLAGS,
    ILQL_RUN_SECTIONS,
  );
  assert.deepEqual(backendOptions(values), { backend: "wasm", blas: "off", threads: 1 });
  assert.deepEqual(overrides, { ilql: { expectile: 0.9 } });
  assert.deepEqual(backendOptions({ backend: "cpu", blas: "auto" }), { backend: "cpu", blas: "auto" });
});

Deno.test("bad backend flags are usage errors naming the flag", () => {
  assert.throws(
    () => backendOptions({ backend: "gpu", blas: "auto" }),
    (e: Error) => e instanceof UsageError && /--backend/.test(e.message),
  );
  assert.throws(() => backendOptions({ backend: "wasm", blas: "yes" }), /--blas must be auto, on or off, got 'yes'/);
  assert.throws(
    () => backendOptions({ backend: "wasm", blas: "on", threads: "0" }),
    /--threads must be a positive integer/,
  );
  assert.throws(() => parseCommandLine(["--blass", "on"], BACKEND_FLAGS, ILQL_RUN_SECTIONS), /blass/);
});
