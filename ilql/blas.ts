/**
 * Optional native BLAS behind tfjs-backend-wasm (shared notes native-blas.md): OpenBLAS's `cblas_sgemm` is opened
 * with `Deno.dlopen` and called directly on the wasm heap (a `Float32Array` view at each tensor's offset, no
 * copies). It backs the wasm `BatchMatMul` and `_FusedMatMul` kernels (both transpose flags, numpy-style batch
 * broadcasting, a fallback to the original kernel for tiny batched products) and the `Sum` and `Mean` kernels when
 * they reduce leading or trailing axes (`cblas_sgemv` with a vector of ones; wasm's own kernels transpose first or
 * reduce without SIMD).
 *
 * The library is found through `ILQL_BLAS_LIB`, then the usual Linux and macOS paths. Without the library or the
 * `--allow-ffi` permission nothing changes and `openBlas()` returns null. Depends on tfjs-backend-wasm 4.22.0
 * internals (`dataIdMap`, `memoryOffset`, `wasm.HEAPF32`, `makeOutput`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { heapView as view, type WasmBackend } from "./_wasm_heap.ts";

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_sgemv: {
    parameters: ["i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
} as const;

type BlasLibrary = Deno.DynamicLibrary<typeof SYMBOLS>;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** Where OpenBLAS usually lives (Debian/Ubuntu, Fedora, Arch, Homebrew on Apple silicon and Intel). */
const CANDIDATES = [
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblasp.so.0", // Fedora's threaded build
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
  "libopenblas.so.0",
];

/** An opened BLAS library. */
export interface Blas {
  library: BlasLibrary;
  path: string;
  /** OpenBLAS's kernel family (e.g. `SkylakeX`, `Haswell`), when the library reports it. */
  core: string;
  /** OpenBLAS's build line (version, DYNAMIC_ARCH, …), when the library reports it. */
  config: string;
  threads: number;
}

/**
 * The OpenBLAS kernel family results are pinned to by default: AVX2 + FMA kernels, which every x86-64 CPU since 2013
 * runs, so that two machines sum in the same order and give the same digits (`--kernels native` opts out).
 */
export const PINNED_CORE = "Haswell";

/**
 * Whether this CPU runs the {@link PINNED_CORE} kernels: x86-64 with AVX2 and FMA usable. Asked of glibc's
 * `<sys/platform/x86.h>` interface (`__x86_get_cpuid_feature_leaf`, glibc 2.33+) through FFI, because Deno allows
 * reading /proc/cpuinfo only with --allow-all; false when that cannot be asked (another libc, no --allow-ffi).
 */
export function runsPinnedCore(): boolean {
  if (Deno.build.arch !== "x86_64" || Deno.build.os !== "linux") return false;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", { __x86_get_cpuid_feature_leaf: { parameters: ["u32"], result: "pointer" } });
  } catch {
    return false;
  }
  try {
    // struct cpuid_feature { cpuid_array[4]; active_array[4] } (eax, ebx, ecx, edx); leaf index 0 is CPUID 1, 1 is CPUID 7
    const active = (leaf: number, register: number, bit: number) => {
      const pointer = libc.symbols.__x86_get_cpuid_feature_leaf(leaf);
      return pointer !== null && ((new Deno.UnsafePointerView(pointer).getUint32(16 + 4 * register) >>> bit) & 1) === 1;
    };
    return active(0, 2, 12) && active(1, 1, 5); // FMA: CPUID 1 ECX bit 12; AVX2: CPUID 7 EBX bit 5
  } finally {
    libc.close();
  }
}

function envOrNull(name: string): string | null {
  try {
    return Deno.env.get(name) ?? null;
  } catch {
    return null; // no --allow-env
  }
}

/**
 * Opens OpenBLAS, or returns null with the reason when it is absent or FFI is not allowed.
 * @param threads OpenBLAS threads (default: the machine's cores, at most 8)
 * @param core a kernel family to force (`OPENBLAS_CORETYPE`, read by OpenBLAS when it loads), or the library's own
 * choice for this CPU when absent
 * @throws when `core` is given and the environment variable cannot be set (no --allow-env=OPENBLAS_CORETYPE)
 */
export function openBlas(threads?: number, core?: string): { blas: Blas | null; reason: string } {
  if (core !== undefined) {
    try {
      Deno.env.set("OPENBLAS_CORETYPE", core);
    } catch (e) {
      throw new Error(`cannot pin the OpenBLAS kernels to ${core}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const override = envOrNull("ILQL_BLAS_LIB");
  const paths = override ? [override] : CANDIDATES;
  let lastError = "not found";
  for (const path of paths) {
    let library: BlasLibrary;
    try {
      library = Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      const message = (e as Error).message.split("\n")[0]!;
      if ((e as Error).name === "NotCapable" || /--allow-ffi/.test(message)) {
        return { blas: null, reason: "--allow-ffi is not granted" };
      }
      lastError = message;
      continue;
    }
    const n = threads ?? Math.min(navigator.hardwareConcurrency || 1, 8);
    library.symbols.openblas_set_num_threads?.(n);
    const text = (ptr: Deno.PointerValue | null) =>
      ptr === null ? "unknown" : new Deno.UnsafePointerView(ptr).getCString();
    const blas = {
      library,
      path,
      core: text(library.symbols.openblas_get_corename?.() ?? null),
      config: text(library.symbols.openblas_get_config?.() ?? null).trim(),
      threads: library.symbols.openblas_get_num_threads?.() ?? n,
    };
    return { blas, reason: "" };
  }
  return { blas: null, reason: override ? `ILQL_BLAS_LIB=${override}: ${lastError}` : "OpenBLAS not found" };
}

// ---- kernels ----

function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matMul batch shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Index into a (possibly broadcast) batch of `shape` for flat output batch index `i` of `outShape`. */
function batchIndex(i: number, outShape: number[], shape: number[]): number {
  let index = 0;
  let stride = 1;
  for (let d = outShape.length - 1, rem = i; d >= 0; d--) {
    const size = outShape[d]!;
    const coord = rem % size;
    rem = Math.floor(rem / size);
    const own = shape[d - (outShape.length - shape.length)] ?? 1;
    if (own !== 1) index += coord * stride;
    stride *= own;
  }
  return index;
}

/** Below this many multiply-adds per matrix a batched product stays on the original kernel (per-call cost wins). */
const TINY = 128;

interface GemmPlan {
  out: number[];
  M: number;
  N: number;
  K: number;
  batch: number[];
  aBatch: number[];
  bBatch: number[];
}

function plan(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): GemmPlan {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) throw new Error(`matMul inner sizes ${K} and ${Kb} of shapes [${a.shape}] and [${b.shape}] differ`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  return { out: [...batch, M, N], M, N, K, batch, aBatch, bBatch };
}

/** C = op(A)·op(B) (+ C when `accumulate`) for every batch entry, on the wasm heap. */
function gemm(
  blas: Blas,
  backend: WasmBackend,
  p: GemmPlan,
  tensors: { a: tf.TensorInfo; b: tf.TensorInfo; c: tf.TensorInfo },
  transposeA: boolean,
  transposeB: boolean,
  accumulate: boolean,
): void {
  const { M, N, K } = p;
  const A = view(backend, tensors.a);
  const B = view(backend, tensors.b);
  const C = view(backend, tensors.c);
  if (K === 0) {
    if (!accumulate) C.fill(0);
    return;
  }
  const sgemm = blas.library.symbols.cblas_sgemm;
  const ta = transposeA ? TRANS : NO_TRANS;
  const tb = transposeB ? TRANS : NO_TRANS;
  const lda = transposeA ? M : K;
  const ldb = transposeB ? K : N;
  const beta = accumulate ? 1 : 0;
  const count = tf.util.sizeFromShape(p.batch);
  const bSize = tf.util.sizeFromShape(p.bBatch);
  if (!transposeA && bSize === 1 && tf.util.sizeFromShape(p.aBatch) === count) {
    // one GEMM: a's batch folds into its rows when b is shared
    sgemm(ROW_MAJOR, ta, tb, count * M, N, K, 1, A, lda, B, ldb, beta, C, N);
    return;
  }
  for (let i = 0; i < count; i++) {
    const ai = batchIndex(i, p.batch, p.aBatch);
    const bi = batchIndex(i, p.batch, p.bBatch);
    sgemm(
      ROW_MAJOR,
      ta,
      tb,
      M,
      N,
      K,
      1,
      A.subarray(ai * M * K, (ai + 1) * M * K),
      lda,
      B.subarray(bi * K * N, (bi + 1) * K * N),
      ldb,
      beta,
      C.subarray(i * M * N, (i + 1) * M * N),
      N,
    );
  }
}

/** A small batched product with equal batch shapes, which the original kernel computes correctly and faster. */
function tinyBatched(p: GemmPlan): boolean {
  const sameBatch = p.aBatch.length === p.bBatch.length && p.aBatch.every((d, i) => d === p.bBatch[i]);
  return sameBatch && tf.util.sizeFromShape(p.batch) > 1 && p.M * p.N * p.K < TINY;
}

let registered: Blas | null = null;

/** The BLAS library the kernels use, or null when the original kernels run. */
export function activeBlas(): Blas | null {
  return registered;
}

/** Replaces the wasm BatchMatMul, _FusedMatMul, Sum and Mean kernels with BLAS-backed ones (once per process). */
export function registerBlasKernels(blas: Blas): void {
  if (registered !== null) return;
  const matMul = tf.getKernel("BatchMatMul", "wasm");
  const fused = tf.getKernel("_FusedMatMul", "wasm");
  const sum = tf.getKernel("Sum", "wasm");
  const mean = tf.getKernel("Mean", "wasm");
  if (!matMul || !fused || !sum || !mean) {
    throw new Error("tfjs-backend-wasm lacks BatchMatMul, _FusedMatMul, Sum or Mean");
  }

  replace(matMul, (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== "float32" || b.dtype !== "float32") return matMul.kernelFunc(args);
    const p = plan(a, b, transposeA, transposeB);
    if (tinyBatched(p)) return matMul.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackend;
    const c = backend.makeOutput(p.out, "float32");
    gemm(blas, backend, p, { a, b, c }, transposeA, transposeB, false);
    return c;
  });

  replace(fused, (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = args.attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
    };
    const simple = (activation === "linear" || activation === "relu") && preluActivationWeights === undefined;
    if (!simple || a!.dtype !== "float32" || b!.dtype !== "float32" || (bias && bias.shape.length > 1)) {
      return fused.kernelFunc(args);
    }
    // no fallback here: the original kernel adds the bias wrongly when there is a batch (native-blas.md)
    const p = plan(a!, b!, transposeA, transposeB);
    const backend = args.backend as unknown as WasmBackend;
    const c = backend.makeOutput(p.out, "float32");
    if (bias) {
      // C starts as the bias repeated over rows; the GEMM then adds A·B to it
      const C = view(backend, c);
      const row = view(backend, bias);
      if (row.length === 1) C.fill(row[0]!);
      else for (let r = 0; r < C.length; r += p.N) C.set(row, r);
    }
    gemm(blas, backend, p, { a: a!, b: b!, c }, transposeA, transposeB, bias !== undefined);
    if (activation === "relu") {
      const C = view(backend, c);
      for (let i = 0; i < C.length; i++) if (C[i]! < 0) C[i] = 0;
    }
    return c;
  });

  const ones = new Map<number, Float32Array>();
  // y = xᵀ·1 over leading axes (bias and norm gradients) or x·1 over trailing axes (layer-norm statistics), with x
  // viewed as a row-major matrix; wasm's own kernels transpose first or reduce without SIMD
  const reduction = (original: tf.KernelConfig, mean: boolean) => (args: Parameters<tf.KernelFunc>[0]) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((i, j) => i - j);
    const rank = x.shape.length;
    const leading = axes.every((ax, i) => ax === i);
    const trailing = axes.every((ax, i) => ax === rank - axes.length + i);
    const reduced = tf.util.sizeFromShape(axes.map((ax) => x.shape[ax]!));
    if (
      x.dtype !== "float32" || axes.length === 0 || axes.length === rank || (!leading && !trailing)
    ) {
      return original.kernelFunc(args);
    }
    const shape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const backend = args.backend as unknown as WasmBackend;
    const out = backend.makeOutput(shape, "float32");
    // an empty reduction: wasm's kernel leaves the output unwritten
    if (reduced === 0) return view(backend, out).fill(mean ? NaN : 0), out;
    const kept = tf.util.sizeFromShape(x.shape) / reduced;
    if (kept === 0) return out; // nothing to compute (and BLAS rejects a zero leading dimension)
    let vector = ones.get(reduced);
    if (vector === undefined) ones.set(reduced, vector = new Float32Array(reduced).fill(1));
    const [rows, cols] = leading ? [reduced, kept] : [kept, reduced];
    blas.library.symbols.cblas_sgemv(
      ROW_MAJOR,
      leading ? TRANS : NO_TRANS,
      rows,
      cols,
      mean ? 1 / reduced : 1,
      view(backend, x),
      cols,
      vector,
      1,
      0,
      view(backend, out),
      1,
    );
    return out;
  };
  replace(sum, reduction(sum, false));
  replace(mean, reduction(mean, true));
  registered = blas;
}

function replace(original: tf.KernelConfig, kernelFunc: tf.KernelFunc): void {
  tf.unregisterKernel(original.kernelName, original.backendName);
  tf.registerKernel({ ...original, kernelFunc });
}
