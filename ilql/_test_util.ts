/**
 * Shared helpers for the test suite: the backend under test (`ILQL_TEST_BACKEND`, default wasm), the PyTorch
 * reference fixture, and tolerance checks.
 * @module
 */
import { type BackendInfo, type BackendName, initBackend } from "./backend.ts";

/**
 * Starts the backend the tests run on (once per test module): `ILQL_TEST_BACKEND` (default wasm) and `ILQL_BLAS`
 * (auto, on or off; default auto). `threads` defaults to the machine's cores.
 */
export function testBackend(threads?: number): Promise<BackendInfo> {
  const backend = (Deno.env.get("ILQL_TEST_BACKEND") ?? "wasm") as BackendName;
  const blas = (Deno.env.get("ILQL_BLAS") ?? "auto") as "auto" | "on" | "off";
  return initBackend({ backend, blas, warn: () => {}, ...(threads === undefined ? {} : { threads }) });
}

/** A flat array with its shape, as stored in the fixture. */
export interface FixtureArray {
  shape: number[];
  data: number[];
}

/** The PyTorch reference values of `tests/fixtures/make_torch_fixture.py`. */
// deno-lint-ignore no-explicit-any
export function torchFixture(): any {
  return JSON.parse(Deno.readTextFileSync(new URL("../tests/fixtures/torch_reference.json", import.meta.url)));
}

/** Throws unless every |actual − expected| ≤ atol + rtol·|expected|. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, what = "values" } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} differs from expected ${expected.length}`);
  }
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!);
    const bound = atol + rtol * Math.abs(expected[i]!);
    if (!(err <= bound) && (worst < 0 || err - bound > worstErr)) {
      worst = i;
      worstErr = err - bound;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}
