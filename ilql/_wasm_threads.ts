/**
 * Multi-threaded SIMD build of tfjs-backend-wasm under Deno (see shared notes backend.md, "How to enable wasm
 * threads in Deno"). tfjs turns threads off when it sees `process` (Deno has it), and Emscripten's Node path hands a
 * `blob:` URL to `worker_threads.Worker`, which Deno rejects. We write the pthread worker script to a real file,
 * point its `importScripts` at the threaded glue script on disk, and map `blob:` URLs to that file.
 *
 * Pinned to tfjs-backend-wasm 4.22.0 internals: `prepareWasmThreads` throws if the worker source changes.
 * @module
 */
import { createRequire } from "node:module";
import os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";

const IMPORT_NEEDLE = 'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{' +
  "var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}";

// Deno's worker globals `location`/`self` are getter-only; Emscripten assigns them with Object.assign.
const WORKER_PRELUDE = 'for (const k of ["location","self","performance","postMessage","importScripts"]) {' +
  " try { const v = globalThis[k]; Object.defineProperty(globalThis, k, { value: v, writable: true," +
  " configurable: true }); } catch (_) {} }\n";

interface PoolWorker {
  ref?: () => unknown;
  unref?: () => unknown;
}

/** Workers the pthread pool created, so they can be detached from the event loop once the backend is up. */
const poolWorkers: PoolWorker[] = [];

/**
 * Emscripten ref()s a worker while its pthread runs, and XNNPACK's pool threads never finish, so a program would
 * never exit. Once the backend is initialised (the only time the main thread awaits worker messages), the pool must
 * not keep the process alive: unref every worker and make later ref() calls no-ops.
 */
function detachPool(): void {
  for (const w of poolWorkers) {
    w.unref?.();
    w.ref = () => w;
  }
}

/** Writes the pthread worker file (content-addressed, so reruns reuse it) and routes `blob:` workers to it. */
function prepareWasmThreads(threads: number, workerDir: string): void {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")));
  const glue = path.join(pkgDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const { wasmWorkerContents } = require(
    path.join(pkgDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js"),
  ) as { wasmWorkerContents: string };
  if (!wasmWorkerContents.includes(IMPORT_NEEDLE)) {
    throw new Error("tfjs-backend-wasm worker source is not the pinned 4.22.0 one");
  }
  const text = WORKER_PRELUDE +
    wasmWorkerContents.replace(IMPORT_NEEDLE, `importScripts(${JSON.stringify(glue)});`).replace(/\n/g, "\\n");
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const workerFile = path.resolve(workerDir, `tfjs-wasm-pthread-${hash}.cjs`);
  try {
    Deno.statSync(workerFile);
  } catch {
    Deno.mkdirSync(workerDir, { recursive: true });
    const tmp = `${workerFile}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, text);
    Deno.renameSync(tmp, workerFile);
  }
  type WorkerCtor = new (url: unknown, opts?: unknown) => object;
  const g = globalThis as unknown as { Worker: WorkerCtor };
  let base: WorkerCtor = g.Worker;
  let wrapped: WorkerCtor | null = null;
  let wrappedBase: WorkerCtor | null = null;
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    get() {
      if (wrapped === null || wrappedBase !== base) {
        const B = base;
        wrapped = class extends B {
          constructor(url: unknown, opts?: unknown) {
            super(String(url).startsWith("blob:") ? workerFile : url, opts);
            poolWorkers.push(this as PoolWorker);
          }
        };
        wrappedBase = B;
      }
      return wrapped;
    },
    set(v: WorkerCtor) {
      base = v;
    },
  });
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
}

/**
 * Initialises the wasm backend with `threads` threads (1 = the plain SIMD build). Returns the thread count the
 * backend reports.
 */
export async function setWasmBackend(threads: number, workerDir: string): Promise<number> {
  if (threads > 1) prepareWasmThreads(threads, workerDir);
  // backend.cc caps its pool at half the logical cores (1 on a 2-core machine); report enough while it starts.
  const realCpus = os.cpus;
  const mutableOs = os as unknown as { cpus: () => os.CpuInfo[] };
  if (threads > 1) {
    mutableOs.cpus = () => {
      const cpus = realCpus();
      while (cpus.length > 0 && cpus.length < 2 * threads) cpus.push(cpus[0]!);
      return cpus;
    };
  }
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend failed to initialise");
    await tf.ready();
    detachPool();
  } finally {
    mutableOs.cpus = realCpus;
  }
  return wasm.getThreadsCount();
}
