/**
 * The native-BLAS kernels against the plain wasm kernels on the whole ILQL model: every parameter's gradient within
 * 1e-4 relative and the losses of 20 training steps within 1e-5, in both layouts. Skipped when OpenBLAS is absent.
 */
import assert from "node:assert/strict";
import { openBlas } from "../ilql/blas.ts";

const { blas, reason } = openBlas(1);
const ROOT = new URL("../", import.meta.url).pathname;

async function dump(blasMode: "on" | "off", layout: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write=.cache",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys=cpus",
      "tests/_parity_dump.ts",
      layout,
    ],
    cwd: ROOT,
    env: { ILQL_BLAS: blasMode, ILQL_TEST_BACKEND: "wasm" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  return JSON.parse(text.decode(out.stdout)) as {
    backend: string;
    gradients: Record<string, number[]>;
    losses: number[][];
  };
}

for (const layout of ["separate", "shared"]) {
  Deno.test({
    name: `native BLAS gives the plain wasm kernels' gradients (1e-4) and 20-step losses (1e-5), ${layout} layout`,
    ignore: blas === null,
    fn: async () => {
      const [withBlas, without] = await Promise.all([dump("on", layout), dump("off", layout)]);
      assert.match(withBlas.backend, /OpenBLAS/);
      assert.doesNotMatch(without.backend, /OpenBLAS/);
      const names = Object.keys(without.gradients);
      assert.deepEqual(Object.keys(withBlas.gradients), names);
      for (const name of names) {
        const a = withBlas.gradients[name]!;
        const b = without.gradients[name]!;
        const scale = Math.max(...b.map(Math.abs), 1e-12);
        const worst = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
        // a gradient that is zero in exact arithmetic (the key bias: softmax ignores a per-row constant) is pure
        // rounding noise on both paths, hence the absolute floor
        assert.ok(worst <= 1e-4 * scale + 1e-8, `${name}: max |Δgrad| ${worst} vs max |grad| ${scale}`);
      }
      without.losses.forEach((row, step) =>
        row.forEach((x, j) => {
          const y = withBlas.losses[step]![j]!;
          assert.ok(Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x)), `step ${step + 1} loss ${j}: ${y} vs ${x}`);
        })
      );
    },
  });
}

if (blas === null) console.log(`blas_parity_test: skipped (${reason})`);
