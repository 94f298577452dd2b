import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertAllClose, testBackend } from "../ilql/_test_util.ts";
import { defaultsOf } from "../ilql/config.ts";
import { DECODE_SPEC, generate, textPolicy } from "../ilql/decode.ts";
import { collate, encodeEpisode } from "../ilql/episode.ts";
import { ilqlUpdate, initIlqlState, makeOptimizer } from "../ilql/ilql.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { forward } from "../ilql/transformer.ts";
import { STITCH_TOKENIZER, stitchDataset, StitchEnv } from "../tasks/stitch/stitch.ts";
import { rollout } from "../tasks/task.ts";
import { evaluationDecode, runConfig, trainAlgorithm } from "./algorithm.ts";
import { DECISION_TRANSFORMER } from "./decision_transformer.ts";

await testBackend(1);

const modelConfig = { ...defaultsOf(MODEL_SPEC), width: 16, layers: 2, heads: 2, context: 12, dropout: 0 };

Deno.test("a return-conditioned model is the plain transformer with one extra first token embedded as R·w + b", () => {
  const V = 9;
  const model = new IlqlModel({ ...modelConfig, returnConditioned: true }, V, new Prng(4));
  const tokens = [[1, 5, 6, 7], [1, 8, 2, 3]];
  const returns = [-2, 0.5];
  const [conditioned, plain] = tf.tidy(() => {
    const trunk = model.trunk("policy")!;
    const prefix = model.returnPrefix(returns)!; // [B, D]
    const dt = forward(trunk, model.shape, tf.tensor2d(tokens, [2, 4], "int32"), { prefix }).hidden; // [B·4, D]
    // the same weights with the two return embeddings as extra vocabulary rows V and V+1, placed first
    const extended = { ...trunk, wte: tf.concat([trunk.wte!, prefix]) };
    const withToken = tokens.map((row, b) => [V + b, ...row]);
    const shape = { ...model.shape, vocabSize: V + 2 };
    const h = forward(extended, shape, tf.tensor2d(withToken, [2, 5], "int32")).hidden; // [B·5, D]
    const tokenRows = tf.gather(h, tf.tensor1d([1, 2, 3, 4, 6, 7, 8, 9], "int32"));
    return [dt.dataSync(), tokenRows.dataSync()];
  });
  assertAllClose(conditioned, plain, { atol: 1e-5, what: "hidden states" });
  // and the return matters
  const other = tf.tidy(() =>
    forward(model.trunk("policy")!, model.shape, tf.tensor2d(tokens, [2, 4], "int32"), {
      prefix: model.returnPrefix([3, 3]),
    }).hidden.dataSync()
  );
  assert.ok(Math.abs(other[0]! - conditioned[0]!) > 1e-6);
  model.dispose();
});

Deno.test("decoding a return-conditioned model with the cache equals recomputing, and needs a target return", () => {
  const model = new IlqlModel({ ...modelConfig, returnConditioned: true }, 9, new Prng(5));
  const prompts = [[1, 5, 6], [1, 7]];
  const config = { ...defaultsOf(DECODE_SPEC), beta: 0, method: "sample" as const, maxTokens: 6, targetReturn: -1.5 };
  const options = { stopToken: 4, padToken: 0 };
  const cached = generate(model, prompts, config, { ...options, prng: new Prng(1) });
  const recomputed = generate(model, prompts, { ...config, cache: false }, { ...options, prng: new Prng(1) });
  assert.deepEqual(cached.map((g) => g.tokens), recomputed.map((g) => g.tokens));
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(cached[i]!.logProb - recomputed[i]!.logProb) < 1e-4);
  // a prompt may use the context less the return slot: 12 − 1 positions
  assert.throws(() => generate(model, [Array(11).fill(1)], config, options), /no room in the context of 11/);
  assert.throws(() => generate(model, prompts, { ...config, targetReturn: null }, options), /targetReturn/);
  model.dispose();
});

Deno.test("Decision Transformer on stitch: its return follows the target return, reaching the optimum BC misses", async () => {
  const data = stitchDataset(1000, new Prng(0));
  const config = runConfig({
    ...DECISION_TRANSFORMER.preset,
    model: { width: 32, layers: 2, heads: 2, context: 16, dropout: 0, returnConditioned: true },
    optim: { lr: 3e-3 },
    train: { steps: 200, batchSize: 64, logEvery: 200, seed: 1 },
  });
  const run = await trainAlgorithm(DECISION_TRANSFORMER, { episodes: data, tokenizer: STITCH_TOKENIZER, config });
  // without a chosen target, the best return in the data (the 5 % of optimal episodes)
  assert.equal(run.decode.targetReturn, 0);
  const play = (targetReturn: number) => {
    const [ep] = rollout([new StitchEnv()], textPolicy(run.model, STITCH_TOKENIZER, { ...run.decode, targetReturn }));
    return { ret: ep!.return, actions: ep!.segments.filter((s) => s.kind === "action").map((s) => s.text) };
  };
  // behaviour cloning says "dn", "ok" (−1, tests/learning_test.ts); conditioned on 0, DT copies the rare best games
  assert.deepEqual(play(0), { ret: 0, actions: ["up", "ok"] });
  assert.equal(play(-2).ret, -2);
  run.dispose();
});

Deno.test("evaluationDecode conditions on the best return the model trained on, after the data filter", () => {
  const data = stitchDataset(200, new Prng(2));
  const dt = runConfig({ ...DECISION_TRANSFORMER.preset, data: { minReturn: -1.5 } });
  assert.equal(evaluationDecode(dt, data).targetReturn, 0);
  assert.equal(evaluationDecode({ ...dt, decode: { ...dt.decode, targetReturn: -1 } }, data).targetReturn, -1);
  // only games that open with "dn": the best is −1 ("dn", "ok")
  assert.equal(evaluationDecode(dt, data.filter((e) => e.segments[1]!.text === "dn")).targetReturn, -1);
  const plain = runConfig({});
  assert.equal(evaluationDecode(plain, data), plain.decode);
});

Deno.test("the return embedding trains: its weights get a gradient and change in every step", () => {
  const config = runConfig({
    ...DECISION_TRANSFORMER.preset,
    model: { width: 16, layers: 1, heads: 2, context: 16, dropout: 0, returnConditioned: true },
    optim: { lr: 1e-2 },
  });
  const batch = collate(
    stitchDataset(16, new Prng(3)).map((e) => encodeEpisode(e, STITCH_TOKENIZER, { context: 16 })),
    STITCH_TOKENIZER.special.pad,
  );
  const before = tf.memory().numTensors;
  const model = new IlqlModel(config.model, STITCH_TOKENIZER.vocabSize, new Prng(0));
  let state = initIlqlState(model, config.ilql, makeOptimizer(model, config.ilql, config.optim), new Prng(1));
  const embedding = () => [...model.returnEmbedding!.w.dataSync(), ...model.returnEmbedding!.b.dataSync()];
  for (let step = 0; step < 3; step++) {
    const was = embedding();
    state = ilqlUpdate(state, [batch]).state;
    const moved = embedding().reduce((m, x, i) => Math.max(m, Math.abs(x - was[i]!)), 0);
    assert.ok(moved > 1e-4, `step ${step}: the return embedding moved by ${moved} at lr 1e-2`);
  }
  state.optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});
