import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import { assertAllClose } from "./_test_util.ts";
import { backendInfo, type BackendName, initBackend } from "./backend.ts";
import {
  attention,
  dropout,
  gelu,
  layerNorm,
  linear,
  matMul,
  matMulRoute,
  projectHeads,
  setMatMulRoute,
  stopGradient,
} from "./ops.ts";
import { Prng } from "./prng.ts";

// This file tests the wasm backend itself, whatever ILQL_TEST_BACKEND says.
const warnings: string[] = [];
// the tuned wasm path (native BLAS has its own tests in blas_test.ts)
const info = await initBackend({ backend: "wasm", blas: "off", warn: (line) => warnings.push(line) });

const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;
const DENO_LOCK = new URL("../deno.lock", import.meta.url).pathname;
const BACKEND_URL = new URL("./backend.ts", import.meta.url).href;

function randn(n: number, prng: Prng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * prng.normal());
}

// ---- initialisation ----

Deno.test("initBackend() starts wasm with the default thread count and fast matmuls", () => {
  const cores = navigator.hardwareConcurrency || 1;
  // default: the machine's cores, at most 8 (2 on the 2-core machines this project runs on)
  const expected = Math.min(cores, 8);
  assert.equal(info.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.threads, expected, `cores ${cores}: ${info.summary}`);
  if (cores >= 2) assert.ok(info.threads >= 2, "the pthread shim did not start a second thread");
  assert.equal(getThreadsCount(), info.threads);
  assert.equal(info.matmul, "fast");
  assert.equal(matMulRoute(), "fast");
  assert.ok(!info.summary.includes("\n") && info.summary.includes(`${info.threads} thread`), info.summary);
  assert.deepEqual(warnings, [], "no warning when threads start normally");
  assert.ok(tf.getKernel("UnsortedSegmentSum", "wasm") !== undefined, "UnsortedSegmentSum is registered");
});

Deno.test("initBackend() again with the same backend returns the same info", async () => {
  assert.equal(await initBackend({ backend: "wasm", blas: "off" }), info);
  assert.equal(await initBackend({ blas: "off" }), info);
  assert.equal(backendInfo(), info);
});

Deno.test("initBackend() with another backend, once wasm runs, throws one line naming both", async () => {
  await assert.rejects(initBackend({ backend: "cpu" }), (e: Error) => {
    assert.ok(!e.message.includes("\n"), e.message);
    assert.match(e.message, /'wasm'.*'cpu'/);
    return true;
  });
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(backendInfo(), info);
});

Deno.test("initBackend() with an unknown backend name throws naming it", async () => {
  await assert.rejects(initBackend({ backend: "webgpu" as BackendName }), (e: Error) => {
    assert.match(e.message, /Unknown backend 'webgpu'/);
    assert.ok(e.message.includes("wasm, cpu, tensorflow"), e.message);
    return true;
  });
});

// ---- subprocesses: the tensorflow backend and the threads fallback ----

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a module in a fresh Deno process, without asking for permissions, resolving packages through the project's
 * lock file exactly as the test process did (`--frozen`: the lock is read, never rewritten, so a package it does not
 * hold, such as `@tensorflow/tfjs-node`, fails to resolve). A package the cache lacks is installed as on a fresh
 * machine, never assumed present.
 */
async function runScript(source: string, timeoutMs = 60_000): Promise<ScriptResult> {
  const dir = await Deno.makeTempDir({ prefix: "ilql-backend-test-" });
  try {
    const file = `${dir}/script.ts`;
    await Deno.writeTextFile(file, source.replaceAll("$DIR", dir));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "-A",
        "--frozen",
        `--lock=${DENO_LOCK}`,
        "--config",
        DENO_CONFIG,
        file,
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const decoder = new TextDecoder();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("initBackend('tensorflow') without tfjs-node rejects with one line naming @tensorflow/tfjs-node", async () => {
  const r = await runScript(`
import { initBackend } from ${JSON.stringify(BACKEND_URL)};
try {
  const info = await initBackend({ backend: "tensorflow" });
  console.log(JSON.stringify({ started: true, info }));
} catch (e) {
  console.log(JSON.stringify({ started: false, isError: e instanceof Error, message: e instanceof Error ? e.message : String(e) }));
}
`);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim());
  assert.equal(result.started, false, `the tensorflow backend started here: ${r.stdout}`);
  assert.equal(result.isError, true);
  const message: string = result.message;
  assert.ok(!message.includes("\n") && !message.includes("\r"), `not one line: ${JSON.stringify(message)}`);
  assert.ok(message.includes("@tensorflow/tfjs-node"), message);
  assert.match(message, /^backend 'tensorflow' needs /);
});

Deno.test("initBackend() falls back to 1 thread with a warning when the worker dir is unwritable", async () => {
  const r = await runScript(`
import { initBackend } from ${JSON.stringify(BACKEND_URL)};
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs";
const info = await initBackend({ backend: "wasm", blas: "off", threads: 2, workerDir: "/proc/forbidden" });
const sum = tf.sum(tf.matMul(tf.ones([3, 4]), tf.ones([4, 2]))).dataSync()[0];
console.log(JSON.stringify({ info, threads: getThreadsCount(), backend: tf.getBackend(), sum }));
`);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim());
  assert.equal(result.info.threads, 1);
  assert.equal(result.threads, 1);
  assert.equal(result.backend, "wasm");
  assert.equal(result.sum, 24, "the fallback backend computes");
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length >= 1, "no warning printed");
  for (const line of lines) assert.match(line, /^warning: /);
  assert.match(lines[0]!, /^warning: wasm threads unavailable \(.*\/proc\/forbidden.*\); running 1 thread$/);
});

Deno.test({
  name: "initBackend() threads fallback prints exactly one warning line",
  fn: async () => {
    const r = await runScript(`
import { initBackend } from ${JSON.stringify(BACKEND_URL)};
await initBackend({ backend: "wasm", blas: "off", threads: 2, workerDir: "/proc/forbidden" });
`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^warning: /);
  },
});

Deno.test({
  name: "a program that started 2 wasm threads exits by itself",
  fn: async () => {
    const r = await runScript(
      `
import { initBackend } from ${JSON.stringify(BACKEND_URL)};
const info = await initBackend({ backend: "wasm", blas: "off", threads: 2, workerDir: "$DIR/workers" });
console.log(info.threads);
`,
      15_000,
    );
    assert.equal(r.stdout.trim(), "2");
    assert.equal(r.code, 0, `exit code ${r.code} (killed after 15 s?)`);
  },
});

// ---- UnsortedSegmentSum: the gradient of gather ----

Deno.test("gather gradient on wasm sums dy per index (UnsortedSegmentSum kernel)", () => {
  const prng = new Prng(11);
  const V = 6, D = 5;
  const indices = [0, 2, 2, 5, 2, 0, 3];
  const table = tf.tensor2d(randn(V * D, prng), [V, D]);
  const idx = tf.tensor1d(indices, "int32");
  const dyValues = randn(indices.length * D, prng);
  const dy = tf.tensor2d(dyValues, [indices.length, D]);
  const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, idx), dy)))(table);
  assert.deepEqual(g.shape, [V, D]);
  const expected = new Float64Array(V * D);
  indices.forEach((r, i) => {
    for (let j = 0; j < D; j++) expected[r * D + j]! += dyValues[i * D + j]!;
  });
  assertAllClose(g.dataSync(), expected, { atol: 1e-6, rtol: 1e-6, what: "gather grad" });
  // rows never gathered (1, 4) get exactly zero; with dy = 1 each row's gradient is its count
  for (const r of [1, 4]) for (let j = 0; j < D; j++) assert.equal(g.dataSync()[r * D + j], 0);
  const counts = tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, idx)))(table).arraySync() as number[][];
  assert.deepEqual(counts.map((row) => row[0]), [2, 0, 3, 1, 0, 1]);
  assert.ok(counts.every((row) => row.every((x) => x === row[0])));
});

Deno.test("gather gradient on wasm works for 2-D indices, axis 1 and a 3-D table", () => {
  const prng = new Prng(12);
  // 2-D indices into a [V, 2, 3] table
  const table = tf.tensor3d(randn(4 * 2 * 3, prng), [4, 2, 3]);
  const idx = tf.tensor2d([[3, 1], [3, 3]], [2, 2], "int32");
  const dyValues = randn(2 * 2 * 2 * 3, prng);
  const dy = tf.tensor(dyValues, [2, 2, 2, 3]);
  const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, idx), dy)))(table).dataSync();
  const expected = new Float64Array(4 * 6);
  [3, 1, 3, 3].forEach((r, i) => {
    for (let j = 0; j < 6; j++) expected[r * 6 + j]! += dyValues[i * 6 + j]!;
  });
  assertAllClose(g, expected, { atol: 1e-6, rtol: 1e-6, what: "2-D indices" });
  // axis 1 of a [3, 4] matrix, indices [1, 1, 0]
  const m = tf.tensor2d(randn(12, prng), [3, 4]);
  const dy2Values = randn(9, prng);
  const dy2 = tf.tensor2d(dy2Values, [3, 3]);
  const g2 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, [1, 1, 0], 1), dy2)))(m).dataSync();
  const expected2 = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    [1, 1, 0].forEach((c, i) => (expected2[r * 4 + c]! += dy2Values[r * 3 + i]!));
  }
  assertAllClose(g2, expected2, { atol: 1e-6, rtol: 1e-6, what: "axis 1" });
});

Deno.test("gather on wasm: the row-copying kernel equals the original on axis 0; other cases keep the original", () => {
  const prng = new Prng(13);
  const cases: Array<[number[], number[], number]> = [[[7, 2, 3], [4, 1], 0], [[5, 4], [3, 2], 0], [[5, 4], [3], -1]];
  for (const [tableShape, idxShape, axis] of cases) {
    const table = tf.tensor(randn(tf.util.sizeFromShape(tableShape), prng), tableShape);
    const along = axis < 0 ? axis + tableShape.length : axis;
    const rows = tableShape[along]!;
    const ids = Array.from({ length: tf.util.sizeFromShape(idxShape) }, (_, i) => (i * 5 + 3) % rows);
    const got = tf.gather(table, tf.tensor(ids, idxShape, "int32"), axis);
    // expected: gather row by row with slices (no gather kernel involved)
    const parts = ids.map((r) =>
      tf.slice(table, tableShape.map((_, d) => d === along ? r : 0), tableShape.map((n, d) => d === along ? 1 : n))
    );
    const expected = along === 0 ? tf.reshape(tf.concat(parts, 0), got.shape) : tf.concat(parts, along);
    assert.deepEqual(got.shape, expected.shape);
    assert.deepEqual(got.dataSync(), expected.dataSync());
  }
  assert.throws(
    () => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], "int32")).dataSync(),
    /index 3 is not in \[0, 2\]/,
  );
  // int32 tables take the original kernel
  assert.deepEqual(tf.gather(tf.tensor1d([5, 6, 7], "int32"), [2, 0]).arraySync(), [7, 5]);
});

// ---- matmul routes ----

/** float64 `a[nb, M, K] · b[nb, K, N]` (or `b[nb, N, K]ᵀ` when `bT`). */
function refMatMul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  nb: number,
  M: number,
  K: number,
  N: number,
  aT = false,
  bT = false,
): Float64Array {
  const out = new Float64Array(nb * M * N);
  for (let n = 0; n < nb; n++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = aT ? a[n * K * M + k * M + i]! : a[n * M * K + i * K + k]!;
          const bv = bT ? b[n * N * K + j * K + k]! : b[n * K * N + k * N + j]!;
          s += av * bv;
        }
        out[n * M * N + i * N + j] = s;
      }
    }
  }
  return out;
}

function withRoute<T>(next: "fast" | "plain", f: () => T): T {
  const before = matMulRoute();
  setMatMulRoute(next);
  try {
    return f();
  } finally {
    setMatMulRoute(before);
  }
}

const M = 5, K = 7, N = 3;

Deno.test("matMul(): both routes equal a float64 reference, values and gradients", () => {
  const prng = new Prng(20);
  const aValues = randn(M * K, prng);
  const bValues = randn(K * N, prng);
  const dyValues = randn(M * N, prng);
  const [a, b, dy] = [tf.tensor2d(aValues, [M, K]), tf.tensor2d(bValues, [K, N]), tf.tensor2d(dyValues, [M, N])];
  const expected = [
    refMatMul(aValues, bValues, 1, M, K, N, false, false), // y = a·b
    refMatMul(dyValues, bValues, 1, M, N, K, false, true), // dA = dy·bᵀ
    refMatMul(aValues, dyValues, 1, K, M, N, true), // dB = aᵀ·dy
  ];
  for (const r of ["fast", "plain"] as const) {
    const got = withRoute(r, () => {
      const [da, db] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(matMul(x, w), dy)))([a, b]);
      return [matMul(a, b), da!, db!].map((t) => t.dataSync());
    });
    ["value", "grad a", "grad b"].forEach((what, i) =>
      assertAllClose(got[i]!, expected[i]!, { atol: 1e-5, rtol: 1e-4, what: `${r} ${what}` })
    );
  }
});

/** Values and gradients of `f` against the same function written with tfjs's own ops and autodiff. */
function compareWithAutodiff(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  what: string,
): void {
  const prng = new Prng(41);
  const dy = tf.tensor(randn(reference(...inputs).size, prng), reference(...inputs).shape);
  const loss = (g: (...xs: tf.Tensor[]) => tf.Tensor) => (...xs: tf.Tensor[]) => tf.sum(tf.mul(g(...xs), dy));
  const expected = [reference(...inputs), ...tf.grads(loss(reference))(inputs)].map((t) => t.dataSync());
  for (const r of ["fast", "plain"] as const) {
    const got = withRoute(r, () => [f(...inputs), ...tf.grads(loss(f))(inputs)].map((t) => t.dataSync()));
    got.forEach((g, i) =>
      assertAllClose(g, expected[i]!, { atol: 1e-5, rtol: 1e-4, what: `${what} (${r}) output ${i}` })
    );
  }
}

Deno.test("linear() and projectHeads() equal tfjs autodiff of x·w + b, values and every gradient", () => {
  const prng = new Prng(21);
  const [B, T, D, H] = [2, 3, 8, 2];
  const x = tf.tensor2d(randn(B * T * D, prng), [B * T, D]);
  const w = tf.tensor2d(randn(D * D, prng), [D, D]);
  const b = tf.tensor1d(randn(D, prng));
  const affine = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb);
  compareWithAutodiff(linear, affine, [x, w, b], "linear");
  compareWithAutodiff(
    (xx, ww, bb) => projectHeads(xx!, ww!, bb!, B, H),
    (xx, ww, bb) => tf.transpose(tf.reshape(affine(xx!, ww!, bb!), [B, T, H, D / H]), [0, 2, 1, 3]),
    [x, w, b],
    "projectHeads",
  );
});

Deno.test("attention() equals tfjs autodiff of softmax(q·kᵀ·scale + mask)·v with merged heads", () => {
  const prng = new Prng(22);
  const [B, H, Tq, S, hd] = [2, 3, 4, 6, 5];
  const q = tf.tensor4d(randn(B * H * Tq * hd, prng), [B, H, Tq, hd]);
  const k = tf.tensor4d(randn(B * H * S * hd, prng), [B, H, S, hd]);
  const v = tf.tensor4d(randn(B * H * S * hd, prng), [B, H, S, hd]);
  const maskValues = new Float32Array(B * S);
  maskValues.fill(-1e9, 1, 3); // row 0 cannot see keys 1 and 2
  const mask = tf.tensor4d(maskValues, [B, 1, 1, S]);
  const scale = 0.37;
  const reference = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => {
    const p = tf.softmax(tf.add(tf.mul(tf.matMul(qq, kk, false, true), scale), mask));
    return tf.reshape(tf.transpose(tf.matMul(p, vv), [0, 2, 1, 3]), [B * Tq, H * hd]);
  };
  compareWithAutodiff(
    (qq, kk, vv) => attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, mask, scale, undefined),
    reference,
    [q, k, v],
    "attention",
  );
  // with dropout the probabilities are masked by a seeded mask, identically in the forward and backward pass
  const drop = (seed: number) => ({ rate: 0.3, prng: new Prng(seed) });
  const y1 = attention(q, k, v, mask, scale, drop(1)).dataSync();
  assert.deepEqual(attention(q, k, v, mask, scale, drop(1)).dataSync(), y1);
  assert.notDeepEqual(attention(q, k, v, mask, scale, drop(2)).dataSync(), y1);
  // every input's gradient against central differences, under a weighted loss so dOut is not uniform
  const weights = tf.tensor2d(randn(B * Tq * H * hd, prng), [B * Tq, H * hd]);
  const loss = (xs: tf.Tensor[]) =>
    tf.sum(
      tf.mul(
        attention(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, xs[2] as tf.Tensor4D, mask, scale, drop(1)),
        weights,
      ),
    );
  const inputs = [q, k, v];
  const analytic = tf.grads((...xs: tf.Tensor[]) => loss(xs))(inputs).map((g) => g.dataSync());
  const h = 1e-2;
  inputs.forEach((x, which) => {
    for (const i of [0, 7, 31]) {
      const bump = (delta: number) => {
        const moved = Float32Array.from(x.dataSync());
        moved[i]! += delta;
        return loss(inputs.map((y, j) => (j === which ? tf.tensor(moved, x.shape) : y))).dataSync()[0]!;
      };
      const fd = (bump(h) - bump(-h)) / (2 * h);
      assertAllClose([analytic[which]![i]!], [fd], { atol: 3e-3, rtol: 2e-2, what: `d${"qkv"[which]}[${i}]` });
    }
  });
});

/** The BatchMatMul kernels a function issues, as `NN` / `NT` / `TN` / `TT` (inferred from unambiguous shapes). */
async function matMulKinds(f: () => tf.TensorContainer): Promise<string[]> {
  const profile = await tf.profile(f);
  return profile.kernels.filter((k) => k.name === "BatchMatMul").map((k) => {
    const [sa, sb] = k.inputShapes as [number[], number[]];
    const r = sa.length;
    const inner = [sa[r - 1] === sb[r - 2] ? "NN" : "", sa[r - 1] === sb[r - 1] ? "NT" : ""].join("");
    const innerT = [sa[r - 2] === sb[r - 2] ? "TN" : "", sa[r - 2] === sb[r - 1] ? "TT" : ""].join("");
    const kinds = inner + innerT;
    assert.equal(kinds.length, 2, `ambiguous shapes ${JSON.stringify([sa, sb])}`);
    return `${r}-D ${kinds}`;
  });
}

Deno.test("fast route issues only NN 2-D products and NT batched products, forward and backward", async () => {
  const prng = new Prng(30);
  const a2 = tf.tensor2d(randn(M * K, prng), [M, K]);
  const b2 = tf.tensor2d(randn(K * N, prng), [K, N]);
  const grad2 = () => tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(matMul(x, w)))([a2, b2]);
  assert.deepEqual(await withRoute("fast", () => matMulKinds(grad2)), ["2-D NN", "2-D NN", "2-D NN"]);
  // the plain route uses transposed products in the backward pass, so the check above can fail
  assert.deepEqual(
    new Set(await withRoute("plain", () => matMulKinds(grad2))),
    new Set(["2-D NN", "2-D NT", "2-D TN"]),
  );
  const [B, H, Tq, S, hd] = [2, 3, 4, 6, 5]; // distinct sizes so every product's kind is unambiguous
  const q = tf.tensor4d(randn(B * H * Tq * hd, prng), [B, H, Tq, hd]);
  const k = tf.tensor4d(randn(B * H * S * hd, prng), [B, H, S, hd]);
  const v = tf.tensor4d(randn(B * H * S * hd, prng), [B, H, S, hd]);
  const mask = tf.zeros([Tq, S]);
  const gradAttention = () =>
    tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.sum(attention(x as tf.Tensor4D, y as tf.Tensor4D, z as tf.Tensor4D, mask, 1, undefined))
    )([q, k, v]);
  const kinds = await withRoute("fast", () => matMulKinds(gradAttention));
  assert.equal(kinds.length, 6, `expected 2 forward + 4 backward products, got ${kinds}`);
  assert.deepEqual(new Set(kinds), new Set(["4-D NT"]));
});

// ---- gelu, layerNorm, dropout, stopGradient ----

function geluRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

const GELU_XS = Float32Array.from({ length: 121 }, (_, i) => -6 + i * 0.1);

Deno.test("gelu() matches 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) within 1e-6", () => {
  const got = gelu(tf.tensor1d(GELU_XS)).dataSync();
  assertAllClose(got, Array.from(GELU_XS, geluRef), { atol: 1e-6, rtol: 1e-6, what: "gelu" });
  // large magnitudes saturate cleanly: x for x ≫ 0, 0 for x ≪ 0, no NaN
  assert.deepEqual(Array.from(gelu(tf.tensor1d([-40, 40])).dataSync(), (v) => v + 0), [0, 40]);
});

Deno.test("gelu() gradient matches a central finite difference of the formula", () => {
  const g = tf.grad((x: tf.Tensor) => tf.sum(gelu(x)))(tf.tensor1d(GELU_XS)).dataSync();
  const h = 1e-5;
  const fd = Array.from(GELU_XS, (x) => (geluRef(x + h) - geluRef(x - h)) / (2 * h));
  assertAllClose(g, fd, { atol: 1e-5, rtol: 1e-5, what: "gelu'" });
});

function layerNormRef(x: ArrayLike<number>, rows: number, D: number, g: ArrayLike<number>, b: ArrayLike<number>) {
  const out = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[r * D + j]! / D;
    let variance = 0;
    for (let j = 0; j < D; j++) variance += (x[r * D + j]! - mean) ** 2 / D;
    for (let j = 0; j < D; j++) out[r * D + j] = ((x[r * D + j]! - mean) / Math.sqrt(variance + 1e-5)) * g[j]! + b[j]!;
  }
  return out;
}

Deno.test("layerNorm() matches a float64 reference (biased variance, eps 1e-5), values and input gradient", () => {
  const prng = new Prng(40);
  const rows = 2 * 3, D = 8;
  const xValues = Float32Array.from(randn(rows * D, prng), (v, i) => 3 * v + (i % 5)); // shifted, scaled rows
  const gValues = randn(D, prng);
  const bValues = randn(D, prng);
  const x = tf.tensor3d(xValues, [2, 3, D]);
  const gain = tf.tensor1d(gValues);
  const bias = tf.tensor1d(bValues);
  const y = layerNorm(x, gain, bias);
  assert.deepEqual(y.shape, [2, 3, D]);
  assertAllClose(y.dataSync(), layerNormRef(xValues, rows, D, gValues, bValues), { atol: 1e-5, rtol: 1e-5 });
  // a row with zero variance gives the bias, not NaN
  const flat = layerNorm(tf.fill([1, D], 7), gain, bias).dataSync();
  assertAllClose(flat, bValues, { atol: 1e-6, rtol: 0, what: "constant row" });
  // d/dx Σ LN(x)·w against a float64 central difference
  const wValues = randn(rows * D, prng);
  const w = tf.tensor3d(wValues, [2, 3, D]);
  const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layerNorm(t, gain, bias), w)))(x).dataSync();
  const objective = (xs: Float64Array) =>
    layerNormRef(xs, rows, D, gValues, bValues).reduce((s, v, i) => s + v * wValues[i]!, 0);
  const base = Float64Array.from(xValues);
  const h = 1e-4;
  const fd = base.map((_, i) => {
    const plus = base.slice(), minus = base.slice();
    plus[i]! += h;
    minus[i]! -= h;
    return (objective(plus) - objective(minus)) / (2 * h);
  });
  assertAllClose(gx, fd, { atol: 1e-4, rtol: 1e-3, what: "layerNorm dx" });
});

Deno.test("dropout() with a seeded Prng is reproducible, scaled by 1/(1−rate) and zero-gradient where masked", () => {
  const rate = 0.3;
  const n = 20000;
  const x = tf.add(tf.range(0, n, 1, "float32").reshape([100, 200]).mod(7), 1); // values 1..7, none zero
  const xs = x.dataSync();
  const run = (seed: number) => dropout(x, { rate, prng: new Prng(seed) }).dataSync();
  const y1 = run(5);
  assert.deepEqual(run(5), y1, "same seed, same mask");
  assert.notDeepEqual(run(6), y1, "another seed, another mask");
  const scale = Math.fround(1 / (1 - rate));
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    if (y1[i] === 0) zeros++;
    else assert.equal(y1[i], Math.fround(xs[i]! * scale), `element ${i}`);
  }
  assert.ok(Math.abs(zeros / n - rate) < 0.02, `dropped fraction ${zeros / n}, rate ${rate}`);
  // inverted dropout keeps the mean
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(y1) / mean(xs) - 1) < 0.03, `mean ratio ${mean(y1) / mean(xs)}`);
  // gradient: the same mask times dy
  const dy = tf.randomNormal([100, 200], 0, 1, "float32", 3);
  const dys = dy.dataSync();
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(t, { rate, prng: new Prng(5) }), dy)))(x).dataSync();
  for (let i = 0; i < n; i++) {
    assert.equal(g[i]! + 0, y1[i] === 0 ? 0 : Math.fround(dys[i]! * scale), `grad element ${i}`);
  }
});

Deno.test("dropout() is the identity without a context or with rate 0, and draws nothing", () => {
  const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
  assert.equal(dropout(x, undefined), x);
  const prng = new Prng(9);
  assert.equal(dropout(x, { rate: 0, prng }), x);
  assert.equal(prng.nextUint32(), new Prng(9).nextUint32(), "rate 0 consumed random numbers");
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(t, undefined), 2)))(x);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2, 2, 2, 2, 2]);
});

Deno.test("stopGradient() passes values through and blocks the gradient", () => {
  const x = tf.tensor1d([1.5, -2, 3]);
  const y = stopGradient(x);
  assert.deepEqual(Array.from(y.dataSync()), [1.5, -2, 3]);
  assert.deepEqual(y.shape, [3]);
  assert.deepEqual(Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.square(stopGradient(t))))(x).dataSync()), [0, 0, 0]);
  // d/dx Σ x·sg(x) = sg(x) = x, not 2x
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, stopGradient(t))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [1.5, -2, 3]);
});
