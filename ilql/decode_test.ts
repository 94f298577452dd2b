import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { testBackend } from "./_test_util.ts";
import { defaultsOf } from "./config.ts";
import { DECODE_SPEC, type DecodeConfig, generate, scoredTextPolicy } from "./decode.ts";
import { encodeSegments, type Segment } from "./episode.ts";
import { CharTokenizer } from "./tokenizer.ts";
import { applyHead, IlqlModel, MODEL_SPEC } from "./model.ts";
import { Prng } from "./prng.ts";
import { forward } from "./transformer.ts";

await testBackend();

const VOCAB = 12;
const STOP = 4;
const PAD = 0;
const PROMPTS = [[1, 7, 8, 2], [1, 9], [3, 10, 11, 5, 6, 2]];

function makeModel(layout: "separate" | "shared", seed: number): IlqlModel {
  const config = { ...defaultsOf(MODEL_SPEC), layout, width: 16, layers: 2, heads: 2, context: 16, dropout: 0 };
  const model = new IlqlModel(config, VOCAB, new Prng(seed));
  // scale weights up so the untrained model has peaked, prompt-dependent distributions
  tf.tidy(() => {
    for (const v of model.variables().values()) v.assign(tf.mul(v, v.shape.length > 1 ? 8 : 1));
  });
  return model;
}

function config(overrides: Partial<DecodeConfig>): DecodeConfig {
  return { ...defaultsOf(DECODE_SPEC), maxTokens: 6, ...overrides };
}

/** Greedy decoding from the policy head alone, by full recomputation (the reference for β = 0). */
function policyGreedy(model: IlqlModel, prompt: number[], maxTokens: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  while (out.length < maxTokens && seq.length < model.shape.context) {
    const logits = tf.tidy(() => {
      const { hidden } = forward(model.trunk("policy")!, model.shape, tf.tensor2d(seq, [1, seq.length], "int32"));
      return model.policyLogits(tf.slice(hidden, [seq.length - 1, 0], [1, -1]));
    });
    const z = logits.dataSync();
    logits.dispose();
    let best = 0;
    for (let i = 1; i < z.length; i++) if (z[i]! > z[best]!) best = i;
    out.push(best);
    seq.push(best);
    if (best === STOP) break;
  }
  return out;
}

for (const layout of ["separate", "shared"] as const) {
  Deno.test(`generate() with beta 0 equals greedy decoding from the policy head (${layout})`, () => {
    const model = makeModel(layout, 1);
    const got = generate(model, PROMPTS, config({ beta: 0 }), { stopToken: STOP, padToken: PAD });
    PROMPTS.forEach((p, i) => assert.deepEqual(got[i]!.tokens, policyGreedy(model, p, 6), `prompt ${i}`));
    // the value term changes the choice once beta is large, so the test above is not vacuous
    const guided = generate(model, PROMPTS, config({ beta: 50 }), { stopToken: STOP, padToken: PAD });
    assert.notDeepEqual(guided.map((g) => g.tokens), got.map((g) => g.tokens));
    model.dispose();
  });

  Deno.test(`generate() gives the same tokens with and without the KV cache (${layout})`, () => {
    const model = makeModel(layout, 2);
    for (const c of [config({ beta: 4 }), config({ beta: 4, method: "sample", topK: 5, temperature: 1.5 })]) {
      const cached = generate(model, PROMPTS, { ...c, cache: true }, {
        stopToken: STOP,
        padToken: PAD,
        prng: new Prng(3),
      });
      const full = generate(model, PROMPTS, { ...c, cache: false }, {
        stopToken: STOP,
        padToken: PAD,
        prng: new Prng(3),
      });
      assert.deepEqual(cached.map((g) => g.tokens), full.map((g) => g.tokens));
      cached.forEach((g, i) => assert.ok(Math.abs(g.logProb - full[i]!.logProb) < 1e-3));
    }
    model.dispose();
  });
}

Deno.test("generate() follows the value-guided formula: argmax of logits + min(beta·(Q̄ − V), advClip)", () => {
  const model = makeModel("separate", 4);
  const prompt = PROMPTS[0]!;
  const tokens = tf.tensor2d(prompt, [1, prompt.length], "int32");
  const last = (role: "policy" | "target" | "value") =>
    tf.slice(forward(model.trunk(role)!, model.shape, tokens).hidden, [prompt.length - 1, 0], [1, -1]);
  const z = model.policyLogits(last("policy")).dataSync();
  const hT = last("target");
  const qBar = tf.minimum(applyHead(model.heads.targetQ1, hT), applyHead(model.heads.targetQ2, hT)).dataSync();
  const v = applyHead(model.heads.v, last("value")).dataSync()[0]!;
  for (const advClip of [null, 0]) {
    const score = Array.from(z, (zi, i) => zi + Math.min(3 * (qBar[i]! - v), advClip ?? Infinity));
    const expected = score.indexOf(Math.max(...score));
    const [g] = generate(model, [prompt], config({ beta: 3, advClip, maxTokens: 1 }), {
      stopToken: STOP,
      padToken: PAD,
    });
    assert.equal(g!.tokens[0], expected, `advClip ${advClip}`);
    assert.ok(Math.abs(g!.advantage - (qBar[expected]! - v)) < 1e-4);
  }
  model.dispose();
});

Deno.test("generate() stops at the stop token, the token limit and the context limit", () => {
  const model = makeModel("shared", 5);
  const long = Array.from({ length: 14 }, (_, i) => 5 + (i % 6));
  const out = generate(model, [PROMPTS[1]!, long], config({ beta: 0, maxTokens: 5 }), {
    stopToken: STOP,
    padToken: PAD,
  });
  for (const g of out) {
    const stopAt = g.tokens.indexOf(STOP);
    assert.ok(stopAt === -1 || stopAt === g.tokens.length - 1, "tokens continue after the stop token");
    assert.equal(g.stopped, stopAt !== -1);
  }
  assert.ok(out[0]!.tokens.length <= 5);
  assert.ok(out[1]!.tokens.length <= 16 - 14, "decoding ran past the context");
  assert.throws(
    () => generate(model, [Array(16).fill(5)], config({}), { stopToken: STOP, padToken: PAD }),
    /leaves no room in the context of 16/,
  );
  model.dispose();
});

Deno.test("generate() sampling is seeded, and top-k 1 equals greedy", () => {
  const model = makeModel("separate", 6);
  const opts = (seed: number) => ({ stopToken: STOP, padToken: PAD, prng: new Prng(seed) });
  const c = config({ beta: 2, method: "sample", temperature: 2 });
  const a = generate(model, PROMPTS, c, opts(1)).map((g) => g.tokens);
  assert.deepEqual(generate(model, PROMPTS, c, opts(1)).map((g) => g.tokens), a);
  const draws = new Set(
    Array.from({ length: 8 }, (_, s) => JSON.stringify(generate(model, PROMPTS, c, opts(s + 10)).map((g) => g.tokens))),
  );
  assert.ok(draws.size > 1, "different seeds never gave different samples");
  const greedy = generate(model, PROMPTS, config({ beta: 0 }), opts(0)).map((g) => g.tokens);
  const topOne = generate(model, PROMPTS, config({ beta: 0, method: "sample", topK: 1 }), opts(5)).map((g) => g.tokens);
  assert.deepEqual(topOne, greedy);
  model.dispose();
});

Deno.test("generate() with several samples keeps the one with the largest summed advantage", () => {
  const model = makeModel("shared", 7);
  const c = config({ beta: 1, method: "sample", temperature: 3, samples: 6 });
  const [best] = generate(model, [PROMPTS[0]!], c, { stopToken: STOP, padToken: PAD, prng: new Prng(8) });
  // the same six draws, decoded without reranking
  const six = generate(model, Array(6).fill(PROMPTS[0]!), { ...c, samples: 1 }, {
    stopToken: STOP,
    padToken: PAD,
    prng: new Prng(8),
  });
  const top = Math.max(...six.map((g) => g.advantage));
  assert.equal(best!.advantage, top);
  model.dispose();
});

Deno.test("generate() never chooses a banned token, greedy or sampled", () => {
  const model = makeModel("shared", 9);
  const free = generate(model, PROMPTS, config({ beta: 0 }), { stopToken: STOP, padToken: PAD });
  const banned = [...new Set(free.flatMap((g) => g.tokens))].filter((t) => t !== STOP);
  assert.ok(banned.length > 0);
  for (const c of [config({ beta: 0 }), config({ beta: 2, method: "sample", temperature: 3 })]) {
    const out = generate(model, PROMPTS, c, { stopToken: STOP, padToken: PAD, prng: new Prng(4), banned });
    for (const g of out) for (const t of g.tokens) assert.ok(!banned.includes(t), `token ${t} is banned`);
  }
  model.dispose();
});

Deno.test("scoredTextPolicy() with recentWindow keeps the most recent tokens of a history longer than the context", () => {
  const tokenizer = new CharTokenizer({ alphabet: "abcdefgh" });
  const model = new IlqlModel(
    { ...defaultsOf(MODEL_SPEC), width: 16, layers: 1, heads: 2, context: 16, dropout: 0 },
    tokenizer.vocabSize,
    new Prng(3),
  );
  try {
    const decode = config({ maxTokens: 4 });
    const policy = scoredTextPolicy(model, tokenizer, decode, undefined, { recentWindow: true });
    const long: Segment[] = [{ kind: "state", text: "abcdefghabcdefgh" }, { kind: "action", text: "ab", reward: 0 }];
    const tokens = encodeSegments(long, tokenizer);
    assert.ok(tokens.length > 16);
    const [utterance] = policy([long]);
    // the same as decoding the last 16 − 4 tokens directly
    const sp = tokenizer.special;
    const [direct] = generate(model, [tokens.slice(tokens.length - 12)], decode, {
      stopToken: sp.eoa,
      padToken: sp.pad,
      banned: [sp.pad, sp.bos, sp.eos, sp.boa, sp.eod],
    });
    const text = tokenizer.decode(direct!.stopped ? direct!.tokens.slice(0, -1) : direct!.tokens);
    assert.equal(utterance!.text, text);
    // a short history is not cut; without the window a long one is an error
    assert.doesNotThrow(() => policy([[{ kind: "state", text: "ab" }]]));
    assert.throws(() => scoredTextPolicy(model, tokenizer, decode)([long]), /leaves no room in the context/);
  } finally {
    model.dispose();
  }
});
