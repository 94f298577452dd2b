import assert from "node:assert/strict";
import { BACKEND_FLAGS, backendOptions, parseCommandLine, parseFlags, positiveIntFlag, UsageError } from "./cli.ts";
import { ILQL_RUN_SECTIONS } from "./run.ts";

Deno.test("backend flags parse into backend options", () => {
  const { values, overrides } = parseCommandLine(
    ["--blas", "off", "--threads", "1", "--ilql.expectile=0.9"],
    BACKEND_FLAGS,
    ILQL_RUN_SECTIONS,
  );
  assert.deepEqual(backendOptions(values), { backend: "wasm", blas: "off", kernels: "pinned", threads: 1 });
  assert.deepEqual(overrides, { ilql: { expectile: 0.9 } });
  assert.deepEqual(backendOptions({ backend: "cpu", blas: "auto", kernels: "native" }), {
    backend: "cpu",
    blas: "auto",
    kernels: "native",
  });
});

Deno.test("bad backend flags are usage errors naming the flag", () => {
  assert.throws(
    () => backendOptions({ backend: "gpu", blas: "auto", kernels: "pinned" }),
    (e: Error) => e instanceof UsageError && /--backend/.test(e.message),
  );
  assert.throws(
    () => backendOptions({ backend: "wasm", blas: "yes", kernels: "pinned" }),
    /--blas must be auto, on or off, got 'yes'/,
  );
  assert.throws(
    () => backendOptions({ backend: "wasm", blas: "on", kernels: "pinned", threads: "0" }),
    /--threads must be a positive integer/,
  );
  assert.throws(
    () => backendOptions({ backend: "wasm", blas: "on", kernels: "fast" }),
    /--kernels must be pinned or native, got 'fast'/,
  );
  assert.throws(() => parseCommandLine(["--blass", "on"], BACKEND_FLAGS, ILQL_RUN_SECTIONS), /blass/);
});

Deno.test("positiveIntFlag() takes a positive integer and names the flag otherwise (--dataset-size, --jobs, …)", () => {
  assert.equal(positiveIntFlag("20000", "--dataset-size"), 20000);
  for (const bad of ["0", "-5", "1.5", "many", ""]) {
    assert.throws(() => positiveIntFlag(bad, "--dataset-size"), /--dataset-size must be a positive integer/);
  }
});

Deno.test("a flag's value that reads as a negative number is the flag's value, not an unknown option", () => {
  const options = { games: { type: "string" }, seed: { type: "string" } } as const;
  assert.deepEqual({ ...parseFlags(["--games", "-3", "--seed", "-0.5"], options).values }, {
    games: "-3",
    seed: "-0.5",
  });
  assert.deepEqual({ ...parseFlags(["--games=-3"], options).values }, { games: "-3" });
  // a dash that is not a number is still an option, and a missing value a usage error naming the flag
  assert.throws(() => parseFlags(["--games", "--seed", "1"], options), /--games/);
  assert.throws(() => parseFlags(["--games", "-x"], options), (e: Error) => e instanceof UsageError);
});
