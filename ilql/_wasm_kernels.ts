/**
 * Kernel fixes for tfjs-backend-wasm 4.22.0:
 * - `UnsortedSegmentSum`, which wasm lacks, is the gradient of `tf.gather` (embedding backward, gathering hidden
 *   states at action positions); without it that gradient throws on wasm;
 * - `GatherV2` on axis 0 (embedding lookups, gathering hidden states) runs a per-element index loop on wasm, 10–20×
 *   slower than copying whole rows; rows are copied on the heap instead (other axes use the original kernel);
 * - `Identity` and same-dtype `Cast` copy their input on wasm. The engine clones every tensor a gradient keeps, so
 *   the copies double the memory of a backward pass; like the cpu backend, we share the buffer instead (safe:
 *   kernels never write to their inputs).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { heapInt32View, heapView, type WasmBackend } from "./_wasm_heap.ts";

interface WasmBackendLike extends WasmBackend {
  incRef(dataId: object): void;
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

/** Replaces `GatherV2` with a row-copying version for float32 tables gathered on axis 0 without batch dims. */
function registerRowGather(): void {
  const gather = tf.getKernel("GatherV2", "wasm");
  if (!gather) throw new Error("tfjs-backend-wasm lacks GatherV2; is it the pinned 4.22.0?");
  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({
    ...gather,
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
      const rowAxis = axis < 0 ? axis + x.shape.length : axis;
      if (rowAxis !== 0 || batchDims !== 0 || x.dtype !== "float32" || indices.dtype !== "int32") {
        return gather.kernelFunc(args);
      }
      const b = args.backend as unknown as WasmBackendLike;
      const rows = x.shape[0]!;
      const inner = tf.util.sizeFromShape(x.shape.slice(1));
      const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], "float32");
      const ids = heapInt32View(b, indices); // views after makeOutput, which may grow the heap
      const table = heapView(b, x);
      const dst = heapView(b, out);
      for (let i = 0; i < ids.length; i++) {
        const r = ids[i]!;
        if (r < 0 || r >= rows) throw new Error(`GatherV2: index ${r} is not in [0, ${rows - 1}]`);
        dst.set(table.subarray(r * inner, (r + 1) * inner), i * inner);
      }
      return out;
    },
  });
}

/** Registers the kernel fixes for the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  registerNoCopyKernels();
  registerRowGather();
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      if (x.dtype !== "float32") throw new Error(`UnsortedSegmentSum on wasm supports float32, got ${x.dtype}`);
      const b = backend as unknown as WasmBackendLike;
      const result = b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], "float32");
      const ids = heapInt32View(b, segmentIds); // views after makeOutput, which may grow the heap
      const values = heapView(b, x);
      const out = heapView(b, result);
      out.fill(0);
      const n = ids.length;
      const inner = n === 0 ? 0 : values.length / n;
      for (let i = 0; i < n; i++) {
        const s = ids[i]!;
        if (s < 0 || s >= numSegments) continue;
        const o = s * inner;
        const src = i * inner;
        for (let j = 0; j < inner; j++) out[o + j]! += values[src + j]!;
      }
      return result;
    },
  });
}
