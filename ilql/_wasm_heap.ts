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

/**
 * Gives variables new values computed on the heap in one loop: `compute` receives float32 views of fresh output
 * buffers (one per variable, same shapes) and of `inputs`, all taken after the outputs were allocated. The variables
 * get the new buffers; their old data is never written, so tensors still reading it are unaffected.
 */
export function assignOnHeap(
  backend: WasmBackend,
  variables: readonly tf.Variable[],
  inputs: readonly tf.TensorInfo[],
  compute: (outs: Float32Array[], ins: Float32Array[]) => void,
): void {
  const outs = variables.map((v) => backend.makeOutput([...v.shape], "float32"));
  // views after every allocation: the heap may have moved
  compute(outs.map((t) => heapView(backend, t)), inputs.map((t) => heapView(backend, t)));
  variables.forEach((v, j) => {
    const fresh = tf.engine().makeTensorFromTensorInfo(outs[j]!);
    v.assign(fresh);
    fresh.dispose();
  });
}
