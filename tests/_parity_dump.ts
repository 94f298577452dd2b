/**
 * Helper of blas_parity_test.ts (run as a subprocess with ILQL_BLAS=on or off): trains a small ILQL model on a
 * fixed batch and prints, as JSON, every parameter's gradient at the first step and the losses of 20 steps.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { testBackend } from "../ilql/_test_util.ts";
import { defaultsOf } from "../ilql/config.ts";
import { collate, encodeEpisode } from "../ilql/episode.ts";
import { computeLossTerms, ILQL_SPEC, ilqlUpdate, initIlqlState, makeOptimizer } from "../ilql/ilql.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { OPTIM_SPEC } from "../ilql/optim.ts";
import { Prng } from "../ilql/prng.ts";
import { STITCH_TOKENIZER, stitchDataset } from "../tasks/stitch/stitch.ts";

const info = await testBackend();
const layout = (Deno.args[0] ?? "separate") as "separate" | "shared";
const model = new IlqlModel(
  { ...defaultsOf(MODEL_SPEC), layout, width: 32, layers: 2, heads: 4, context: 16, dropout: 0, tiedLmHead: false },
  STITCH_TOKENIZER.vocabSize,
  new Prng(1),
);
const batch = collate(
  stitchDataset(48, new Prng(2)).map((e) => encodeEpisode(e, STITCH_TOKENIZER, { context: 16 })),
  STITCH_TOKENIZER.special.pad,
);
const ilql = { ...defaultsOf(ILQL_SPEC), awacBeta: 0.5, cqlWeight: 0.3 };
const vars = model.trainableVariables();
const grads = tf.tidy(() => {
  const { grads } = tf.variableGrads(() => computeLossTerms(model, batch, ilql).total as tf.Scalar, [...vars.values()]);
  return [...vars].map(([name, v]) => [name, grads[v.name]] as const);
});
const gradients = Object.fromEntries(grads.map(([name, g]) => [name, Array.from(g?.dataSync() ?? [])]));
let state = initIlqlState(
  model,
  ilql,
  makeOptimizer(model, ilql, { ...defaultsOf(OPTIM_SPEC), lr: 1e-3 }),
  new Prng(3),
);
const losses: number[][] = [];
for (let i = 0; i < 20; i++) {
  const r = ilqlUpdate(state, [batch]);
  state = r.state;
  losses.push(["losses/q", "losses/v", "losses/cql", "losses/policy"].map((k) => r.info[k]!));
}
console.log(JSON.stringify({ backend: info.summary, gradients, losses }));
