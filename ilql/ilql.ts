/**
 * Implicit Language Q-Learning (Snell et al., ICLR 2023): one training update. Follows spec 3 and 13 and the
 * reference's `PerTokenIQL.get_loss` at HEAD (0dc5561), with these deliberate differences:
 * - padded action slots are masked by an explicit action mask; the reference derives the mask from the padded
 *   terminals, which counts one padded slot as real for episodes that were cut off (identical for terminal ones);
 * - a loss term whose weight is 0 is not computed, and the value transformer is skipped when only the policy
 *   trains (behaviour cloning).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { bool, choice, type ConfigOf, num } from "./config.ts";
import type { Batch } from "./episode.ts";
import {
  conservativeLoss,
  type Count,
  expectileLoss,
  maskedMean,
  policyLoss,
  selectAt,
  tdLoss,
  tdTarget,
} from "./loss.ts";
import { applyHead, type IlqlModel } from "./model.ts";
import { activeWasmBackend, assignOnHeap } from "./_wasm_heap.ts";
import { AdamW, seedNorms } from "./optim.ts";
import { type DropoutContext, stopGradient } from "./ops.ts";
import type { Prng } from "./prng.ts";
import { forward } from "./transformer.ts";

// ---- config ----

/** ILQL loss config (reference names in brackets, spec 7.1). */
export const ILQL_SPEC = {
  gamma: num("Discount per action token [gamma]", 0.99, { min: 0, max: 1 }),
  expectile: num("Expectile of the V regression; 0.5 = behaviour value (SARSA), towards 1 = max over data [tau]", 0.7, {
    above: 0,
    max: 1,
  }),
  cqlWeight: num("Weight of the conservative cross-entropy term over Q logits [cql_loss_weight]", 0.25, { min: 0 }),
  qWeight: num("Weight of the TD loss of the two Q heads [q_loss_weight]", 1, { min: 0 }),
  vWeight: num("Weight of the expectile V loss [v_loss_weight]", 1, { min: 0 }),
  awacWeight: num("Weight of the policy (BC/AWAC) loss; 0 = values only [awac_weight]", 1, { min: 0 }),
  awacBeta: num("Advantage weighting of the policy loss, exp(awacBeta·(Q̄−V)); 0 = plain BC [beta]", 0, { min: 0 }),
  transitionWeight: num(
    "Weight of the policy loss at the tokens the environment wrote (the model learns to predict its answers); " +
      "0 = the agent's tokens only [transition_weight]",
    0,
    { min: 0 },
  ),
  polyak: num("Polyak rate of the target networks after each optimizer step [alpha]", 0.005, { min: 0, max: 1 }),
  mcReturns: bool("V regresses on the discounted reward-to-go instead of Q̄ (MC-return values) [mc_returns]", false),
  backup: choice(
    "Q's TD target bootstraps from value = V(s') (ILQL) or max = max over tokens of Q̄ at s' (token-level CQL)",
    "value",
    ["value", "max"] as const,
  ),
  stopOnNonFinite: bool("Stop with an error when a loss or the gradient norm is NaN or infinite", true),
};

/** ILQL loss config record. */
export type IlqlConfig = ConfigOf<typeof ILQL_SPEC>;

// ---- losses ----

/** Batch arrays as tensors, made once per micro-batch. */
interface BatchTensors {
  B: number;
  T: number;
  K: number;
  tokens: tf.Tensor2D; // [B, T]
  actionIndex: tf.Tensor1D; // [B·K]
  stateIndex: tf.Tensor1D; // [B·(K+1)]
  actions: tf.Tensor1D; // [B·K]
  rewards: tf.Tensor2D; // [B, K]
  mask: tf.Tensor2D; // [B, K]
  nextTerminals: tf.Tensor2D; // [B, K]
  returnsToGo: tf.Tensor2D | null; // [B, K] discounted reward-to-go of each action (MC-return values only)
  // [B] episode returns; a return-conditioned model embeds them inside the gradient tape (its embedding trains)
  returns: ArrayLike<number>;
  nextTokens: tf.Tensor1D; // [B·T]
  positionSlot: tf.Tensor1D; // [B·T]
  actionPositions: tf.Tensor1D; // [B·T] 1 where a position chooses an action
  transitionPositions: tf.Tensor1D | null; // [B·T] 1 where a position predicts a real environment token
  /** Seeds stacked in the batch (S equal blocks of rows) and the model; the terms are then `[S]`, one per seed. */
  seeds: number;
  count: Count; // real actions (per seed when stacked)
  policyDenominator: Count; // non-pad next tokens (per seed when stacked)
}

/**
 * Discounted reward-to-go of every action slot, Σ_{j≥k} γ^{j−k} r_j over the episode's real actions (0 on padding).
 * @param rewards `[B·K]` per-action rewards
 * @param mask `[B·K]` 1 on real actions
 */
export function rewardsToGo(rewards: Float32Array, mask: Float32Array, K: number, gamma: number): Float32Array {
  const out = new Float32Array(rewards.length);
  for (let row = 0; row < rewards.length; row += K) {
    let g = 0;
    for (let k = K - 1; k >= 0; k--) {
      g = mask[row + k]! > 0 ? rewards[row + k]! + gamma * g : 0;
      out[row + k] = g;
    }
  }
  return out;
}

/** Per seed of S equal blocks of rows, the sum of `values` (`[B·n]`), at least 1: a mean's denominator. */
function perSeed(values: ArrayLike<number>, seeds: number, skipFirst: boolean, n: number): tf.Tensor1D {
  const rows = values.length / n / seeds;
  const out = new Float32Array(seeds);
  for (let i = 0; i < values.length; i++) if (!skipFirst || i % n !== 0) out[Math.floor(i / n / rows)]! += values[i]!;
  return tf.tensor1d(out.map((c) => Math.max(c, 1)));
}

/** [B·T] 1 at each position whose next token is real and not an action token: the environment's text. */
function transitionPositions(batch: Batch): Float32Array {
  const { size: B, length: T } = batch;
  const out = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    if ((i + 1) % T !== 0 && batch.attention[i + 1] === 1 && batch.positionSlot[i] === 0) out[i] = 1;
  }
  return out;
}

function batchTensors(batch: Batch, config: IlqlConfig, seeds: number): BatchTensors {
  const { size: B, length: T, numActions: K } = batch;
  const nextTerminals = new Float32Array(B * K);
  for (let b = 0; b < B; b++) nextTerminals.set(batch.terminals.subarray(b * (K + 1) + 1, (b + 1) * (K + 1)), b * K);
  const nextTokens = new Int32Array(B * T);
  for (let b = 0; b < B; b++) nextTokens.set(batch.tokens.subarray(b * T + 1, (b + 1) * T), b * T);
  let count = 0;
  for (const m of batch.actionMask) count += m;
  let policyDenominator = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) policyDenominator += batch.attention[b * T + t]!;
  }
  return {
    B,
    T,
    K,
    tokens: tf.tensor2d(batch.tokens, [B, T], "int32"),
    actionIndex: tf.tensor1d(batch.actionIndex, "int32"),
    stateIndex: tf.tensor1d(batch.stateIndex, "int32"),
    actions: tf.tensor1d(batch.actions, "int32"),
    rewards: tf.tensor2d(batch.rewards, [B, K]),
    mask: tf.tensor2d(batch.actionMask, [B, K]),
    nextTerminals: tf.tensor2d(nextTerminals, [B, K]),
    returnsToGo: config.mcReturns
      ? tf.tensor2d(rewardsToGo(batch.rewards, batch.actionMask, K, config.gamma), [B, K])
      : null,
    returns: batch.returns,
    nextTokens: tf.tensor1d(nextTokens, "int32"),
    positionSlot: tf.tensor1d(batch.positionSlot, "int32"),
    actionPositions: tf.tensor1d(batch.positionSlot.map((s) => (s > 0 ? 1 : 0)), "float32"),
    transitionPositions: config.transitionWeight === 0 ? null : tf.tensor1d(transitionPositions(batch), "float32"),
    seeds,
    count: seeds === 1 ? count : perSeed(batch.actionMask, seeds, false, K),
    policyDenominator: seeds === 1 ? policyDenominator : perSeed(batch.attention, seeds, true, T),
  };
}

/** The loss terms (weighted sum is the total) and summary statistics: scalars, or `[S]` for S stacked seeds. */
export interface LossTerms {
  q: tf.Tensor;
  v: tf.Tensor;
  cql: tf.Tensor;
  policy: tf.Tensor;
  total: tf.Tensor;
  qMean: tf.Tensor;
  vMean: tf.Tensor;
  advMean: tf.Tensor;
}

/** Which parts of the network a config needs. */
function needs(config: IlqlConfig) {
  const values = config.qWeight !== 0 || config.vWeight !== 0 || config.cqlWeight !== 0;
  const policy = config.awacWeight !== 0;
  return { values: values || (policy && config.awacBeta !== 0), policy };
}

/**
 * All ILQL loss terms for one batch (spec 3). `targetHidden` is the target transformer's output `[B·T, D]`,
 * computed outside the gradient tape (separate layout only).
 */
function lossTerms(
  model: IlqlModel,
  bt: BatchTensors,
  config: IlqlConfig,
  drop: DropoutContext | undefined,
  targetHidden: tf.Tensor2D | null,
): LossTerms {
  const { B, K } = bt;
  const need = needs(config);
  const zero = tf.zeros(bt.seeds === 1 ? [] : [bt.seeds]);
  const terms: LossTerms = {
    q: zero,
    v: zero,
    cql: zero,
    policy: zero,
    total: zero,
    qMean: zero,
    vMean: zero,
    advMean: zero,
  };
  // [B, D] return embeddings of a return-conditioned model, made here so that their weights get gradients
  const prefix = model.returnPrefix(bt.returns);
  let valueHidden: tf.Tensor2D | null = null;
  let advantage: tf.Tensor | null = null; // [B, K] Q̄ − V at dataset actions, no gradient
  if (need.values) {
    const h = forward(model.trunk("value")!, model.shape, bt.tokens, { dropout: drop, prefix }).hidden; // [B·T, D]
    valueHidden = h;
    const hA = tf.gather(h, bt.actionIndex); // [B·K, D]
    const hS = tf.gather(h, bt.stateIndex); // [B·(K+1), D]
    const v = tf.reshape(applyHead(model.heads.v, hS), [B, K + 1]); // [B, K+1]
    const q1 = applyHead(model.heads.q1, hA); // [B·K, V]
    const q2 = applyHead(model.heads.q2, hA); // [B·K, V]
    // min of the target Q heads at the rows `online` (gathered at `index` from h), read from the target trunk if any
    const targetQ = (online: tf.Tensor, index: tf.Tensor1D) => {
      const hT = targetHidden === null ? stopGradient(online) : tf.gather(targetHidden, index); // [N, D]
      return model.targetQ(hT as tf.Tensor2D); // [N, V]
    };
    const qBar = stopGradient(tf.reshape(selectAt(targetQ(hA, bt.actionIndex), bt.actions), [B, K])); // [B, K]
    const vHere = tf.slice(v, [0, 0], [B, K]); // [B, K]
    // the value of the next state: V(s') (ILQL), or max over tokens of Q̄ at s' (CQL's max backup)
    const next = config.backup === "value"
      ? tf.slice(v, [0, 1], [B, K])
      : tf.slice(tf.reshape(tf.max(targetQ(hS, bt.stateIndex), -1), [B, K + 1]), [0, 1], [B, K]); // [B, K]
    const target = tdTarget(bt.rewards, bt.nextTerminals, stopGradient(next), config.gamma); // [B, K]
    const q1a = tf.reshape(selectAt(q1, bt.actions), [B, K]); // [B, K]
    const q2a = tf.reshape(selectAt(q2, bt.actions), [B, K]); // [B, K]
    const diff = tf.sub(qBar, vHere); // [B, K]
    terms.q = tf.add(tdLoss(q1a, target, bt.mask, bt.count), tdLoss(q2a, target, bt.mask, bt.count));
    // MC-return values: V's regression target is the observed reward-to-go; Q stays TD on V, the advantage Q̄ − V
    const vDiff = bt.returnsToGo === null ? diff : tf.sub(bt.returnsToGo, vHere); // [B, K]
    terms.v = expectileLoss(vDiff, bt.mask, config.expectile, bt.count);
    const flatMask = tf.reshape(bt.mask, [B * K]);
    terms.cql = tf.add(
      conservativeLoss(q1, bt.actions, flatMask, bt.count),
      conservativeLoss(q2, bt.actions, flatMask, bt.count),
    );
    const adv = stopGradient(diff);
    advantage = adv;
    terms.qMean = maskedMean(tf.div(tf.add(q1a, q2a), 2), bt.mask, bt.count);
    terms.vMean = maskedMean(vHere, bt.mask, bt.count);
    terms.advMean = maskedMean(adv, bt.mask, bt.count);
  }
  if (need.policy) {
    const shared = model.config.layout === "shared" && valueHidden !== null;
    const h = shared
      ? valueHidden!
      : forward(model.trunk("policy")!, model.shape, bt.tokens, { dropout: drop, prefix }).hidden;
    const logits = model.policyLogits(h); // [B·T, V]
    let weights: tf.Tensor = bt.actionPositions; // [B·T]
    if (config.awacBeta !== 0) {
      const slotWeights = tf.mul(tf.exp(tf.mul(advantage!, config.awacBeta)), bt.mask); // [B, K]
      weights = tf.gather(tf.concat([tf.zeros([1]), tf.reshape(slotWeights, [B * K])]), bt.positionSlot); // [B·T]
    }
    if (bt.transitionPositions !== null) {
      weights = tf.add(weights, tf.mul(bt.transitionPositions, config.transitionWeight));
    }
    terms.policy = policyLoss(logits, bt.nextTokens, weights, bt.policyDenominator);
  }
  terms.total = tf.addN([
    tf.mul(terms.q, config.qWeight),
    tf.mul(terms.v, config.vWeight),
    tf.mul(terms.cql, config.cqlWeight),
    tf.mul(terms.policy, config.awacWeight),
  ]);
  return terms;
}

/** Names of the info entries the loss terms produce, in `LossTerms` order. */
const TERM_KEYS = [
  ["losses/q", "q"],
  ["losses/v", "v"],
  ["losses/cql", "cql"],
  ["losses/policy", "policy"],
  ["losses/total", "total"],
  ["values/q_mean", "qMean"],
  ["values/v_mean", "vMean"],
  ["values/adv_mean", "advMean"],
] as const;

/** The terms as one tensor: `[terms]`, or `[terms, S]` for stacked seeds. */
function stackTerms(t: LossTerms): tf.Tensor {
  return tf.stack(TERM_KEYS.map(([, k]) => t[k]));
}

/** The info key of a per-seed value: the key itself for one seed, `key@s` for seed s of several. */
export function seedKey(key: string, seed: number, seeds: number): string {
  return seeds === 1 ? key : `${key}@${seed}`;
}

/** Seed `seed`'s entries of an info record keyed by {@link seedKey}, under their plain keys. */
export function seedInfo(info: Record<string, number>, seed: number, seeds: number): Record<string, number> {
  if (seeds === 1) return info;
  const suffix = `@${seed}`;
  return Object.fromEntries(
    Object.entries(info).filter(([k]) => k.endsWith(suffix)).map(([k, v]) => [k.slice(0, -suffix.length), v]),
  );
}

/** Target-transformer hidden states `[B·T, D]` when the config needs them (separate layout), else null. */
function targetHiddenOf(model: IlqlModel, bt: BatchTensors, config: IlqlConfig, drop: DropoutContext | undefined) {
  const target = model.trunk("target");
  return target !== null && needs(config).values
    ? forward(target, model.shape, bt.tokens, { dropout: drop, prefix: model.returnPrefix(bt.returns) }).hidden
    : null;
}

/**
 * The ILQL loss terms of a batch as scalar tensors (the caller disposes them, e.g. inside `tf.tidy`).
 * @param dropout masks for training mode; omit for evaluation
 */
export function computeLossTerms(
  model: IlqlModel,
  batch: Batch,
  config: IlqlConfig,
  dropout?: DropoutContext,
): LossTerms {
  const bt = batchTensors(batch, config, model.seeds);
  return lossTerms(model, bt, config, dropout, targetHiddenOf(model, bt, config, dropout));
}

/** The loss terms of a batch in evaluation mode (no dropout, no update), as an info record. */
export function evaluateLosses(model: IlqlModel, batch: Batch, config: IlqlConfig): Record<string, number> {
  const stacked = tf.tidy(() => stackTerms(computeLossTerms(model, batch, config)));
  const values = stacked.dataSync();
  stacked.dispose();
  return Object.fromEntries(TERM_KEYS.map(([name], i) => [name, values[i]!]));
}

// ---- update ----

/** Training state: the model, its optimizer, and the step counter. Variables are updated in place. */
export interface IlqlState {
  model: IlqlModel;
  optimizer: AdamW;
  config: IlqlConfig;
  /** Optimizer steps taken. */
  step: number;
  /** Source of dropout masks. */
  prng: Prng;
}

/** Raised when a loss term or the gradient norm is not finite; no update was applied. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly term: string, readonly value: number) {
    super(`Non-finite ${term} (${value}) at step ${step}; the update was not applied`);
    this.name = "NonFiniteLossError";
  }
}

/** The variables a config trains: with only the policy loss in the separate layout, only the policy trunk. */
function trainedVariables(model: IlqlModel, config: IlqlConfig): Map<string, tf.Variable> {
  const all = model.trainableVariables();
  if (needs(config).values) return all;
  const policy = model.policyVariableNames();
  return new Map([...all].filter(([name]) => policy.has(name)));
}

/** Makes the initial training state for a model. */
export function initIlqlState(
  model: IlqlModel,
  config: IlqlConfig,
  optimizer: AdamW,
  prng: Prng,
): IlqlState {
  return { model, optimizer, config, step: 0, prng };
}

/** Makes the optimizer for the variables a config trains, its schedule spanning `horizon` steps. */
export function makeOptimizer(model: IlqlModel, config: IlqlConfig, optim: AdamW["config"], horizon = 0): AdamW {
  return new AdamW(trainedVariables(model, config), optim, horizon);
}

/**
 * One optimizer step over `microBatches` (gradient accumulation: gradients are averaged), then the Polyak update
 * of the targets. Returns the new state and a flat info record (`losses/*`, `values/*`, `optim/grad_norm`).
 * @throws NonFiniteLossError before touching any weight when a loss or the gradient norm is not finite
 */
export function ilqlUpdate(
  state: IlqlState,
  microBatches: readonly Batch[],
): { state: IlqlState; info: Record<string, number> } {
  const { model, config, optimizer } = state;
  if (microBatches.length === 0) throw new Error("ilqlUpdate needs at least one batch");
  const vars = trainedVariables(model, config);
  const varList = [...vars.values()];
  const names = [...vars.keys()];
  const seeds = model.seeds;
  const sums = new Float64Array(TERM_KEYS.length * seeds);
  let accumulated: tf.Tensor[] | null = null;
  const drop = model.config.dropout > 0 ? { rate: model.config.dropout, prng: state.prng } : undefined;
  for (const batch of microBatches) {
    const stats = tf.tidy(() => {
      const bt = batchTensors(batch, config, seeds);
      const targetHidden = targetHiddenOf(model, bt, config, drop); // outside the tape: no gradient
      const out: { stats?: tf.Tensor } = {};
      const { grads } = tf.variableGrads(() => {
        const t = lossTerms(model, bt, config, drop, targetHidden);
        out.stats = tf.keep(stackTerms(t));
        // stacked seeds: the sum of independent seeds' losses gives each seed's weights its own loss's gradient
        return tf.sum(t.total) as tf.Scalar;
      }, varList);
      // tf.keep: the accumulated gradients outlive this tidy
      const next = varList.map((v, i) => {
        const g = grads[v.name];
        const prev = accumulated?.[i];
        const part = g === undefined ? tf.zerosLike(v) : microBatches.length === 1 ? g : tf.div(g, microBatches.length);
        return tf.keep(prev === undefined ? part : tf.add(prev, part));
      });
      if (accumulated !== null) tf.dispose(accumulated);
      accumulated = next;
      return out.stats!;
    });
    const values = stats.dataSync();
    stats.dispose();
    for (let i = 0; i < sums.length; i++) sums[i]! += values[i]! / microBatches.length;
  }
  const grads = accumulated! as tf.Tensor[];
  const info: Record<string, number> = {};
  const norms = seedNorms(grads, seeds);
  for (let s = 0; s < seeds; s++) {
    TERM_KEYS.forEach(([k], i) => (info[seedKey(k, s, seeds)] = sums[i * seeds + s]!));
    info[seedKey("optim/grad_norm", s, seeds)] = norms[s]!;
  }
  if (config.stopOnNonFinite) {
    for (const [key, value] of Object.entries(info)) {
      if (!Number.isFinite(value)) {
        tf.dispose(grads);
        throw new NonFiniteLossError(state.step + 1, key, value);
      }
    }
  }
  const clip = optimizer.config.gradClip;
  // each seed clipped by its own norm, as it would be alone
  const factors = norms.map((norm) => (clip !== null && norm > clip ? clip / norm : 1));
  const clipped = factors.some((f) => f !== 1);
  const gradMap = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[i]!;
    if (!clipped) gradMap.set(n, g);
    else if (seeds === 1) gradMap.set(n, tf.mul(g, factors[0]!));
    else gradMap.set(n, tf.tidy(() => tf.mul(g, tf.tensor(factors, [seeds, ...g.shape.slice(1).map(() => 1)]))));
  });
  optimizer.apply(gradMap);
  if (clipped) tf.dispose([...gradMap.values()]);
  tf.dispose(grads);
  if (needs(config).values) polyakUpdate(model, config.polyak);
  return { state: { ...state, step: state.step + 1 }, info };
}

/**
 * target ← polyak·online + (1 − polyak)·target for every target variable (spec 2.2). On the wasm backend each pair is
 * one loop over the heap, rounding as the float32 kernels do (the same bits as the tensor ops).
 */
export function polyakUpdate(model: IlqlModel, polyak: number): void {
  if (polyak === 0) return;
  const wasm = activeWasmBackend();
  if (wasm === null) {
    tf.tidy(() => {
      for (const [target, online] of model.polyakPairs()) {
        target.assign(tf.add(tf.mul(target, 1 - polyak), tf.mul(online, polyak)));
      }
    });
    return;
  }
  const [keep, take] = [Math.fround(1 - polyak), Math.fround(polyak)];
  for (const [target, online] of model.polyakPairs()) {
    assignOnHeap(wasm, [target], [target, online], ([out], [t, o]) => {
      for (let i = 0; i < out!.length; i++) out![i] = Math.fround(t![i]! * keep) + Math.fround(o![i]! * take);
    });
  }
}
