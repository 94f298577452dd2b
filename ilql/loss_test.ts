import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, type FixtureArray, testBackend, torchFixture } from "./_test_util.ts";
import { conservativeLoss, crossEntropy, expectileLoss, maskedMean, policyLoss, selectAt, tdLoss } from "./loss.ts";

await testBackend();
const L = torchFixture().losses;
const { B, K, T } = L.sizes as { B: number; K: number; T: number };

const t = (a: FixtureArray, dtype: "float32" | "int32" = "float32") => tf.tensor(a.data, a.shape, dtype);
const scalar = (x: tf.Scalar) => x.dataSync()[0]!;
const count = (L.action_mask.data as number[]).reduce((a, b) => a + b, 0);

/** Inputs derived from the fixture the way ilql.ts derives them from a batch. */
function derived() {
  const v = t(L.v) as tf.Tensor2D;
  const actions = t(L.actions, "int32") as tf.Tensor1D;
  const mask = t(L.action_mask);
  const vHere = tf.slice(v, [0, 0], [B, K]);
  const vNext = tf.slice(v, [0, 1], [B, K]);
  const nextTerm = tf.slice(t(L.terminals), [0, 1], [B, K]);
  const tdTarget = tf.add(t(L.rewards), tf.mul(tf.mul(tf.sub(1, nextTerm), vNext), L.gamma));
  const qBar = tf.reshape(
    tf.minimum(selectAt(t(L.target_q1), actions), selectAt(t(L.target_q2), actions)),
    [B, K],
  );
  return { vHere, actions, mask, tdTarget, qBar };
}

Deno.test("tdLoss() of both Q heads matches the PyTorch reference", () => {
  const { actions, mask, tdTarget } = derived();
  assertAllClose(tdTarget.dataSync(), L.td_target.data, { what: "td target" });
  const q1a = tf.reshape(selectAt(t(L.q1), actions), [B, K]);
  const q2a = tf.reshape(selectAt(t(L.q2), actions), [B, K]);
  assertAllClose(q1a.dataSync(), L.q_at_action.data, { what: "Q at action" });
  const loss = scalar(tf.add(tdLoss(q1a, tdTarget, mask, count), tdLoss(q2a, tdTarget, mask, count)));
  assertAllClose([loss], [L.loss_q], { rtol: 1e-5 });
});

Deno.test("expectileLoss() matches the PyTorch reference", () => {
  const { vHere, mask, qBar } = derived();
  assertAllClose(qBar.dataSync(), L.qbar.data, { what: "Q̄" });
  const loss = scalar(expectileLoss(tf.sub(qBar, vHere), mask, L.expectile, count));
  assertAllClose([loss], [L.loss_v], { rtol: 1e-5 });
});

Deno.test("conservativeLoss() of both Q heads matches the PyTorch reference", () => {
  const { actions, mask } = derived();
  const flat = tf.reshape(mask, [B * K]);
  const loss = scalar(
    tf.add(conservativeLoss(t(L.q1), actions, flat, count), conservativeLoss(t(L.q2), actions, flat, count)),
  );
  assertAllClose([loss], [L.loss_cql], { rtol: 1e-5 });
});

function policyWeights(awacBeta: number, qBar: tf.Tensor, vHere: tf.Tensor): Float32Array {
  const w = new Float32Array(B * T);
  const adv = tf.sub(qBar, vHere).dataSync();
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      if (L.action_mask.data[b * K + k] === 0) continue;
      w[b * T + L.action_positions.data[b * K + k]]! += Math.exp(awacBeta * adv[b * K + k]!);
    }
  }
  return w;
}

Deno.test("policyLoss() matches the PyTorch reference for BC and AWAC weights", () => {
  const { vHere, qBar } = derived();
  const tokens = L.tokens.data as number[];
  const next = Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? 0 : tokens[i + 1]!));
  const attn = L.attn.data as number[];
  let denominator = 0;
  for (let i = 0; i < B * T; i++) if (i % T !== 0) denominator += attn[i]!;
  for (const [beta, expected] of [[0, L.loss_policy_bc], [L.awac_beta, L.loss_policy_awac]] as const) {
    const w = tf.tensor1d(policyWeights(beta, qBar, vHere));
    const loss = scalar(policyLoss(t(L.policy_logits), tf.tensor1d(next, "int32"), w, denominator));
    assertAllClose([loss], [expected], { rtol: 1e-5, what: `policy loss beta ${beta}` });
  }
});

Deno.test("masked action slots contribute nothing to any loss", () => {
  const { actions, mask, tdTarget, vHere, qBar } = derived();
  const junk = (x: tf.Tensor) => tf.add(x, tf.mul(tf.sub(1, mask), 1e3)); // changes padded slots only
  const q1a = tf.reshape(selectAt(t(L.q1), actions), [B, K]);
  assert.equal(scalar(tdLoss(junk(q1a), tdTarget, mask, count)), scalar(tdLoss(q1a, tdTarget, mask, count)));
  assert.equal(
    scalar(expectileLoss(junk(tf.sub(qBar, vHere)), mask, 0.7, count)),
    scalar(expectileLoss(tf.sub(qBar, vHere), mask, 0.7, count)),
  );
  const q1 = t(L.q1);
  const flat = tf.reshape(mask, [B * K]);
  const q1Junk = tf.add(q1, tf.mul(tf.reshape(tf.sub(1, flat), [B * K, 1]), 1e3));
  assert.equal(
    scalar(conservativeLoss(q1Junk, actions, flat, count)),
    scalar(conservativeLoss(q1, actions, flat, count)),
  );
});

Deno.test("expectileLoss() weights errors by expectile above V and 1 − expectile below (hand values)", () => {
  const diff = tf.tensor1d([2, -2, 0.5, -1]);
  const mask = tf.tensor1d([1, 1, 1, 0]);
  // (0.9·4 + 0.1·4 + 0.9·0.25) / 3
  assertAllClose([scalar(expectileLoss(diff, mask, 0.9, 3))], [(3.6 + 0.4 + 0.225) / 3]);
  // expectile 0.5 is half the mean squared error
  assertAllClose([scalar(expectileLoss(diff, mask, 0.5, 3))], [(4 + 4 + 0.25) / 6]);
});

Deno.test("crossEntropy() and maskedMean() are stable and exact on hand values", () => {
  const ce = crossEntropy(tf.tensor2d([[-1000, 1000], [0, 0]]), tf.tensor1d([0, 1], "int32")).dataSync();
  assertAllClose(ce, [2000, Math.log(2)]);
  assert.equal(scalar(maskedMean(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 0, 0]), 0)), 0);
  assertAllClose([scalar(maskedMean(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 0, 1]), 2))], [2]);
});
