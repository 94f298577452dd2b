import type * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { testBackend } from "../ilql/_test_util.ts";
import { IlqlModel, weightCounts } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { checkRunConfig, runConfig } from "./algorithm.ts";

await testBackend(1);

Deno.test("weightCounts() counts the weights a model builds, in both layouts, untied and return-conditioned", () => {
  const sizes = (vars: Map<string, tf.Variable>) => [...vars.values()].reduce((s, v) => s + v.size, 0);
  for (const layout of ["shared", "separate"] as const) {
    for (const extra of [{}, { tiedLmHead: false, returnConditioned: true }]) {
      const config = runConfig({ model: { layout, width: 16, layers: 2, heads: 2, context: 12, ...extra } }).model;
      const model = new IlqlModel(config, 50, new Prng(0));
      assert.deepEqual(weightCounts(config, 50), {
        total: sizes(model.variables()),
        trainable: sizes(model.trainableVariables()),
      });
      model.dispose();
    }
  }
});

Deno.test("a model whose training state passes the wasm heap is refused before any weight exists", () => {
  // GPT-2 small's shape on the dialogue task's 825 tokens: measured to train shared and abort separate
  const ilql = { description: "ilql", preset: {} };
  const check = (layout: "shared" | "separate") =>
    checkRunConfig(ilql, runConfig({ model: { layout, width: 768, layers: 12, heads: 12, context: 128 } }), 825, 100);
  check("shared");
  assert.throws(
    () => check("separate"),
    /^Error: model of \d+ M weights \(\d+ M trained\): about 3\.\d GiB of weights, gradients and Adam moments, more than the 2\.5 GiB .* use model\.layout=shared \(one trunk\), fewer layers or a smaller width$/,
  );
  // in the shared layout only the size can be changed
  assert.throws(
    () =>
      checkRunConfig(ilql, runConfig({ model: { layout: "shared", width: 1024, layers: 24, heads: 16 } }), 825, 100),
    /GiB the wasm backend's 4 GiB heap leaves beside activations; use fewer layers or a smaller width$/,
  );
});
