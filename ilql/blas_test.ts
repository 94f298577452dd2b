import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose } from "./_test_util.ts";
import { initBackend } from "./backend.ts";
import { activeBlas, openBlas } from "./blas.ts";
import { Prng } from "./prng.ts";

// The BLAS kernels against float64 references (the original wasm kernels are wrong on general batch broadcasting,
// fused bias with a batch, and K = 0, so they are not the reference here; tests/blas_parity_test.ts compares whole
// training steps with the original kernels). Skipped when OpenBLAS cannot be opened.
const available = openBlas(1).blas !== null;
const info = available ? await initBackend({ backend: "wasm", blas: "on", warn: () => {} }) : null;

function randn(n: number, prng: Prng): Float32Array {
  return Float32Array.from({ length: n }, () => prng.normal());
}

/** float64 batched matmul with numpy broadcasting over batch dims. */
function reference(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { data: Float64Array; shape: number[] } {
  const ra = aShape.length, rb = bShape.length;
  const M = transposeA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const K = transposeA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const N = transposeB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const ab = aShape.slice(0, -2), bb = bShape.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ab), pad(bb)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const count = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(count * M * N);
  const flatIndex = (coords: number[], shape: number[]) =>
    coords.reduce((acc, c, i) => acc * shape[i]! + (shape[i] === 1 ? 0 : c), 0);
  for (let i = 0; i < count; i++) {
    const coords: number[] = [];
    for (let d = rank - 1, rem = i; d >= 0; d--) {
      coords.unshift(rem % batch[d]!);
      rem = Math.floor(rem / batch[d]!);
    }
    const ai = flatIndex(coords, pa), bi = flatIndex(coords, pb);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = transposeA ? a[ai * M * K + k * M + m]! : a[ai * M * K + m * K + k]!;
          const bv = transposeB ? b[bi * K * N + n * K + k]! : b[bi * K * N + k * N + n]!;
          s += av * bv;
        }
        out[i * M * N + m * N + n] = s;
      }
    }
  }
  return { data: out, shape: [...batch, M, N] };
}

const CASES: Array<[number[], number[]]> = [
  [[5, 7], [7, 3]], // 2-D
  [[1, 1], [1, 1]],
  [[64, 48], [48, 40]],
  [[3, 5, 7], [3, 7, 4]], // batched
  [[3, 5, 7], [7, 4]], // b shared: folded into one GEMM
  [[5, 7], [3, 7, 4]], // a shared
  [[2, 1, 5, 7], [1, 3, 7, 6]], // general broadcasting (the original kernel gets this wrong)
  [[2, 3, 9, 8], [2, 3, 8, 9]],
  [[4, 2, 2], [4, 2, 2]], // tiny batched: falls back to the original kernel
  [[3, 0], [0, 4]], // K = 0
  [[0, 3], [3, 2]], // empty output
];

for (const [aShape, bShape] of CASES) {
  for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
    const as = swap(aShape, transposeA), bs = swap(bShape, transposeB);
    Deno.test({
      name: `BLAS BatchMatMul [${as}]${transposeA ? "ᵀ" : ""} · [${bs}]${
        transposeB ? "ᵀ" : ""
      } equals a float64 reference`,
      ignore: !available,
      fn: () => {
        const prng = new Prng(aShape.length * 31 + bShape[0]!);
        const a = randn(as.reduce((x, y) => x * y, 1), prng);
        const b = randn(bs.reduce((x, y) => x * y, 1), prng);
        const got = tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), transposeA, transposeB);
        const want = reference(a, as, b, bs, transposeA, transposeB);
        assert.deepEqual(got.shape, want.shape);
        assertAllClose(got.dataSync(), want.data, { atol: 1e-5, rtol: 1e-5, what: "product" });
      },
    });
  }
}

Deno.test({
  name: "BLAS _FusedMatMul adds the bias (rank 1 and scalar) and applies relu, also with a batch",
  ignore: !available,
  fn: () => {
    const prng = new Prng(5);
    for (const [aShape, bShape] of [[[6, 4], [4, 5]], [[2, 6, 4], [2, 4, 5]]] as const) {
      const a = randn(aShape.reduce((x, y) => x * y, 1), prng);
      const b = randn(bShape.reduce((x, y) => x * y, 1), prng);
      const plain = reference(a, [...aShape], b, [...bShape], false, false).data;
      for (const biasValues of [randn(5, prng), Float32Array.of(0.7)]) {
        for (const activation of ["linear", "relu"] as const) {
          const got = tf.fused.matMul({
            a: tf.tensor(a, [...aShape]),
            b: tf.tensor(b, [...bShape]),
            bias: tf.tensor(biasValues),
            activation,
          }).dataSync();
          const want = plain.map((x, i) => {
            const y = x + biasValues[biasValues.length === 1 ? 0 : i % 5]!;
            return activation === "relu" ? Math.max(y, 0) : y;
          });
          assertAllClose(got, want, {
            atol: 1e-5,
            rtol: 1e-5,
            what: `${aShape} bias ${biasValues.length} ${activation}`,
          });
        }
      }
    }
  },
});

Deno.test({
  name: "BLAS Sum and Mean over leading or trailing axes equal a float64 reference; other reductions keep the original",
  ignore: !available,
  fn: () => {
    const prng = new Prng(6);
    const x = randn(4 * 3 * 5, prng);
    const t = tf.tensor(x, [4, 3, 5]);
    const sumOver = (axes: number[]) => {
      const out = new Float64Array(60).fill(0);
      const keep = [0, 1, 2].filter((d) => !axes.includes(d));
      const dims = [4, 3, 5];
      const outShape = keep.map((d) => dims[d]!);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 3; j++) {
          for (let k = 0; k < 5; k++) {
            const c = [i, j, k];
            const idx = keep.reduce((acc, d, n) => acc * outShape[n]! + c[d]!, 0);
            out[idx]! += x[i * 15 + j * 5 + k]!;
          }
        }
      }
      return out.slice(0, outShape.reduce((p, q) => p * q, 1));
    };
    for (const axes of [[0], [0, 1], [1], [2], [1, 2], [-1], [0, 1, 2]]) {
      const positive = axes.map((ax) => (ax + 3) % 3);
      const count = positive.reduce((n, ax) => n * [4, 3, 5][ax]!, 1);
      assertAllClose(tf.sum(t, axes).dataSync(), sumOver(positive), { atol: 1e-5, what: `sum over ${axes}` });
      const means = Array.from(sumOver(positive), (v) => v / count);
      assertAllClose(tf.mean(t, axes).dataSync(), means, { atol: 1e-6, what: `mean over ${axes}` });
    }
    assert.deepEqual(tf.sum(t, 0, true).shape, [1, 3, 5]);
    assert.deepEqual(tf.mean(t, -1, true).shape, [4, 3, 1]);
    assert.deepEqual(tf.sum(t, [1, 2]).shape, [4]);
    assert.deepEqual(tf.sum(tf.zeros([0, 3]), 0).dataSync(), new Float32Array(3));
    assert.deepEqual(tf.sum(tf.zeros([3, 0]), 0).dataSync(), new Float32Array(0));
    assert.deepEqual(tf.sum(tf.zeros([3, 0]), 1).dataSync(), new Float32Array(3));
  },
});

Deno.test({
  name: "initBackend() with BLAS runs one wasm thread, plain matmuls, and reports the library",
  ignore: !available,
  fn: () => {
    assert.equal(info!.threads, 1);
    assert.equal(info!.matmul, "plain");
    assert.ok(info!.blas !== null && info!.blas.path.includes("openblas"));
    assert.match(info!.summary, /OpenBLAS/);
    assert.equal(activeBlas()?.path, info!.blas!.path);
  },
});

Deno.test("openBlas() returns null with a reason for a missing library instead of throwing", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { openBlas } from "${new URL("./blas.ts", import.meta.url)}"; console.log(JSON.stringify(openBlas(1)))`,
    ],
    env: { ILQL_BLAS_LIB: "/nonexistent/libopenblas.so" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const result = JSON.parse(text);
  assert.equal(result.blas, null);
  assert.match(result.reason, /^ILQL_BLAS_LIB=\/nonexistent\/libopenblas\.so: /);
});

Deno.test("without --allow-ffi the backend runs the wasm path and one line says why", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { initBackend } from "${new URL("./backend.ts", import.meta.url)}";
const lines: string[] = [];
const info = await initBackend({ warn: (l) => lines.push(l) });
console.log(JSON.stringify({ blas: info.blas, matmul: info.matmul, lines }));`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      script,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  assert.equal(result.blas, null);
  assert.equal(result.matmul, "fast");
  assert.deepEqual(result.lines, [
    "info: native BLAS unavailable (--allow-ffi is not granted); running the tuned wasm path",
  ]);
});

Deno.test({
  name: "runsPinnedCore() agrees with the CPU flags in /proc/cpuinfo (AVX2 and FMA)",
  ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn: async () => {
    // `deno eval` runs with every permission, which Deno requires for reading /proc/cpuinfo
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { runsPinnedCore } from "${new URL("./blas.ts", import.meta.url)}";
const flags = Deno.readTextFileSync("/proc/cpuinfo").match(/^flags\\s*:(.*)$/m)[1].split(/\\s+/);
console.log(JSON.stringify({ pinned: runsPinnedCore(), flags: flags.includes("avx2") && flags.includes("fma") }));`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const { pinned, flags } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(pinned, flags);
  },
});
