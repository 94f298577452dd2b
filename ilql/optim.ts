/**
 * AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW computes it, with optional clipping by global norm.
 * tfjs ships Adam without decoupled weight decay, hence this small implementation. On the wasm backend the update
 * of each variable is one fused loop over the heap instead of ten tensor ops (whose per-op cost dominates for the
 * many small variables of a transformer); elsewhere it uses tensor ops. Both compute the same formula.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { activeWasmBackend, assignOnHeap, heapView, type WasmBackend } from "./_wasm_heap.ts";
import { choice, type ConfigOf, int, num, optionalNum } from "./config.ts";

/** Optimizer config. */
export const OPTIM_SPEC = {
  lr: num("Learning rate (Wordle BC 1e-4, ILQL 1e-5 in the reference; higher suits small models)", 1e-4, {
    above: 0,
  }),
  weightDecay: num("Decoupled weight decay (AdamW)", 0, { min: 0 }),
  beta1: num("Adam first-moment decay", 0.9, { min: 0, max: 0.999999 }),
  beta2: num("Adam second-moment decay", 0.999, { min: 0, max: 0.999999 }),
  eps: num("Adam epsilon", 1e-8, { above: 0 }),
  gradClip: optionalNum("Clip gradients to this global L2 norm; none = no clipping (reference)", null, { above: 0 }),
  gradAccum: int("Micro-batches per optimizer step (gradient accumulation)", 1, { min: 1 }),
  schedule: choice(
    "Learning rate over the training's steps: constant (reference), or cosine from lr down to 0 at its last step " +
      "(a run ends on its plateau, not wherever its noise is when the steps run out)",
    "constant",
    ["constant", "cosine"] as const,
  ),
  decaySteps: int(
    "With the cosine schedule: the cosine spans only the last n steps (at most all), the rate constant at lr before " +
      "them (0 = all steps)",
    0,
    { min: 0 },
  ),
};

/** Optimizer config record. */
export type OptimConfig = ConfigOf<typeof OPTIM_SPEC>;

/**
 * The learning rate of optimizer step `step` (1-based) of `horizon`: `lr` throughout, or a cosine from `lr` to 0 after
 * the last step (the rate of steps past the horizon), spanning all steps or only the last `decaySteps`.
 */
export function scheduledLr(config: OptimConfig, step: number, horizon: number): number {
  if (config.schedule === "constant") return config.lr;
  const span = config.decaySteps === 0 ? horizon : Math.min(config.decaySteps, horizon);
  const progress = Math.max(0, Math.min(step - 1 - (horizon - span), span)) / span;
  return config.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** AdamW over a named set of variables. */
export class AdamW {
  readonly config: OptimConfig;
  /** Optimizer steps the schedule spans. */
  readonly horizon: number;
  #vars: Map<string, tf.Variable>;
  #m = new Map<string, tf.Variable>();
  #v = new Map<string, tf.Variable>();
  /** Optimizer steps taken. */
  steps = 0;

  /** @throws when the schedule needs a horizon (`horizon` = the steps it will take) and has none */
  constructor(variables: Map<string, tf.Variable>, config: OptimConfig, horizon = 0) {
    if (config.schedule !== "constant" && !(Number.isInteger(horizon) && horizon >= 1)) {
      throw new Error(`optim.schedule '${config.schedule}' needs the training's step count, got ${horizon}`);
    }
    this.config = config;
    this.horizon = horizon;
    this.#vars = variables;
    for (const [name, v] of variables) {
      this.#m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
      this.#v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    }
  }

  /**
   * One update. Gradients missing from `grads` count as zero (the moments still decay, as in torch for
   * parameters that had a gradient before). Disposes nothing it did not create.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>): void {
    const { weightDecay, beta1, beta2, eps } = this.config;
    this.steps++;
    const lr = scheduledLr(this.config, this.steps, this.horizon);
    const stepSize = lr / (1 - beta1 ** this.steps);
    const correction2 = Math.sqrt(1 - beta2 ** this.steps);
    const coefficients = { stepSize, correction2, decay: 1 - lr * weightDecay, beta1, beta2, eps };
    const wasm = activeWasmBackend();
    if (wasm !== null) return this.#applyFused(wasm, grads, coefficients);
    tf.tidy(() => {
      for (const [name, p] of this.#vars) {
        const g = grads.get(name);
        if (g === undefined) continue;
        const m = this.#m.get(name)!;
        const v = this.#v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), correction2), eps);
        const decayed = weightDecay === 0 ? p : tf.mul(p, coefficients.decay);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      }
    });
  }

  /** The same update as one loop per variable, writing new buffers (variables are never changed in place). */
  #applyFused(
    wasm: WasmBackend,
    grads: ReadonlyMap<string, tf.Tensor>,
    c: { stepSize: number; correction2: number; decay: number; beta1: number; beta2: number; eps: number },
  ): void {
    for (const [name, p] of this.#vars) {
      const g = grads.get(name);
      if (g === undefined) continue;
      const m = this.#m.get(name)!;
      const v = this.#v.get(name)!;
      assignOnHeap(wasm, [p, m, v], [p, m, v, g], ([P2, M2, V2], [P, M, V, G]) => {
        for (let i = 0; i < P!.length; i++) {
          const gi = G![i]!;
          const mi = c.beta1 * M![i]! + (1 - c.beta1) * gi;
          const vi = c.beta2 * V![i]! + (1 - c.beta2) * gi * gi;
          M2![i] = mi;
          V2![i] = vi;
          P2![i] = P![i]! * c.decay - c.stepSize * mi / (Math.sqrt(vi) / c.correction2 + c.eps);
        }
      });
    }
  }

  /** Moments by checkpoint name (`optim.m.<var>`, `optim.v.<var>`). */
  state(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, m] of this.#m) out.set(`optim.m.${name}`, m);
    for (const [name, v] of this.#v) out.set(`optim.v.${name}`, v);
    return out;
  }

  /** Frees the moment variables. */
  dispose(): void {
    for (const t of [...this.#m.values(), ...this.#v.values()]) t.dispose();
  }
}

/**
 * Global L2 norm of a set of gradients. On the wasm backend it is summed in one pass over the heap in double
 * precision (one loop instead of two kernels per gradient); elsewhere with tensor ops in float32.
 */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  return seedNorms(grads, 1)[0]!;
}

/**
 * {@link globalNorm} per stacked seed: gradients `[S, ...]` (S seeds trained as one computation, `run.ts` trainSeeds)
 * have one norm per leading block.
 */
export function seedNorms(grads: Iterable<tf.Tensor>, seeds: number): number[] {
  const list = [...grads];
  const wasm = activeWasmBackend();
  if (wasm === null) {
    const norms = tf.tidy(() =>
      list.length === 0
        ? tf.zeros([seeds])
        : tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(tf.reshape(g, [seeds, -1])), 1))))
    );
    const values = [...norms.dataSync()];
    norms.dispose();
    return values;
  }
  const sums = new Array<number>(seeds).fill(0);
  for (const g of list) {
    const values = heapView(wasm, g);
    const block = values.length / seeds;
    for (let s = 0; s < seeds; s++) {
      let sum = 0;
      for (let i = s * block; i < (s + 1) * block; i++) sum += values[i]! * values[i]!;
      sums[s]! += sum;
    }
  }
  return sums.map(Math.sqrt);
}
