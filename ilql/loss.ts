/**
 * ILQL loss terms as pure functions of tensors (spec 3; Snell et al. 2022, eqs. for L_Q, L_V, L_CQL and the
 * AWAC/BC policy loss). Means are over the N real action tokens of a batch (`count`), as in the reference.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Σ x·mask / count. */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor, count: number): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), Math.max(count, 1));
}

/** Value of each row's chosen entry: `values[N, V]`, `index[N]` → `[N]` (one-hot select; gather-free). */
export function selectAt(values: tf.Tensor, index: tf.Tensor1D): tf.Tensor1D {
  const depth = values.shape[values.rank - 1]!;
  return tf.sum(tf.mul(values, tf.oneHot(index, depth)), -1) as tf.Tensor1D; // [N]
}

/** Cross-entropy of each row's logits against its target: logsumexp(z) − z[target] → `[N]`. */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.neg(selectAt(tf.logSoftmax(logits), targets)); // [N]
}

/**
 * One-step TD target r + γ·(1 − terminal')·next, where `next` is the next state's value: V(s') for ILQL and the
 * single-step/MC presets, max_a' Q̄(s', a') for token-level CQL. The one place every Q head's target is made.
 */
export function tdTarget(rewards: tf.Tensor, nextTerminals: tf.Tensor, next: tf.Tensor, gamma: number): tf.Tensor {
  return tf.add(rewards, tf.mul(tf.mul(tf.sub(1, nextTerminals), next), gamma));
}

/** TD loss of one Q head: mean over real actions of (target − Q(s,a))². */
export function tdLoss(qAtAction: tf.Tensor, tdTarget: tf.Tensor, mask: tf.Tensor, count: number): tf.Scalar {
  return maskedMean(tf.squaredDifference(tdTarget, qAtAction), mask, count);
}

/**
 * Expectile regression (Kostrikov et al. 2021) of V towards Q̄: |τ − 1(u < 0)|·u² with u = Q̄ − V, averaged over
 * real actions. The weight is built with `tf.step` because `where` on a comparison has no gradient in tfjs.
 */
export function expectileLoss(diff: tf.Tensor, mask: tf.Tensor, expectile: number, count: number): tf.Scalar {
  const weight = tf.add(tf.mul(tf.step(tf.neg(diff)), 1 - 2 * expectile), expectile); // 1−τ if u<0 else τ
  return maskedMean(tf.mul(weight, tf.square(diff)), mask, count);
}

/**
 * Conservative (CQL) term of one Q head: the Q vector over the vocabulary used as logits, cross-entropy against
 * the dataset token (temperature 1), averaged over real actions. Pushes all Q values down and the dataset's up.
 */
export function conservativeLoss(q: tf.Tensor, actions: tf.Tensor1D, mask: tf.Tensor, count: number): tf.Scalar {
  return maskedMean(crossEntropy(q, actions), mask, count);
}

/**
 * AWAC/BC policy loss: Σ_t w_t·CE(logits_t, next token) / denominator. `weights` is zero at positions that
 * choose no action; the reference divides by all non-pad next tokens, observation tokens included (spec 12.2).
 */
export function policyLoss(
  logits: tf.Tensor,
  nextTokens: tf.Tensor1D,
  weights: tf.Tensor,
  denominator: number,
): tf.Scalar {
  return tf.div(tf.sum(tf.mul(crossEntropy(logits, nextTokens), weights)), Math.max(denominator, 1));
}
