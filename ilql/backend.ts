/**
 * The one place that initialises tensors. `wasm` (default) is tfjs-backend-wasm's SIMD build with the fixes of
 * shared notes backend.md: the missing `UnsortedSegmentSum` kernel and no-copy Identity/Cast, then one of two paths:
 * - with OpenBLAS (found and `--allow-ffi` granted): matmuls and leading-axis sums run in native BLAS on the wasm
 *   heap, on the single-thread SIMD build with plain `tf.matMul` calls (fastest, native-blas.md);
 * - without it, the tuned wasm path: matmuls routed to XNNPACK (2-D, non-transposed calls) and a pthread pool.
 * `cpu` is tfjs's pure-JS backend (20x slower; for checking only). `tensorflow` loads `@tensorflow/tfjs-node-gpu`
 * or `@tensorflow/tfjs-node` when the user has installed one.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels } from "./_wasm_kernels.ts";
import { openBlas, PINNED_CORE, registerBlasKernels, runsPinnedCore } from "./blas.ts";
import { setWasmBackend } from "./_wasm_threads.ts";
import { setMatMulRoute } from "./ops.ts";

/** Tensor backends the project can run on. */
export const BACKENDS = ["wasm", "cpu", "tensorflow"] as const;
/** Name of a tensor backend. */
export type BackendName = typeof BACKENDS[number];

/** Options for {@link initBackend}. */
export interface BackendOptions {
  /** Which backend to start (default `wasm`). */
  backend?: BackendName;
  /** wasm pthreads; default: the machine's cores, at most 8. */
  threads?: number;
  /** Folder for the wasm pthread worker script (default `.cache`). */
  workerDir?: string;
  /** Native BLAS for the wasm backend: `auto` (default) uses OpenBLAS when it can, `on` requires it, `off` never. */
  blas?: "auto" | "on" | "off";
  /**
   * What decides the digits of a result (default `native`): `pinned` fixes OpenBLAS's kernel family to
   * {@link PINNED_CORE} and its thread count to {@link PINNED_THREADS} (unless `threads` is given), so that every
   * x86-64 machine with AVX2 sums in the same order; `native` lets OpenBLAS pick the fastest kernels for this CPU
   * and uses every core (at most 8). The wasm kernels give the same digits at any thread count.
   */
  kernels?: "pinned" | "native";
  /** Where warnings and the one line saying which path runs go (default `console.warn`). */
  warn?: (line: string) => void;
}

/** What {@link initBackend} started. */
export interface BackendInfo {
  backend: BackendName;
  /** Threads the backend computes with (wasm pool size; 0 when the backend manages its own). */
  threads: number;
  /** How matmuls are issued: `fast` = XNNPACK-friendly 2-D calls with explicit transposes. */
  matmul: "fast" | "plain";
  /** The native BLAS the wasm kernels call (library path, OpenBLAS core and build line), or null. */
  blas: { path: string; core: string; config: string; threads: number } | null;
  /** Whether the digits are pinned ({@link BackendOptions.kernels}): true when pinning was asked for and took. */
  pinned: boolean;
  /** One line for logs and result records. */
  summary: string;
}

/**
 * OpenBLAS threads of pinned results: the thread count changes OpenBLAS's summation order (measured), so pinned runs
 * use one count everywhere. One thread, because at the suites' model sizes a run is no faster on two (measured on 2
 * cores: 13.3 steps/s on one thread against 11.3 on two), and the harness runs one process per core instead (`--jobs`).
 */
export const PINNED_THREADS = 1;

const TFJS_NODE_PACKAGES = ["npm:@tensorflow/tfjs-node-gpu@4.22.0", "npm:@tensorflow/tfjs-node@4.22.0"];

let current: BackendInfo | null = null;

/** The backend started by {@link initBackend}, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/**
 * Starts a tensor backend once per process; later calls with the same choice return the same info.
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const info = await initBackend({ backend: "cpu" });
 * console.log(info.summary);
 * ```
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const backend = options.backend ?? "wasm";
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`Unknown backend '${backend}' (choose one of ${BACKENDS.join(", ")})`);
  }
  if (current !== null) {
    if (current.backend !== backend) {
      throw new Error(`Backend '${current.backend}' is already running; cannot switch to '${backend}'`);
    }
    return current;
  }
  const warn = options.warn ?? ((line: string) => console.warn(line));
  if (backend === "wasm") current = await startWasm(options, warn);
  else if (backend === "cpu") current = await startCpu();
  else current = await startTensorflow();
  setMatMulRoute(current.matmul);
  return current;
}

async function startWasm(options: BackendOptions, warn: (line: string) => void): Promise<BackendInfo> {
  registerWasmKernels();
  const mode = options.blas ?? "auto";
  if (!["auto", "on", "off"].includes(mode)) throw new Error(`blas must be auto, on or off, got '${mode}'`);
  const kernels = options.kernels ?? "native";
  if (!["pinned", "native"].includes(kernels)) throw new Error(`kernels must be pinned or native, got '${kernels}'`);
  const pin = kernels === "pinned";
  if (mode !== "off") {
    const core = pin && runsPinnedCore() ? PINNED_CORE : undefined;
    const { blas, reason } = openBlas(options.threads ?? (pin ? PINNED_THREADS : undefined), core);
    if (blas !== null) {
      registerBlasKernels(blas);
      // with BLAS doing the matmuls the single-thread SIMD build is fastest (native-blas.md)
      await setWasmBackend(1, "");
      const pinned = core !== undefined && blas.core.toLowerCase() === core.toLowerCase();
      if (pin && !pinned) {
        warn(
          `warning: OpenBLAS kernels not pinned (${
            core === undefined ? `this CPU does not run the ${PINNED_CORE} kernels` : `the library chose ${blas.core}`
          }); results may differ in the last digits from pinned machines`,
        );
      }
      const summary = `tfjs-wasm simd + OpenBLAS (${blas.core}, ${blas.threads} thread(s)${pinned ? ", pinned" : ""})`;
      return {
        backend: "wasm",
        threads: 1,
        matmul: "plain",
        blas: { path: blas.path, core: blas.core, config: blas.config, threads: blas.threads },
        pinned,
        summary,
      };
    }
    if (mode === "on") throw new Error(`native BLAS was required but is unavailable: ${reason}`);
    warn(`info: native BLAS unavailable (${reason}); running the tuned wasm path`);
  }
  const cores = navigator.hardwareConcurrency || 1;
  const requested = options.threads ?? Math.min(cores, 8);
  if (!Number.isInteger(requested) || requested < 1) {
    throw new Error(`threads must be a positive integer, got ${requested}`);
  }
  let threads: number;
  try {
    threads = await setWasmBackend(requested, options.workerDir ?? ".cache");
    if (threads < requested) warn(`warning: the wasm backend started ${threads} thread(s) instead of ${requested}`);
  } catch (e) {
    if (requested === 1) throw e;
    warn(`warning: wasm threads unavailable (${firstLine(e)}); running 1 thread`);
    threads = await setWasmBackend(1, "");
  }
  return {
    backend: "wasm",
    threads,
    matmul: "fast",
    blas: null,
    pinned: pin,
    summary: `tfjs-wasm simd, ${threads} thread(s), fast matmul${pin ? ", pinned" : ""}`,
  };
}

async function startCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend("cpu"))) throw new Error("the cpu backend failed to initialise");
  await tf.ready();
  return { backend: "cpu", threads: 1, matmul: "plain", blas: null, pinned: false, summary: "tfjs-cpu (pure JS)" };
}

async function startTensorflow(): Promise<BackendInfo> {
  const errors: string[] = [];
  for (const spec of TFJS_NODE_PACKAGES) {
    try {
      await import(spec);
      if (await tf.setBackend("tensorflow")) {
        await tf.ready();
        return {
          backend: "tensorflow",
          threads: 0,
          matmul: "plain",
          blas: null,
          pinned: false,
          summary: `libtensorflow via ${spec}`,
        };
      }
      errors.push(`${spec}: backend did not start`);
    } catch (e) {
      errors.push(`${spec}: ${firstLine(e)}`);
    }
  }
  throw new Error(
    "backend 'tensorflow' needs @tensorflow/tfjs-node or -gpu 4.22.0 with its native library " +
      `(deno install --allow-scripts npm:@tensorflow/tfjs-node@4.22.0, then run with --allow-ffi); ${errors[0]}`,
  );
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0]!.slice(0, 200);
}
