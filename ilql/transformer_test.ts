import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, type FixtureArray, testBackend, torchFixture } from "./_test_util.ts";
import { applyHead, type HeadWeights } from "./model.ts";
import { Prng } from "./prng.ts";
import { decodeStep, forward, initWeights, type TransformerShape, weightShapes } from "./transformer.ts";

await testBackend();
const fixture = torchFixture();

function tensorOf(a: FixtureArray): tf.Tensor {
  return tf.tensor(a.data, a.shape);
}

Deno.test("forward() matches the PyTorch reference GPT on fixed weights", () => {
  const t = fixture.transformer;
  const shape: TransformerShape = {
    vocabSize: t.config.vocab,
    width: t.config.width,
    layers: t.config.layers,
    heads: t.config.heads,
    context: t.config.context,
  };
  const expectedNames = Object.keys(weightShapes(shape)).sort();
  assert.deepEqual(Object.keys(t.weights).sort(), expectedNames);
  const weights = Object.fromEntries(Object.entries(t.weights).map(([k, v]) => [k, tensorOf(v as FixtureArray)]));
  const tokens = tf.tensor2d(t.tokens.data, t.tokens.shape, "int32");
  const { hidden } = forward(weights, shape, tokens);
  assert.deepEqual(hidden.shape, t.hidden.shape);
  assertAllClose(hidden.dataSync(), t.hidden.data, { atol: 2e-5, rtol: 1e-4, what: "hidden" });
  tf.dispose([hidden, tokens, ...Object.values(weights)]);
});

Deno.test("applyHead() matches the PyTorch reference MLP head", () => {
  const h = fixture.heads;
  const head = Object.fromEntries(
    Object.entries(h.weights).map(([k, v]) => [k, tf.variable(tensorOf(v as FixtureArray))]),
  ) as unknown as HeadWeights;
  const out = applyHead(head, tensorOf(h.input));
  assertAllClose(out.dataSync(), h.output.data, { atol: 1e-5, rtol: 1e-4, what: "head output" });
  tf.dispose([out, ...Object.values(head)]);
});

const SHAPE: TransformerShape = { vocabSize: 13, width: 24, layers: 2, heads: 3, context: 20 };

function randomWeights(seed: number): Record<string, tf.Tensor> {
  const init = initWeights(SHAPE, new Prng(seed));
  const shapes = weightShapes(SHAPE);
  // larger weights than GPT-2's init so that every position visibly matters
  return Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.mul(tf.tensor(v, shapes[k]!), 10)]));
}

Deno.test("decodeStep() with a KV cache reproduces the full forward pass, rows at different positions", () => {
  const w = randomWeights(3);
  const prng = new Prng(4);
  const B = 3;
  const lengths = [4, 7, 5];
  const total = 10;
  const seqs = lengths.map(() => Array.from({ length: total }, () => prng.int(SHAPE.vocabSize)));
  // reference: full forward of each complete sequence
  const full = forward(w, SHAPE, tf.tensor2d(seqs.flat(), [B, total], "int32")).hidden.arraySync() as number[][];
  // prefill with right-padded prompts of different lengths, then feed one token per row per step
  const L = Math.max(...lengths);
  const prompt = seqs.flatMap((s, b) => [...s.slice(0, lengths[b]), ...Array(L - lengths[b]!).fill(0)]);
  const pre = forward(w, SHAPE, tf.tensor2d(prompt, [B, L], "int32"), { cache: true });
  let cache = pre.cache!;
  const preRows = pre.hidden.arraySync() as number[][];
  lengths.forEach((n, b) =>
    assertAllClose(preRows[b * L + n - 1]!, full[b * total + n - 1]!, { what: `prefill ${b}` })
  );
  for (let step = 0; step < 3; step++) {
    const S = L + step + 1;
    const mask = new Float32Array(B * S);
    lengths.forEach((n, b) => mask.fill(-1e9, b * S + n, b * S + L));
    const tokens = lengths.map((n, b) => seqs[b]![n + step]!);
    const positions = lengths.map((n) => n + step);
    const out = decodeStep(
      w,
      SHAPE,
      cache,
      tf.tensor1d(tokens, "int32"),
      tf.tensor1d(positions, "int32"),
      tf.tensor4d(mask, [B, 1, 1, S]),
    );
    cache = out.cache;
    const rows = out.hidden.arraySync() as number[][];
    lengths.forEach((n, b) =>
      assertAllClose(rows[b]!, full[b * total + n + step]!, { atol: 1e-4, rtol: 1e-4, what: `step ${step} row ${b}` })
    );
  }
});

Deno.test("forward() rejects a sequence longer than the context", () => {
  const w = randomWeights(1);
  const tokens = tf.zeros([1, SHAPE.context + 1], "int32") as tf.Tensor2D;
  assert.throws(() => forward(w, SHAPE, tokens), /exceeds the model context of 20/);
});

Deno.test("initWeights() is deterministic per seed and follows GPT-2 scales", () => {
  const a = initWeights(SHAPE, new Prng(7));
  const b = initWeights(SHAPE, new Prng(7));
  const c = initWeights(SHAPE, new Prng(8));
  assert.deepEqual(a.wte, b.wte);
  assert.notDeepEqual(a.wte, c.wte);
  assert.ok(a["h0.ln1.g"]!.every((x) => x === 1));
  assert.ok(a["h0.attn.q.b"]!.every((x) => x === 0));
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(Math.abs(std(a["h0.mlp.fc.w"]!) - 0.02) < 0.002);
  assert.ok(Math.abs(std(a["h0.mlp.proj.w"]!) - 0.02 / Math.sqrt(4)) < 0.002);
});
