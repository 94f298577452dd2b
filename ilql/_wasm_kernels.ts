/**
 * Kernels tfjs-backend-wasm 4.22.0 lacks. `UnsortedSegmentSum` is the gradient of `tf.gather` (embedding backward,
 * gathering hidden states at action positions); without it that gradient throws on wasm.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

interface WasmBackendLike {
  readSync(dataId: object): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

/** Registers `UnsortedSegmentSum` for the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
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
