import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { tinyClassifierProbabilities, writeTinyClassifier } from "../../tests/fixtures/tiny_classifier.ts";
import { syntheticThreadSet } from "./data.ts";
import { hfReward } from "./hf.ts";
import { evaluateReplies } from "./task.ts";

const SPEC = {
  labels: ["harmless", "toxic"],
  scores: { idiot: [0, 3], stupid: [0, 1.5], thanks: [2, 0], luck: [1, 0] },
};

Deno.test("the hf reward scores replies with a local ONNX classifier folder, end to end through the evaluator", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeTinyClassifier(`${dir}/tiny-toxicity`, SPEC);
    assert.ok(Deno.statSync(`${dir}/tiny-toxicity/onnx/model.onnx`).size < 4096, "a few hundred bytes of graph");
    const reward = await hfReward(`${dir}/tiny-toxicity/`);
    const replies = ["You are an idiot.", "Thanks for asking!", "That is stupid, thanks.", "Good luck!", "Hmm."];
    const items = replies.map((reply) => ({ parent: "What do you think?", reply }));
    const expected = replies.map((r) => -10 * tinyClassifierProbabilities(SPEC, r)[1]!);
    // by hand: "idiot" gives logits (0, 3), so −10 σ(3); a reply with no known word is (0, 0), so −5
    assert.ok(Math.abs(expected[0]! + 10 / (1 + Math.exp(-3))) < 1e-12 && expected[4] === -5);
    const got = await reward(items);
    got.forEach((g, i) => assert.ok(Math.abs(g - expected[i]!) < 1e-6, `${replies[i]}: ${g} vs ${expected[i]}`));
    // another label and scale
    const harmless = await (await hfReward(`${dir}/tiny-toxicity`, { label: "HARMLESS", scale: 2 }))(items);
    harmless.forEach((g, i) => assert.ok(Math.abs(g - 2 * (1 + expected[i]! / 10)) < 1e-6));

    // the toxicity evaluator, scoring a policy's replies with the classifier
    let i = 0;
    const result = await evaluateReplies(
      (histories) => histories.map(() => replies[i++ % replies.length]!),
      { threads: syntheticThreadSet(0, 200), parents: 10, reward },
      new Prng(0),
    );
    assert.equal(result.returns.length, 10);
    result.returns.forEach((g, k) => assert.ok(Math.abs(g - expected[k % replies.length]!) < 1e-6));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the hf reward names a missing or non-model folder in one line", async () => {
  await assert.rejects(
    () => hfReward("/nonexistent/model"),
    /^Error: hf reward: model folder '\/nonexistent\/model' not found/,
  );
  const dir = Deno.makeTempDirSync();
  await assert.rejects(() => hfReward(dir), /has no config\.json; it is not a Hugging Face model folder/);
  Deno.removeSync(dir, { recursive: true });
});
