import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertAllClose, testBackend } from "../ilql/_test_util.ts";
import { textPolicy } from "../ilql/decode.ts";
import type { Episode } from "../ilql/episode.ts";
import { CharTokenizer } from "../ilql/tokenizer.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { STITCH_TOKENIZER, stitchDataset, StitchEnv } from "../tasks/stitch/stitch.ts";
import { type LanguageEnv, rollout, type StepResult } from "../tasks/task.ts";
import { Prng } from "../ilql/prng.ts";
import { runConfig } from "./algorithm.ts";
import { BC_PRESET } from "./bc.ts";
import { gae, ppoLoss, trainPpo } from "./ppo.ts";

await testBackend(1);

Deno.test("GAE matches hand-computed advantages for a terminal and a cut-off episode", () => {
  const gamma = 0.9, lambda = 0.8;
  // row 0: three actions, terminal; row 1: two actions, cut off (bootstraps from its final state), one padded slot
  const K = 3;
  const rewards = Float32Array.from([0, 0, -1, -1, 0.5, 0]);
  const values = Float32Array.from([1, 2, 3, 9, /* row 1 */ 0.5, 1, 4, 7]);
  const terminals = Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1]);
  const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);
  const { advantages, returns } = gae(rewards, values, terminals, mask, K, gamma, lambda);
  // row 0: δ2 = −1 − 3 = −4 (terminal next); δ1 = 0 + 0.9·3 − 2 = 0.7; δ0 = 0 + 0.9·2 − 1 = 0.8
  const a02 = -4, a01 = 0.7 + 0.72 * a02, a00 = 0.8 + 0.72 * a01;
  // row 1: δ1 = 0.5 + 0.9·4 − 1 = 3.1 (the cut-off's final state value 4); δ0 = −1 + 0.9·1 − 0.5 = −0.6
  const a11 = 3.1, a10 = -0.6 + 0.72 * a11;
  assertAllClose(advantages, [a00, a01, a02, a10, a11, 0], { atol: 1e-6, what: "advantages" });
  assertAllClose(returns, [a00 + 1, a01 + 2, a02 + 3, a10 + 0.5, a11 + 1, 0], { atol: 1e-6, what: "returns" });
  // λ = 1 gives Monte-Carlo advantages: the discounted reward-to-go minus V
  const mc = gae(rewards, values, terminals, mask, K, 1, 1).advantages;
  assertAllClose(mc.subarray(0, 3), [-1 - 1, -1 - 2, -1 - 3], { atol: 1e-6, what: "MC advantages" });
});

Deno.test("the clipped PPO loss matches hand-computed values and its gradient stops outside the clip range", () => {
  const logits = [[0, 1], [2, 0], [0, 0]];
  const actions = [1, 0, 1];
  const oldLogProbs = [Math.log(0.5), Math.log(0.5), Math.log(0.5)];
  const advantages = [1, -2, 3];
  const values = [0.5, -1, 2], returns = [1, 0, 2];
  const mask = [1, 1, 0]; // the third token is padding
  const config = { clip: 0.2, valueWeight: 0.5, entropyWeight: 0.01 };
  // by hand (float64)
  const softmax = (z: number[]) => z.map((x) => Math.exp(x) / z.reduce((s, y) => s + Math.exp(y), 0));
  let policy = 0, value = 0, entropy = 0, clipped = 0, kl = 0;
  for (let i = 0; i < 2; i++) {
    const p = softmax(logits[i]!);
    const ratio = p[actions[i]!]! / 0.5;
    const a = advantages[i]!;
    policy -= Math.min(ratio * a, Math.min(Math.max(ratio, 0.8), 1.2) * a) / 2;
    value += (values[i]! - returns[i]!) ** 2 / 2;
    entropy -= p.reduce((s, q) => s + q * Math.log(q), 0) / 2;
    clipped += Math.abs(ratio - 1) > 0.2 ? 0.5 : 0;
    kl += (Math.log(0.5) - Math.log(p[actions[i]!]!)) / 2;
  }
  const z = tf.variable(tf.tensor2d(logits));
  const inputs = {
    actions: tf.tensor1d(actions, "int32"),
    oldLogProbs: tf.tensor1d(oldLogProbs),
    advantages: tf.tensor1d(advantages),
    values: tf.tensor1d(values),
    returns: tf.tensor1d(returns),
    mask: tf.tensor1d(mask),
    count: 2,
  };
  const t = ppoLoss({ logits: z as unknown as tf.Tensor2D, ...inputs }, config);
  assertAllClose(
    [t.policy, t.value, t.entropy, t.clipFraction, t.approxKl, t.total].map((s) => s.dataSync()[0]!),
    [policy, value, entropy, clipped, kl, policy + 0.5 * value - 0.01 * entropy],
    { atol: 1e-6, what: "loss terms" },
  );
  // token 0: ratio 2·σ(1) = 1.46 > 1.2 with a positive advantage, so the clipped surrogate has no policy gradient;
  // token 1: ratio 1.76 with a negative advantage is not clipped (min keeps the unclipped term)
  const grad = tf.grad((x: tf.Tensor) =>
    ppoLoss({ logits: x as tf.Tensor2D, ...inputs }, { ...config, entropyWeight: 0 }).policy
  )(
    z,
  ).arraySync() as number[][];
  assert.deepEqual(grad[0], [0, 0]);
  assert.ok(Math.abs(grad[1]![0]!) > 1e-3, "unclipped token keeps its gradient");
  tf.dispose([z, t.policy, t.value, t.entropy, t.total, t.clipFraction, t.approxKl, ...Object.values(inputs)]);
});

/** A one-turn environment the tests build: the reward counts the letter `a` and penalizes every other letter. */
class LetterEnv implements LanguageEnv {
  reset() {
    return [{ kind: "state" as const, text: "hg" }];
  }
  step(action: string): StepResult {
    const a = [...action].filter((c) => c === "a").length;
    return { segments: [], reward: a - 0.5 * (action.length - a), done: true };
  }
}

const LETTERS = new CharTokenizer({ alphabet: "abcdefgh" });
const tinyConfig = (iterations: number) =>
  runConfig({
    ...BC_PRESET,
    model: { width: 16, layers: 1, heads: 2, context: 12, dropout: 0 },
    train: { steps: 0, seed: 3 },
    decode: { maxTokens: 4 },
    ppo: { iterations, episodes: 32, minibatch: 8, epochs: 2, lr: 1e-3, klWeight: 0, valueWarmup: 0 },
  });
const unused: Episode[] = [{
  segments: [{ kind: "state", text: "hg" }, { kind: "action", text: "b", reward: 0 }],
  terminal: true,
}];
const letterEnvs = (n: number) => Array.from({ length: n }, () => new LetterEnv());

Deno.test("PPO learns a tiny environment from scratch: the return rises over 240 updates", async () => {
  const history: LogRecord[] = [];
  const before = tf.memory().numTensors;
  const run = await trainPpo({
    episodes: unused,
    tokenizer: LETTERS,
    config: tinyConfig(30),
    environments: letterEnvs,
    onLog: (r) => history.push(r),
  });
  run.dispose();
  const returns = history.map((r) => r.info["eval/return"]!);
  const first = returns.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = returns.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(first < 0, `the random start scores below 0, got ${first}`);
  assert.ok(last > 3, `PPO reaches near the maximum of 4, got ${last} (curve ${returns.map((r) => r.toFixed(2))})`);
  // a second identical run frees everything too (the first may have filled the process-lifetime mask cache)
  const again = await trainPpo({
    episodes: unused,
    tokenizer: LETTERS,
    config: tinyConfig(30),
    environments: letterEnvs,
  });
  const sameHistory = again.history.map((r) => r.info["eval/return"]);
  again.dispose();
  assert.deepEqual(sameHistory, returns, "the same seed gives the same run");
  assert.ok(tf.memory().numTensors <= before + 4, `tensors leaked: ${before} → ${tf.memory().numTensors}`);
});

Deno.test("PPO from a behaviour-cloning start improves on BC's stitch policy", async () => {
  const config = runConfig({
    ...BC_PRESET,
    model: { width: 32, layers: 2, heads: 2, context: 16, dropout: 0 },
    optim: { lr: 3e-3 },
    train: { steps: 200, batchSize: 64, logEvery: 200, seed: 1 },
    decode: { maxTokens: 4 },
    // at a policy rate of 1e-3 the return collapsed back to BC's on 2 of 5 training seeds; at 3e-4 it rose on all 5
    ppo: { iterations: 25, episodes: 32, minibatch: 16, epochs: 2, lr: 3e-4, valueWarmup: 5 },
  });
  const run = await trainPpo({
    episodes: stitchDataset(1000, new Prng(0)),
    tokenizer: STITCH_TOKENIZER,
    config,
    environments: (n) => Array.from({ length: n }, () => new StitchEnv()),
  });
  const curve = run.history.filter((r) => r.step > 200).map((r) => r.info["eval/return"]!);
  const [greedy] = rollout([new StitchEnv()], textPolicy(run.model, STITCH_TOKENIZER, run.decode));
  run.dispose();
  const start = curve.slice(0, 3).reduce((a, b) => a + b) / 3;
  const end = curve.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(start < -0.8, `BC's sampled return starts near the data's −1.2, got ${start}`);
  assert.ok(end > start + 0.5, `sampled return rises: ${curve.map((r) => r.toFixed(2))}`);
  // BC's greedy policy says "dn" then "ok" (−1); PPO's greedy policy finds the optimum
  assert.equal(greedy!.return, 0);
});

Deno.test("ppo.evalEvery evaluates the policy every so many iterations and at the end, after the BC steps' points", async () => {
  const steps: number[] = [];
  const config = runConfig({
    ...tinyConfig(5),
    train: { steps: 2, batchSize: 1, seed: 3, evalEvery: 1 },
    ppo: { ...tinyConfig(5).ppo, evalEvery: 2 },
  });
  const run = await trainPpo({
    episodes: unused,
    tokenizer: LETTERS,
    config,
    environments: letterEnvs,
    evaluate: (_model, step) => {
      steps.push(step);
      return Promise.resolve();
    },
  });
  run.dispose();
  // BC: its start (0) and every step; PPO: iterations 2 and 4, then the end (5)
  assert.deepEqual(steps, [0, 1, 2, 4, 6, 7]);
});

Deno.test("PPO without BC steps runs under a cosine schedule meant for BC (its play keeps constant rates)", async () => {
  const config = runConfig({ ...tinyConfig(2), optim: { schedule: "cosine" } });
  const run = await trainPpo({ episodes: unused, tokenizer: LETTERS, config, environments: letterEnvs });
  const iterations = run.history.filter((r) => r.info["eval/return"] !== undefined).length;
  run.dispose();
  assert.equal(iterations, 2);
});

Deno.test("PPO refuses a task without an environment", async () => {
  await assert.rejects(
    () => trainPpo({ episodes: unused, tokenizer: LETTERS, config: tinyConfig(1) }),
    /PPO needs a task with an environment/,
  );
});

Deno.test("PPO refuses a critic warm-up that covers every iteration (the policy would never move)", async () => {
  const config = runConfig({ ...tinyConfig(3), ppo: { ...tinyConfig(3).ppo, valueWarmup: 3 } });
  await assert.rejects(
    () => trainPpo({ episodes: unused, tokenizer: LETTERS, config, environments: letterEnvs }),
    /ppo.valueWarmup \(3\) must be below ppo.iterations \(3\)/,
  );
});
