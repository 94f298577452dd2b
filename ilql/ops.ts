/**
 * Tensor building blocks shared by every model: matmuls routed to the backend's fast path, linear layers, layer
 * norm, GELU, dropout and stop-gradient.
 *
 * Why the matmul route exists: tfjs-backend-wasm sends a matmul to XNNPACK only when it is 2-D with no transpose
 * flag; every default backward matmul and every batched matmul falls back to a scalar loop 25-50x slower
 * (shared notes backend.md). In `fast` mode 2-D products and their gradients are issued as plain NN calls with
 * explicit transposes, and batched products as NT calls, whose scalar loop walks contiguous memory.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Prng } from "./prng.ts";

let route: "fast" | "plain" = "plain";

/** Chooses how matmuls are issued; set by `initBackend`. */
export function setMatMulRoute(next: "fast" | "plain"): void {
  route = next;
}

/** The current matmul route. */
export function matMulRoute(): "fast" | "plain" {
  return route;
}

function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return tf.transpose(t, perm);
}

const matMulFast = tf.customGrad((a, b, save) => {
  const x = a as tf.Tensor2D;
  const w = b as tf.Tensor2D;
  (save as tf.GradSaveFunc)([x, w]);
  return {
    value: tf.matMul(x, w), // [M, N]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(sw)), // [M, K]
        tf.matMul(tf.transpose(sx), dy as tf.Tensor2D), // [K, N]
      ];
    },
  };
});

const batchMatMulNTFast = tf.customGrad((a, b, save) => {
  const x = a as tf.Tensor;
  const y = b as tf.Tensor;
  (save as tf.GradSaveFunc)([x, y]);
  return {
    value: tf.matMul(x, y, false, true), // [..., M, N]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sy] = saved as [tf.Tensor, tf.Tensor];
      return [
        tf.matMul(dy, swapLast(sy), false, true), // dA = dy·B: [..., M, K]
        tf.matMul(swapLast(dy), swapLast(sx), false, true), // dB = dyᵀ·A: [..., N, K]
      ];
    },
  };
});

/** `a[M,K] · b[K,N]` → `[M,N]`. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return (route === "fast" ? matMulFast(a, b) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)) as tf.Tensor2D;
}

/** Batched `a[...,M,K] · b[...,N,K]ᵀ` → `[...,M,N]`. */
export function batchMatMulNT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return route === "fast" ? batchMatMulNTFast(a, b) : tf.matMul(a, b, false, true);
}

/** Batched `a[...,M,K] · b[...,K,N]` → `[...,M,N]`. */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return route === "fast" ? batchMatMulNTFast(a, swapLast(b)) : tf.matMul(a, b);
}

/** `x[N,K] · w[K,M] + bias[M]`. */
export function linear(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  const y = matMul(x, w); // [N, M]
  return bias === undefined ? y : tf.add(y, bias);
}

/** Layer norm over the last axis (eps 1e-5, as GPT-2). */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true)); // [..., D]
  const variance = tf.mean(tf.square(centred), -1, true); // [..., 1]
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), gain), bias);
}

const GELU_2C = 2 * Math.sqrt(2 / Math.PI);

/** GELU (tanh form) written as x·sigmoid(2z): the same function, but wasm's Sigmoid is 10x faster than Tanh. */
export function gelu(x: tf.Tensor): tf.Tensor {
  const twoZ = tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_2C * 0.044715), GELU_2C)); // 2·√(2/π)·(x + 0.044715x³)
  return tf.mul(x, tf.sigmoid(twoZ));
}

/** Dropout settings for one forward pass; absent means evaluation mode. */
export interface DropoutContext {
  /** Probability of zeroing an activation. */
  rate: number;
  /** Source of the masks. */
  prng: Prng;
}

const applyMask = tf.customGrad((x, mask, save) => {
  (save as tf.GradSaveFunc)([mask as tf.Tensor]);
  return {
    value: tf.mul(x as tf.Tensor, mask as tf.Tensor),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]!), tf.zerosLike(saved[0]!)],
  };
});

/** Inverted dropout with a mask drawn from the context's seeded generator; identity without a context. */
export function dropout(x: tf.Tensor, context: DropoutContext | undefined): tf.Tensor {
  if (context === undefined || context.rate === 0) return x;
  const values = new Float32Array(x.size);
  context.prng.fillDropoutMask(values, context.rate);
  return applyMask(x, tf.tensor(values, x.shape)) as tf.Tensor;
}

const stopGradientOp = tf.customGrad((x) => ({
  value: tf.add(x as tf.Tensor, 0),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** Identity in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
