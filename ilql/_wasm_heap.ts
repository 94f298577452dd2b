/**
 * Direct access to tensors on the tfjs-backend-wasm heap, for kernels written in JS or native code (native BLAS,
 * the fused optimizer). Relies on tfjs-backend-wasm 4.22.0 internals (`dataIdMap`, `memoryOffset`, `wasm.HEAPF32`,
 * `makeOutput`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of the wasm backend this module uses. */
export interface WasmBackend {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The wasm backend when it is the active one, else null. */
export function activeWasmBackend(): WasmBackend | null {
  return tf.getBackend() === "wasm" ? (tf.backend() as unknown as WasmBackend) : null;
}

/**
 * A float32 view of a tensor's data on the heap. Re-read it after anything that may allocate (the heap can grow and
 * be replaced).
 */
export function heapView(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  const heap = backend.wasm.HEAPF32;
  const start = backend.dataIdMap.get(t.dataId).memoryOffset / 4;
  return heap.subarray(start, start + tf.util.sizeFromShape(t.shape));
}

/** An int32 view of a tensor's data on the heap (same rules as {@link heapView}). */
export function heapInt32View(backend: WasmBackend, t: tf.TensorInfo): Int32Array {
  const start = backend.dataIdMap.get(t.dataId).memoryOffset / 4;
  return backend.wasm.HEAP32.subarray(start, start + tf.util.sizeFromShape(t.shape));
}
