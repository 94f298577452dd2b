import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { testBackend } from "./_test_util.ts";
import { defaultsOf } from "./config.ts";
import { assignGpt2, checkGpt2Init, initFromGpt2, parseGpt2Config, readGpt2, writeGpt2 } from "./gpt2.ts";
import { CharTokenizer } from "./tokenizer.ts";
import { IlqlModel, MODEL_SPEC, type ModelConfig } from "./model.ts";
import { Prng } from "./prng.ts";
import { decodeSafetensors } from "./safetensors.ts";
import { forward } from "./transformer.ts";
import { TINY_GPT2_CONFIG, TINY_GPT2_IDS, writeTinyGpt2, writeTinyGpt2Vocab } from "../tests/fixtures/gpt2_tiny.ts";

await testBackend(1);

const REFERENCE = JSON.parse(
  Deno.readTextFileSync(new URL("../tests/fixtures/gpt2_tiny_logits.json", import.meta.url)),
) as { ids: number[][]; logits: number[][][] };

function tinyModel(layout: "shared" | "separate" = "shared"): IlqlModel {
  const { n_embd: width, n_layer: layers, n_head: heads, n_positions: context, vocab_size } = TINY_GPT2_CONFIG;
  const config: ModelConfig = { ...defaultsOf(MODEL_SPEC), layout, width, layers, heads, context, dropout: 0 };
  return new IlqlModel(config, vocab_size, new Prng(0));
}

/** The policy's logits `[B, T, V]` at every position of `ids`. */
function logitsOf(model: IlqlModel, ids: number[][]): number[][][] {
  return tf.tidy(() => {
    const { hidden } = forward(model.trunk("policy")!, model.shape, tf.tensor2d(ids, undefined, "int32"));
    return tf.reshape(model.policyLogits(hidden), [ids.length, ids[0]!.length, -1]).arraySync() as number[][][];
  });
}

const maxAbsDiff = (a: number[][][], b: number[][][]) =>
  Math.max(...a.flatMap((row, i) => row.flatMap((col, j) => col.map((x, k) => Math.abs(x - b[i]![j]![k]!)))));

Deno.test("a GPT-2 folder's weights give the logits of the PyTorch forward (tests/fixtures/gpt2_tiny_logits.json)", () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeTinyGpt2(dir);
    assert.deepEqual(REFERENCE.ids, TINY_GPT2_IDS);
    for (const layout of ["shared", "separate"] as const) {
      const model = tinyModel(layout);
      assignGpt2(model, readGpt2(dir));
      const diff = maxAbsDiff(logitsOf(model, TINY_GPT2_IDS), REFERENCE.logits);
      // float32 on both sides; the logits are O(1)
      assert.ok(diff < 2e-5, `${layout}: max |Δ logit| = ${diff}`);
      console.log(`${layout}: max |Δ logit| against PyTorch = ${diff.toExponential(2)}`);
      model.dispose();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a policy written as a GPT-2 folder reads back to the same weights and logits", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const before = tf.memory().numTensors;
    const trained = tinyModel("separate"); // random weights stand in for a trained policy
    await writeGpt2(`${dir}/export`, trained);
    const files = [...Deno.readDirSync(`${dir}/export`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["config.json", "model.safetensors"]);
    const { tensors } = decodeSafetensors(Deno.readFileSync(`${dir}/export/model.safetensors`), "export");
    assert.deepEqual(tensors["h.0.attn.c_attn.weight"]!.shape, [16, 48]);
    const back = tinyModel("shared");
    assignGpt2(back, readGpt2(`${dir}/export`));
    for (const [name, v] of Object.entries(trained.trunk("policy")!)) {
      assert.deepEqual(back.trunk("policy")![name]!.dataSync(), v.dataSync(), name);
    }
    assert.equal(maxAbsDiff(logitsOf(back, TINY_GPT2_IDS), logitsOf(trained, TINY_GPT2_IDS)), 0);
    trained.dispose();
    back.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("GPT-2 folders the project cannot read exactly are refused with one line naming the file", () => {
  const base = JSON.stringify(TINY_GPT2_CONFIG);
  const config = (change: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(base), ...change });
  assert.throws(
    () => parseGpt2Config(config({ activation_function: "relu" }), "c.json"),
    /^Error: c.json: 'activation_function' is "relu"/,
  );
  assert.throws(() => parseGpt2Config(config({ n_layer: 0 }), "c.json"), /'n_layer' must be a positive integer, got 0/);
  assert.throws(() => parseGpt2Config(config({ n_head: 3 }), "c.json"), /n_head 3 does not divide n_embd 16/);
  assert.throws(() => parseGpt2Config("{", "c.json"), /^Error: c.json: not valid JSON/);
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(() => readGpt2(dir), new RegExp(`^Error: ${dir}: not a GPT-2 folder`));
    writeTinyGpt2(dir);
    Deno.writeTextFileSync(`${dir}/config.json`, config({ n_positions: 16 }));
    assert.throws(
      () => readGpt2(dir),
      /model.safetensors: tensor 'wpe.weight' has shape \[12,16\], the config says \[16,16\]/,
    );
    Deno.writeTextFileSync(`${dir}/config.json`, base);
    const narrowConfig: ModelConfig = {
      ...defaultsOf(MODEL_SPEC),
      layout: "shared",
      width: 8,
      layers: 2,
      heads: 2,
      context: 12,
    };
    const narrow = new IlqlModel(narrowConfig, TINY_GPT2_CONFIG.vocab_size, new Prng(0));
    assert.throws(
      () => assignGpt2(narrow, readGpt2(dir)),
      /^Error: the model's width is 8, the GPT-2 checkpoint's 16$/,
    );
    narrow.dispose();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("model.init starts every trunk from GPT-2, its embedding rows mapped to the task's tokens", () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeTinyGpt2(dir);
    const vocab = writeTinyGpt2Vocab(dir);
    const gpt2 = readGpt2(dir);
    const tokenizer = new CharTokenizer({ alphabet: "abcd", symbols: ["ab", "dc"] });
    const config: ModelConfig = {
      ...defaultsOf(MODEL_SPEC),
      layout: "separate",
      width: 16,
      layers: 2,
      heads: 2,
      context: 8,
      init: dir,
    };
    const model = new IlqlModel(config, tokenizer.vocabSize, new Prng(3));
    const randomRows = model.trunk("value")!.wte!.arraySync() as number[][];
    initFromGpt2(model, dir, tokenizer);
    const gpt2Row = (symbol: string) =>
      Array.from((gpt2.trunk.wte!.data as Float32Array).subarray(vocab[symbol]! * 16, (vocab[symbol]! + 1) * 16));
    for (const role of ["value", "target", "policy"] as const) {
      const trunk = model.trunk(role)!;
      const wte = trunk.wte!.arraySync() as number[][];
      const id = (text: string) => tokenizer.encode(text)[0]!;
      assert.deepEqual(wte[id("c")], gpt2Row("c"));
      assert.deepEqual(wte[id("ab")], gpt2Row("ab")); // a piece GPT-2 has whole
      // "dc" is two GPT-2 pieces: their mean
      const dc = gpt2Row("d").map((x, i) => (x + gpt2Row("c")[i]!) / 2);
      assert.ok(wte[id("dc")]!.every((x, i) => Math.abs(x - dc[i]!) < 1e-7));
      // the project's special tokens keep their random rows
      assert.deepEqual(wte[tokenizer.special.eoa], randomRows[tokenizer.special.eoa]);
      assert.deepEqual(trunk.wpe!.dataSync(), (gpt2.trunk.wpe!.data as Float32Array).subarray(0, 8 * 16));
      assert.deepEqual(trunk["h1.attn.k.w"]!.dataSync(), gpt2.trunk["h1.attn.k.w"]!.data);
    }
    model.dispose();
    assert.throws(
      () => checkGpt2Init(dir, { width: 64, layers: 2, heads: 2, context: 8 }),
      new RegExp(`^Error: model.init ${dir} has width 16: set model.width=16 \\(it is 64\\)$`),
    );
    assert.throws(
      () => checkGpt2Init(dir, { width: 16, layers: 2, heads: 2, context: 13 }),
      /model.context 13 is more than the 12 positions/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
