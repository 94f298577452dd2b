import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, testBackend } from "./_test_util.ts";
import { defaultsOf } from "./config.ts";
import { AdamW, globalNorm, OPTIM_SPEC, scheduledLr } from "./optim.ts";
import { Prng } from "./prng.ts";

await testBackend();

/** torch.optim.AdamW's update in float64, step by step; `lrAt` gives a scheduler's rate of each (1-based) step. */
function referenceAdamW(
  p0: number[],
  grads: number[][],
  c: { lr: number; wd: number; b1: number; b2: number; eps: number },
  lrAt: (step: number) => number = () => c.lr,
) {
  const p = [...p0], m = p0.map(() => 0), v = p0.map(() => 0);
  grads.forEach((g, t) => {
    const step = t + 1;
    const lr = lrAt(step);
    for (let i = 0; i < p.length; i++) {
      p[i]! *= 1 - lr * c.wd;
      m[i] = c.b1 * m[i]! + (1 - c.b1) * g[i]!;
      v[i] = c.b2 * v[i]! + (1 - c.b2) * g[i]! * g[i]!;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - c.b2 ** step) + c.eps;
      p[i]! -= (lr / (1 - c.b1 ** step)) * m[i]! / denom;
    }
  });
  return { p, m, v };
}

for (const schedule of ["constant", "cosine"] as const) {
  Deno.test(`AdamW.apply() follows torch.optim.AdamW (decoupled decay, bias correction), ${schedule} rate`, () => {
    checkAgainstTorch(schedule);
  });
}

/** Five AdamW steps against the float64 reference; the cosine schedule spans four, so the fifth runs at rate 0. */
function checkAgainstTorch(schedule: "constant" | "cosine") {
  const prng = new Prng(1);
  const shapes = [[3, 4], [7], [1]];
  const p0 = shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => prng.normal()));
  const vars = new Map(shapes.map((s, i) => [`w${i}`, tf.variable(tf.tensor(p0[i]!, s))]));
  const config = {
    ...defaultsOf(OPTIM_SPEC),
    lr: 0.05,
    weightDecay: 0.1,
    beta1: 0.8,
    beta2: 0.95,
    eps: 1e-6,
    schedule,
  };
  const horizon = 4;
  const opt = new AdamW(vars, config, horizon);
  const steps = 5;
  const grads = shapes.map((s) =>
    Array.from({ length: steps }, () => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => prng.normal()))
  );
  for (let t = 0; t < steps; t++) {
    const g = new Map(shapes.map((s, i) => [`w${i}`, tf.tensor(grads[i]![t]!, s)]));
    opt.apply(g);
    tf.dispose([...g.values()]);
  }
  assert.equal(opt.steps, steps);
  const state = opt.state();
  shapes.forEach((_, i) => {
    const torchCosine = (step: number) => 0.025 * (1 + Math.cos(Math.PI * Math.min(step - 1, horizon) / horizon));
    const ref = referenceAdamW(
      p0[i]!,
      grads[i]!,
      { lr: 0.05, wd: 0.1, b1: 0.8, b2: 0.95, eps: 1e-6 },
      schedule === "cosine" ? torchCosine : undefined,
    );
    assertAllClose(vars.get(`w${i}`)!.dataSync(), ref.p, { atol: 1e-6, rtol: 1e-5, what: `w${i}` });
    assertAllClose(state.get(`optim.m.w${i}`)!.dataSync(), ref.m, { atol: 1e-6, rtol: 1e-5, what: `m${i}` });
    assertAllClose(state.get(`optim.v.w${i}`)!.dataSync(), ref.v, { atol: 1e-6, rtol: 1e-5, what: `v${i}` });
  });
  tf.dispose([...vars.values()]);
  opt.dispose();
}

Deno.test("scheduledLr(): cosine from lr at the first step to 0 past the horizon; constant is lr; no horizon throws", () => {
  const cosine = { ...defaultsOf(OPTIM_SPEC), lr: 0.01, schedule: "cosine" as const };
  assert.equal(scheduledLr(cosine, 1, 100), 0.01);
  assert.ok(Math.abs(scheduledLr(cosine, 51, 100) - 0.005) < 1e-12);
  assert.ok(scheduledLr(cosine, 100, 100) > 0 && scheduledLr(cosine, 100, 100) < 1e-5);
  assert.ok(Math.abs(scheduledLr(cosine, 101, 100)) < 1e-15);
  assert.ok(Math.abs(scheduledLr(cosine, 500, 100)) < 1e-15);
  assert.equal(scheduledLr({ ...cosine, schedule: "constant" }, 500, 100), 0.01);
  assert.throws(() => new AdamW(new Map(), cosine), /optim.schedule 'cosine' needs the training's step count, got 0/);
});

Deno.test("scheduledLr() with decaySteps: constant lr, then the cosine over the last n steps only; n ≥ horizon = all", () => {
  const late = { ...defaultsOf(OPTIM_SPEC), lr: 0.01, schedule: "cosine" as const, decaySteps: 40 };
  for (const step of [1, 30, 61]) assert.equal(scheduledLr(late, step, 100), 0.01, `step ${step}`);
  // step 61 is the cosine's first (its lr), step 81 its midpoint, past 100 zero
  assert.ok(Math.abs(scheduledLr(late, 81, 100) - 0.005) < 1e-12);
  assert.ok(scheduledLr(late, 100, 100) > 0 && scheduledLr(late, 100, 100) < 1e-4);
  assert.ok(Math.abs(scheduledLr(late, 101, 100)) < 1e-15);
  const all = { ...late, decaySteps: 0 };
  for (const step of [1, 37, 51, 100]) {
    assert.equal(scheduledLr({ ...late, decaySteps: 100 }, step, 100), scheduledLr(all, step, 100));
    assert.equal(scheduledLr({ ...late, decaySteps: 500 }, step, 100), scheduledLr(all, step, 100));
  }
});

Deno.test("AdamW.apply() leaves variables without a gradient alone and never changes a buffer in place", () => {
  const a = tf.variable(tf.tensor1d([1, 2, 3]));
  const b = tf.variable(tf.tensor1d([4, 5]));
  const opt = new AdamW(new Map([["a", a], ["b", b]]), defaultsOf(OPTIM_SPEC));
  const before = tf.clone(a); // shares a's buffer on wasm (no-copy Identity)
  const g = tf.tensor1d([1, 1, 1]);
  opt.apply(new Map([["a", g]]));
  assert.deepEqual(Array.from(before.dataSync()), [1, 2, 3], "a clone taken before the step kept its values");
  assert.notDeepEqual(Array.from(a.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(b.dataSync()), [4, 5]);
  const count = tf.memory().numTensors;
  opt.apply(new Map([["a", g]]));
  assert.equal(tf.memory().numTensors, count, "tensors leaked");
});

Deno.test("globalNorm() is the L2 norm over every gradient", () => {
  const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[4]]), tf.tensor1d([0.1, -0.2, 0.3])];
  assertAllClose([globalNorm(grads)], [Math.sqrt(25.14)]);
  assert.equal(globalNorm([]), 0);
  tf.dispose(grads);
});
