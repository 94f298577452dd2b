import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertAllClose, testBackend } from "../ilql/_test_util.ts";
import { defaultsOf } from "../ilql/config.ts";
import { collate, encodeEpisode, type Episode } from "../ilql/episode.ts";
import { evaluateLosses, ILQL_SPEC } from "../ilql/ilql.ts";
import { tdTarget } from "../ilql/loss.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { STITCH_TOKENIZER } from "../tasks/stitch/stitch.ts";
import { CQL } from "./cql.ts";
import { SINGLE_STEP } from "./single_step.ts";

await testBackend(1);

Deno.test("tdTarget() is r + γ·(1 − terminal')·next", () => {
  const y = tf.tidy(() =>
    tdTarget(tf.tensor1d([0, -1, 2]), tf.tensor1d([0, 1, 0]), tf.tensor1d([2, 5, -1]), 0.9).dataSync()
  );
  assertAllClose(y, [1.8, -1, 2 - 0.9], { atol: 1e-6 });
});

const EPISODES: Episode[] = [
  {
    segments: [
      { kind: "state", text: "go" },
      { kind: "action", text: "up", reward: 0 },
      { kind: "state", text: "mid" },
      { kind: "action", text: "no", reward: -1 },
    ],
    terminal: true,
  },
  { segments: [{ kind: "state", text: "go" }, { kind: "action", text: "dn", reward: -1 }], terminal: false },
];
const batch = collate(
  EPISODES.map((e) => encodeEpisode(e, STITCH_TOKENIZER, { context: 16 })),
  STITCH_TOKENIZER.special.pad,
);

Deno.test("CQL at weight 0 and single-step RL share one TD target: equal losses when max Q̄(s') = V(s')", () => {
  const model = new IlqlModel(
    { ...defaultsOf(MODEL_SPEC), width: 16, layers: 1, heads: 2, context: 16, dropout: 0 },
    STITCH_TOKENIZER.vocabSize,
    new Prng(2),
  );
  const cql = { ...defaultsOf(ILQL_SPEC), ...CQL.preset.ilql, cqlWeight: 0 };
  const singleStep = { ...defaultsOf(ILQL_SPEC), ...SINGLE_STEP.preset.ilql, cqlWeight: 0 };
  assert.equal(cql.backup, "max");
  assert.equal(cql.expectile, singleStep.expectile);
  // random heads: the two backups give different Q targets, everything else is the same
  const random = [evaluateLosses(model, batch, cql), evaluateLosses(model, batch, singleStep)];
  assert.ok(Math.abs(random[0]!["losses/q"]! - random[1]!["losses/q"]!) > 1e-4, "the backup is switched");
  assert.equal(random[0]!["losses/v"], random[1]!["losses/v"]);
  // every target Q value and V equal to one constant: max_a Q̄(s', a) = V(s'), so the two targets coincide
  const h = model.heads;
  for (const head of [h.targetQ1, h.targetQ2, h.v]) {
    head["out.w"].assign(tf.zerosLike(head["out.w"]));
    head["out.b"].assign(tf.fill(head["out.b"].shape, 0.7));
  }
  const [a, b] = [evaluateLosses(model, batch, cql), evaluateLosses(model, batch, singleStep)];
  assert.deepEqual(a, b);
  model.dispose();
});
