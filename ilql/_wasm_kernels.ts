/**
 * Kernel fixes for tfjs-backend-wasm 4.22.0:
 * - `UnsortedSegmentSum`, which wasm lacks, is the gradient of `tf.gather` (embedding backward, gathering hidden
 *   states at action positions); without it that gradient throws on wasm;
 * - `Identity` and same-dtype `Cast` copy their input on wasm. The engine clones every tensor a gradient keeps, so
 *   the copies double the memory of a backward pass; like the cpu backend, we share the buffer instead (safe:
 *   kernels never write to their inputs).
 * @module
 */
import * as tf from "@tensorflow/tfjs";

interface WasmBackendLike {
  incRef(dataId: object): void;
  readSync(dataId: object): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

function share(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Replaces `Identity` and `Cast` with versions that share the input buffer when no conversion is needed. */
function registerNoCopyKernels(): void {
  const identity = tf.getKernel("Identity", "wasm");
  const cast = tf.getKernel("Cast", "wasm");
  if (!identity || !cast) throw new Error("tfjs-backend-wasm lacks Identity or Cast; is it the pinned 4.22.0?");
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    ...identity,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      return x.dtype === "string" ? identity.kernelFunc(args) : share(x, args.backend);
    },
  });
  tf.unregisterKernel("Cast", "wasm");
  tf.registerKernel({
    ...cast,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
      return dtype === x.dtype && dtype !== "string" ? share(x, args.backend) : cast.kernelFunc(args);
    },
  });
}

/** Registers the kernel fixes for the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  registerNoCopyKernels();
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      if (x.dtype !== "float32") throw new Error(`UnsortedSegmentSum on wasm supports float32, got ${x.dtype}`);
      const b = backend as unknown as WasmBackendLike;
      const values = b.readSync(x.dataId) as Float32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array;
      const n = ids.length;
      const inner = n === 0 ? 0 : values.length / n;
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < n; i++) {
        const s = ids[i]!;
        if (s < 0 || s >= numSegments) continue;
        const o = s * inner;
        const src = i * inner;
        for (let j = 0; j < inner; j++) out[o + j]! += values[src + j]!;
      }
      const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      return b.makeOutput(shape, "float32", undefined, out);
    },
  });
}
