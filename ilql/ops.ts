/**
 * Tensor building blocks shared by every model: matmuls routed to the backend's fast path, linear layers, head
 * projections, attention, layer norm, GELU, dropout and stop-gradient.
 *
 * Why the matmul route exists: tfjs-backend-wasm sends a matmul to XNNPACK only when it is 2-D with no transpose
 * flag; every default backward matmul and every batched matmul falls back to a scalar loop 25-50x slower
 * (shared notes backend.md). In `fast` mode 2-D products are issued as plain NN calls with explicit transposes,
 * and batched products as NT calls, whose scalar loop walks contiguous memory. `plain` passes transpose flags.
 *
 * Why the ops have hand-written gradients: tfjs keeps every tensor a forward pass creates until the gradient is
 * done, and the wasm heap stops at 4 GiB. Each op here computes its forward pass inside `tf.tidy` and keeps only
 * what its backward pass needs (inputs, or a seed to regenerate a dropout mask); attention recomputes its
 * probabilities in the backward pass instead of storing them.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  fusedDropout,
  fusedGelu,
  fusedGeluGrad,
  fusedLayerNorm,
  fusedLayerNormGrad,
  fusedMaskedSoftmax,
  fusedSoftmaxGrad,
  GELU_2C,
  GELU_K,
} from "./_wasm_simd.ts";
import { fillDropoutMask, type Prng } from "./prng.ts";

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

/**
 * Runs a backward pass in its own tidy. The engine calls custom gradient functions outside any tidy and keeps
 * everything they create until the whole backward pass ends; freeing intermediates per op bounds its memory.
 */
function lean(
  f: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] {
  return (dy, saved) => tf.tidy(() => f(dy, saved));
}

// ---- raw products (no gradient of their own; used inside the ops below) ----

/** 2-D a·b. */
function mmNN(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

/** 2-D a·bᵀ. */
function mmNT(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return route === "fast" ? mmNN(a, tf.transpose(b)) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true);
}

/** 2-D aᵀ·b. */
function mmTN(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return route === "fast" ? mmNN(tf.transpose(a), b) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, false);
}

/** Batched a·bᵀ. */
function bmmNT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.matMul(a, b, false, true);
}

/** Batched a·b. */
function bmmNN(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return route === "fast" ? tf.matMul(a, swapLast(b), false, true) : tf.matMul(a, b);
}

/** Batched aᵀ·b. */
function bmmTN(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return route === "fast" ? tf.matMul(swapLast(a), swapLast(b), false, true) : tf.matMul(a, b, true, false);
}

// ---- linear maps ----

/** x·w + bias; on the plain route as one fused kernel (with native BLAS the bias seeds the GEMM's output). */
function affine(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() =>
    route === "plain" ? tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias }) : tf.add(mmNN(x, w), bias)
  ) as tf.Tensor2D;
}

const matMulOp = tf.customGrad((a, b, save) => {
  const [x, w] = [a as tf.Tensor, b as tf.Tensor];
  (save as tf.GradSaveFunc)([x, w]);
  return {
    value: mmNN(x, w), // [M, N]
    gradFunc: lean((dy, saved) => [mmNT(dy, saved[1]!), mmTN(saved[0]!, dy)]),
  };
});

// S stacked seeds (`run.ts` trainSeeds, several seeds as one computation): a weight `[S, K, N]` maps S equal leading blocks of rows, one seed each
const stackedMatMulOp = tf.customGrad((a, b, save) => {
  const [x, w] = [a as tf.Tensor, b as tf.Tensor];
  const [S, K, N] = w.shape as [number, number, number];
  (save as tf.GradSaveFunc)([x, w]);
  return {
    value: tf.tidy(() => tf.reshape(bmmNN(tf.reshape(x, [S, -1, K]), w), [-1, N])), // [S·M, N]
    gradFunc: lean((dy, saved) => {
      const dy3 = tf.reshape(dy, [S, -1, N]); // [S, M, N]
      return [tf.reshape(bmmNT(dy3, saved[1]!), [-1, K]), bmmTN(tf.reshape(saved[0]!, [S, -1, K]), dy3)];
    }),
  };
});

/** `a[M,K] · b[K,N]` → `[M,N]`; with stacked seeds `a[S·M,K] · b[S,K,N]` → `[S·M,N]`, block s by `b[s]`. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return (b.rank === 3 ? stackedMatMulOp(a, b) : matMulOp(a, b)) as tf.Tensor2D;
}

const linearOp = tf.customGrad((a, b, c, save) => {
  const [x, w, bias] = [a as tf.Tensor, b as tf.Tensor, c as tf.Tensor];
  (save as tf.GradSaveFunc)([x, w]);
  return {
    value: affine(x, w, bias), // [N, M]
    gradFunc: lean((dy, saved) => [mmNT(dy, saved[1]!), mmTN(saved[0]!, dy), tf.sum(dy, 0)]),
  };
});

const stackedLinearOp = tf.customGrad((a, b, c, save) => {
  const [x, w, bias] = [a as tf.Tensor, b as tf.Tensor, c as tf.Tensor];
  const [S, K, M] = w.shape as [number, number, number];
  (save as tf.GradSaveFunc)([x, w]);
  return {
    value: tf.tidy(() => tf.reshape(tf.add(bmmNN(tf.reshape(x, [S, -1, K]), w), tf.reshape(bias, [S, 1, M])), [-1, M])),
    gradFunc: lean((dy, saved) => {
      const dy3 = tf.reshape(dy, [S, -1, M]); // [S, N, M]
      // the bias gradient as ones·dy: a sum over the middle axis would take wasm's slow transposing reduction
      const ones = tf.ones([S, 1, dy3.shape[1]!]);
      return [
        tf.reshape(bmmNT(dy3, saved[1]!), [-1, K]),
        bmmTN(tf.reshape(saved[0]!, [S, -1, K]), dy3),
        tf.reshape(bmmNN(ones, dy3), [S, M]),
      ];
    }),
  };
});

/** `x[N,K] · w[K,M] + bias[M]`; with stacked seeds `w[S,K,M]` and `bias[S,M]`, as {@link matMul}. */
export function linear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return (w.rank === 3 ? stackedLinearOp(x, w, bias) : linearOp(x, w, bias)) as tf.Tensor2D;
}

/**
 * A linear map straight into attention heads: `x[B·T, D] · w + bias` laid out as `[B, H, T, D/H]`, without
 * keeping the `[B·T, D]` intermediate.
 */
export function projectHeads(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, batch: number, heads: number): tf.Tensor4D {
  const T = x.shape[0]! / batch;
  const D = w.shape[w.rank - 1]!;
  if (w.rank === 3) return tf.transpose(tf.reshape(linear(x, w, bias), [batch, T, heads, D / heads]), [0, 2, 1, 3]);
  const op = tf.customGrad((a, b, c, save) => {
    const [input, weight, b0] = [a as tf.Tensor, b as tf.Tensor, c as tf.Tensor];
    (save as tf.GradSaveFunc)([input, weight]);
    return {
      value: tf.tidy(() =>
        tf.transpose(tf.reshape(tf.add(mmNN(input, weight), b0), [batch, T, heads, D / heads]), [0, 2, 1, 3])
      ),
      gradFunc: lean((dy, saved) => {
        const flat = tf.reshape(tf.transpose(dy, [0, 2, 1, 3]), [batch * T, D]); // [B·T, D]
        return [mmNT(flat, saved[1]!), mmTN(saved[0]!, flat), tf.sum(flat, 0)];
      }),
    };
  });
  return op(x, w, bias) as tf.Tensor4D;
}

// ---- attention ----

/** Dropout settings for one forward pass; absent means evaluation mode. */
export interface DropoutContext {
  /** Probability of zeroing an activation. */
  rate: number;
  /** Source of the masks. */
  prng: Prng;
}

function dropoutMask(seed: number, rate: number, shape: number[]): tf.Tensor {
  const values = new Float32Array(tf.util.sizeFromShape(shape));
  fillDropoutMask(values, seed, rate);
  return tf.tensor(values, shape);
}

/** x times the dropout mask of `seed` (one fused pass on wasm, the mask itself never stored). */
function applyDropout(x: tf.Tensor, seed: number, rate: number): tf.Tensor {
  return fusedDropout(x, seed, rate) ?? tf.tidy(() => tf.mul(x, dropoutMask(seed, rate, x.shape)));
}

/**
 * Causal multi-head attention: softmax(q·kᵀ·scale + mask) (with dropout on the probabilities) times v, heads merged
 * back into `[B·Tq, H·hd]`. Keeps q, k, v and the probabilities before and after dropout (as PyTorch's eager
 * attention does); the dropout mask is read back from the kept probabilities rather than stored or regenerated.
 * @param q `[B, H, Tq, hd]`
 * @param k `[B, H, S, hd]`
 * @param v `[B, H, S, hd]`
 * @param mask additive, broadcastable to `[B, H, Tq, S]` (gets no gradient)
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor,
  scale: number,
  drop: DropoutContext | undefined,
): tf.Tensor2D {
  const [B, H, Tq, hd] = q.shape;
  const rate = drop?.rate ?? 0;
  const seed = rate > 0 ? drop!.prng.nextUint32() : 0;
  const op = tf.customGrad((a, b, c, d, save) => {
    const [sq, sk, sv, m] = [a as tf.Tensor, b as tf.Tensor, c as tf.Tensor, d as tf.Tensor];
    // scaling q rather than the scores: a [.., hd] product instead of a [.., S] one; the backward pass is unchanged
    const p = tf.tidy(() => {
      const scores = bmmNT(tf.mul(sq, scale), sk); // [B, H, Tq, S]
      return fusedMaskedSoftmax(scores, m) ?? tf.softmax(tf.add(scores, m));
    }); // [B, H, Tq, S]
    const kept = rate > 0 ? applyDropout(p, seed, rate) : p; // [B, H, Tq, S]
    (save as tf.GradSaveFunc)([sq, sk, sv, m, p, kept]);
    const out = tf.tidy(() => tf.reshape(tf.transpose(bmmNN(kept, sv), [0, 2, 1, 3]), [B * Tq, H * hd])); // [B·Tq, D]
    tf.dispose(rate > 0 ? [p, kept] : p);
    return {
      value: out,
      gradFunc: lean((dy, saved) => {
        const [xq, xk, xv, xm, xp, xKept] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dOut = tf.transpose(tf.reshape(dy, [B, Tq, H, hd]), [0, 2, 1, 3]); // [B, H, Tq, hd]
        const dv = bmmTN(xKept, dOut); // [B, H, S, hd]
        let dp = bmmNT(dOut, xv); // [B, H, Tq, S]
        const dropScale = rate > 0 ? 1 / (1 - rate) : 1;
        // the kept entries are those still positive after dropout; where p itself is 0, ds below is 0 either way
        let ds = fusedSoftmaxGrad(xp, dp, rate > 0 ? xKept : null, scale * dropScale); // [B, H, Tq, S]
        if (ds === null) {
          if (rate > 0) dp = tf.mul(dp, tf.step(xKept));
          ds = tf.mul(tf.mul(xp, tf.sub(dp, tf.sum(tf.mul(dp, xp), -1, true))), scale * dropScale);
        }
        return [bmmNN(ds, xk), bmmTN(ds, xq), dv, tf.zerosLike(xm)];
      }),
    };
  });
  return op(q, k, v, mask) as tf.Tensor2D;
}

// ---- normalisation and activation ----

function normalise(x: tf.Tensor): { xHat: tf.Tensor; invStd: tf.Tensor } {
  const centred = tf.sub(x, tf.mean(x, -1, true)); // [..., D]
  const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5)); // [..., 1]
  return { xHat: tf.mul(centred, invStd), invStd };
}

/** Rows `[..., D]` as `[S, rows, D]`: S = 1, or the stacked seeds of a gain `[S, D]`. */
function bySeed(x: tf.Tensor, gain: tf.Tensor): tf.Tensor3D {
  const D = x.shape[x.rank - 1]!;
  return tf.reshape(x, [gain.rank === 2 ? gain.shape[0]! : 1, -1, D]);
}

/** A gain or bias `[D]` or `[S, D]` as `[S, 1, D]`. */
function gainOf(g: tf.Tensor): tf.Tensor3D {
  return tf.reshape(g, [g.rank === 2 ? g.shape[0]! : 1, 1, -1]);
}

const layerNormOp = tf.customGrad((x, gain, bias, save) => {
  const [input, g, b] = [x as tf.Tensor, gain as tf.Tensor, bias as tf.Tensor];
  const fused = fusedLayerNorm(input, g, b);
  const { xHat, invStd } = fused ?? tf.tidy(() => normalise(input));
  // the backward pass needs x̂ and 1/σ, not x: keeping them costs no more than keeping x and saves recomputing them
  (save as tf.GradSaveFunc)([xHat, invStd, g]);
  const y = fused?.y ?? tf.tidy(() => tf.reshape(tf.add(tf.mul(bySeed(xHat, g), gainOf(g)), gainOf(b)), input.shape)); // [..., D]
  tf.dispose([xHat, invStd]);
  return {
    value: y,
    gradFunc: lean((dy, saved) => {
      const [sxHat, sInvStd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const grads = fusedLayerNormGrad(dy, sxHat, sInvStd, sg);
      if (grads !== null) return grads;
      const dy3 = bySeed(dy, sg); // [S, rows, D]
      const dxHat = tf.reshape(tf.mul(dy3, gainOf(sg)), dy.shape); // [..., D]
      const dx = tf.mul(
        tf.sub(tf.sub(dxHat, tf.mean(dxHat, -1, true)), tf.mul(sxHat, tf.mean(tf.mul(dxHat, sxHat), -1, true))),
        sInvStd,
      );
      return [
        dx,
        tf.reshape(tf.sum(tf.mul(dy3, bySeed(sxHat, sg)), 1), sg.shape),
        tf.reshape(tf.sum(dy3, 1), sg.shape),
      ];
    }),
  };
});

/** Layer norm over the last axis (eps 1e-5, as GPT-2); a gain and bias `[S, D]` apply per stacked seed. */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return layerNormOp(x, gain, bias) as tf.Tensor;
}

function geluSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_2C * GELU_K), GELU_2C))); // σ(2z), 2z = 2c(x + kx³)
}

const geluOp = tf.customGrad((x, save) => {
  const input = x as tf.Tensor;
  const fused = fusedGelu(input);
  const s = fused?.s ?? tf.tidy(() => geluSigmoid(input));
  const y = fused?.y ?? tf.mul(input, s);
  // y is kept by the next matmul anyway; keeping σ costs one tensor and saves recomputing it in the backward pass
  (save as tf.GradSaveFunc)([input, s, y]);
  s.dispose();
  return {
    value: y,
    gradFunc: lean((dy, saved) => {
      const [sx, ss, sy] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const fused = fusedGeluGrad(sx, ss, sy, dy);
      if (fused !== null) return fused;
      // d/dx x·σ(2z) = σ + x·σ(1−σ)·2c(1 + 3k·x²), with x·σ(1−σ) = y − y·σ
      const dz = tf.add(tf.mul(tf.square(sx), 3 * GELU_K * GELU_2C), GELU_2C);
      return tf.mul(dy, tf.add(ss, tf.mul(tf.sub(sy, tf.mul(sy, ss)), dz)));
    }),
  };
});

/** GELU (tanh form) written as x·sigmoid(2z): the same function, but wasm's Sigmoid is 10x faster than Tanh. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x) as tf.Tensor;
}

// ---- dropout and stop-gradient ----

/**
 * Inverted dropout with a mask drawn from the context's seeded generator; identity without a context. The mask is
 * regenerated from its seed in the backward pass rather than stored.
 */
export function dropout(x: tf.Tensor, context: DropoutContext | undefined): tf.Tensor {
  if (context === undefined || context.rate === 0) return x;
  const { rate } = context;
  const seed = context.prng.nextUint32();
  const op = tf.customGrad((input) => ({
    value: applyDropout(input as tf.Tensor, seed, rate),
    gradFunc: lean((dy) => applyDropout(dy, seed, rate)),
  }));
  return op(x) as tf.Tensor;
}

const stopGradientOp = tf.customGrad((x) => ({
  value: tf.add(x as tf.Tensor, 0),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** Identity in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
