import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertAllClose, testBackend } from "./_test_util.ts";
import { defaultsOf } from "./config.ts";
import { encodeSegments, type Segment } from "./episode.ts";
import { IlqlModel, MODEL_SPEC } from "./model.ts";
import { Prng } from "./prng.ts";
import { CharTokenizer } from "./tokenizer.ts";
import { forward } from "./transformer.ts";
import { utteranceLogProbs, utteranceValues } from "./values.ts";

await testBackend(1);

const tokenizer = new CharTokenizer({ alphabet: "abcdefgh" });
const ITEMS: Array<{ history: Segment[]; utterance: string }> = [
  { history: [{ kind: "state", text: "ab" }], utterance: "cde" },
  {
    history: [{ kind: "state", text: "h" }, { kind: "action", text: "gg", reward: 0 }, { kind: "state", text: "a" }],
    utterance: "f",
  },
  { history: [], utterance: "bag" },
];

/** One item at a time, without padding: Σ log softmax(policy logits) over the utterance and its `</a>`. */
function oneByOne(model: IlqlModel) {
  return ITEMS.map(({ history, utterance }) => {
    const prefix = encodeSegments(history, tokenizer);
    const tokens = [...prefix, ...tokenizer.encode(utterance), tokenizer.special.eoa];
    const logp = tf.tidy(() => {
      const h = forward(model.trunk("policy")!, model.shape, tf.tensor2d(tokens, [1, tokens.length], "int32")).hidden;
      return tf.logSoftmax(model.policyLogits(h)).arraySync() as number[][];
    });
    const perToken: number[] = [];
    for (let p = prefix.length - 1; p < tokens.length - 1; p++) perToken.push(logp[p]![tokens[p + 1]!]!);
    return { logProb: perToken.reduce((a, b) => a + b, 0), tokens: tokens.length - prefix.length, perToken };
  });
}

Deno.test("utteranceLogProbs() equals scoring each item alone, across padding and batches", () => {
  for (const layout of ["separate", "shared"] as const) {
    const model = new IlqlModel(
      { ...defaultsOf(MODEL_SPEC), layout, width: 16, layers: 2, heads: 2, context: 16, dropout: 0 },
      tokenizer.vocabSize,
      new Prng(3),
    );
    const expected = oneByOne(model);
    for (const batchSize of [1, 2, 128]) {
      const got = utteranceLogProbs(model, tokenizer, ITEMS, batchSize);
      assertAllClose(got.map((g) => g.logProb), expected.map((e) => e.logProb), { atol: 1e-4, what: `${layout}` });
      assertAllClose(got.map((g) => g.tokens), expected.map((e) => e.tokens), { atol: 0 });
      assertAllClose(got.flatMap((g) => g.tokenLogProbs), expected.flatMap((e) => e.perToken), {
        atol: 1e-4,
        what: `${layout} per token`,
      });
    }
    // the value diagnostics read the same batch layout: one value per action token
    const values = utteranceValues(model, tokenizer, ITEMS);
    assertAllClose(values.map((v) => v.qBar.length), expected.map((e) => e.tokens), { atol: 0 });
    model.dispose();
  }
});

Deno.test("valueMin/valueMax clip Q̄ (the min of the target Q heads) and nothing else", () => {
  const config = { ...defaultsOf(MODEL_SPEC), width: 16, layers: 1, heads: 2, context: 16, dropout: 0 };
  const free = new IlqlModel(config, tokenizer.vocabSize, new Prng(5));
  const free_ = utteranceValues(free, tokenizer, ITEMS);
  const all = free_.flatMap((v) => v.qBar).sort((a, b) => a - b);
  // bounds inside the unclipped range, so both clips bind somewhere
  const valueMin = all[1]!, valueMax = all.at(-2)!;
  const clipped = new IlqlModel({ ...config, valueMin, valueMax }, tokenizer.vocabSize, new Prng(5));
  const clipped_ = utteranceValues(clipped, tokenizer, ITEMS);
  free_.forEach((f, i) => {
    const c = clipped_[i]!;
    assertAllClose(c.qBar, f.qBar.map((q) => Math.min(valueMax, Math.max(valueMin, q))), { atol: 1e-6, what: "Q̄" });
    assertAllClose(c.q, f.q, { atol: 1e-6, what: "Q" });
    assertAllClose(c.v, f.v, { atol: 1e-6, what: "V" });
  });
  assert.ok(all[0]! < valueMin && all.at(-1)! > valueMax);
  free.dispose();
  clipped.dispose();
});
