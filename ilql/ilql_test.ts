import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, testBackend } from "./_test_util.ts";
import { defaultsOf } from "./config.ts";
import { collate, encodeEpisode, type Episode } from "./episode.ts";
import {
  computeLossTerms,
  evaluateLosses,
  ILQL_SPEC,
  type IlqlConfig,
  ilqlUpdate,
  initIlqlState,
  makeOptimizer,
  NonFiniteLossError,
  rewardsToGo,
} from "./ilql.ts";
import { applyHead, IlqlModel, MODEL_SPEC } from "./model.ts";
import { OPTIM_SPEC } from "./optim.ts";
import { Prng } from "./prng.ts";
import { CharTokenizer } from "./tokenizer.ts";
import { forward } from "./transformer.ts";

await testBackend();

const tokenizer = new CharTokenizer({ alphabet: "abcdefgh", symbols: ["<g>", "<y>"] });
const EPISODES: Episode[] = [
  {
    segments: [
      { kind: "state", text: "ab" },
      { kind: "action", text: "cde", reward: -1 },
      { kind: "state", text: "<g><y>" },
      { kind: "action", text: "fg", reward: 2 },
    ],
    terminal: true,
  },
  { segments: [{ kind: "action", text: "h", reward: 0.5 }, { kind: "state", text: "a" }], terminal: false },
  {
    segments: [
      { kind: "state", text: "c" },
      { kind: "action", text: "", reward: -2 },
      { kind: "action", text: "ab", reward: 1 },
    ],
    terminal: true,
  },
];
const batch = collate(EPISODES.map((e) => encodeEpisode(e, tokenizer, { context: 32 })), tokenizer.special.pad);

function makeModel(layout: "separate" | "shared", seed = 1): IlqlModel {
  const config = { ...defaultsOf(MODEL_SPEC), layout, width: 16, layers: 2, heads: 2, context: 32, dropout: 0 };
  return new IlqlModel(config, tokenizer.vocabSize, new Prng(seed));
}

function rows(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

/** The ILQL losses written as a per-token loop over the spec formulas (spec 3), from the model's head outputs. */
function naiveLosses(model: IlqlModel, config: IlqlConfig) {
  const { size: B, length: T, numActions: K } = batch;
  const tokens = tf.tensor2d(batch.tokens, [B, T], "int32");
  const h = forward(model.trunk("value")!, model.shape, tokens).hidden;
  const hT = model.trunk("target") ? forward(model.trunk("target")!, model.shape, tokens).hidden : h;
  const hP = forward(model.trunk("policy")!, model.shape, tokens).hidden;
  const V = rows(applyHead(model.heads.v, h)).map((r) => r[0]!);
  const Q1 = rows(applyHead(model.heads.q1, h));
  const Q2 = rows(applyHead(model.heads.q2, h));
  const TQ1 = rows(applyHead(model.heads.targetQ1, hT));
  const TQ2 = rows(applyHead(model.heads.targetQ2, hT));
  const logits = rows(model.policyLogits(hP));
  const lse = (z: number[]) => {
    const m = Math.max(...z);
    return m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
  };
  let lq = 0, lv = 0, lc = 0, n = 0;
  const weight = new Map<number, number>();
  for (let b = 0; b < B; b++) {
    // discounted reward-to-go of each real action of this row
    const toGo = new Array<number>(K).fill(0);
    for (let k = K - 1, g = 0; k >= 0; k--) {
      g = batch.actionMask[b * K + k] === 0 ? 0 : batch.rewards[b * K + k]! + config.gamma * g;
      toGo[k] = g;
    }
    for (let k = 0; k < K; k++) {
      if (batch.actionMask[b * K + k] === 0) continue;
      n++;
      const p = batch.actionIndex[b * K + k]!;
      const s1 = batch.stateIndex[b * (K + 1) + k + 1]!;
      const a = batch.actions[b * K + k]!;
      const done = batch.terminals[b * (K + 1) + k + 1]!;
      // ILQL bootstraps from V(s'); token-level CQL from max over tokens of Q̄(s', ·)
      const next = config.backup === "max" ? Math.max(...TQ1[s1]!.map((q, i) => Math.min(q, TQ2[s1]![i]!))) : V[s1]!;
      const y = batch.rewards[b * K + k]! + config.gamma * (1 - done) * next;
      const qbar = Math.min(TQ1[p]![a]!, TQ2[p]![a]!);
      for (const Q of [Q1, Q2]) {
        lq += (y - Q[p]![a]!) ** 2;
        lc += lse(Q[p]!) - Q[p]![a]!;
      }
      const u = qbar - V[p]!;
      const uV = (config.mcReturns ? toGo[k]! : qbar) - V[p]!;
      lv += (uV < 0 ? 1 - config.expectile : config.expectile) * uV * uV;
      weight.set(p, Math.exp(config.awacBeta * u));
    }
  }
  let lp = 0, den = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++) {
      const p = b * T + t;
      den += batch.attention[p + 1]!;
      // an action token's weight is its AWAC weight; a real token the environment wrote gets transitionWeight
      const w = weight.get(p) ?? config.transitionWeight * batch.attention[p + 1]!;
      lp += w * (lse(logits[p]!) - logits[p]![batch.tokens[p + 1]!]!);
    }
  }
  return { q: lq / n, v: lv / n, cql: lc / n, policy: lp / den };
}

const LOSS_CASES = [
  ["separate", false, "value", 0],
  ["shared", false, "value", 0],
  ["separate", true, "value", 0],
  ["separate", false, "max", 0],
  ["shared", false, "max", 0],
  ["shared", false, "value", 0.5],
] as const;
for (const [layout, mcReturns, backup, transitionWeight] of LOSS_CASES) {
  const variant = `${layout}${mcReturns ? ", MC returns" : ""}${backup === "max" ? ", max backup" : ""}${
    transitionWeight > 0 ? `, transition weight ${transitionWeight}` : ""
  }`;
  Deno.test(
    `computeLossTerms() equals a per-token loop over the spec formulas (${variant})`,
    () => {
      const model = makeModel(layout);
      // make targets differ from the online network so Q̄ is not Q
      for (const [target] of model.polyakPairs()) {
        target.assign(tf.add(target, tf.randomNormal(target.shape, 0, 0.05, "float32", 9)));
      }
      const config = { ...defaultsOf(ILQL_SPEC), awacBeta: 0.7, cqlWeight: 0.3, mcReturns, backup, transitionWeight };
      const info = evaluateLosses(model, batch, config);
      const expected = naiveLosses(model, config);
      for (const key of ["q", "v", "cql", "policy"] as const) {
        assertAllClose([info[`losses/${key}`]!], [expected[key]], { atol: 1e-5, rtol: 1e-4, what: key });
      }
      const total = expected.q + expected.v + 0.3 * expected.cql + expected.policy;
      assertAllClose([info["losses/total"]!], [total], { atol: 1e-5, rtol: 1e-4, what: "total" });
      model.dispose();
    },
  );
}

Deno.test("rewardsToGo() sums discounted rewards to the end of each row's real actions", () => {
  // two rows of K = 4: three real actions then padding, and four real actions
  const rewards = Float32Array.from([1, 0, 2, 9, -1, -1, -1, 0]);
  const mask = Float32Array.from([1, 1, 1, 0, 1, 1, 1, 1]);
  const g = rewardsToGo(rewards, mask, 4, 0.5);
  assertAllClose(g, [1 + 0.5 * (0 + 0.5 * 2), 0 + 0.5 * 2, 2, 0, -1.75, -1.5, -1, 0], { atol: 1e-7, what: "G" });
  assert.deepEqual(rewardsToGo(rewards, mask, 4, 1).slice(4), Float32Array.from([-3, -2, -1, 0]));
});

Deno.test("no gradient reaches target parameters, even when they are marked trainable", () => {
  for (const layout of ["separate", "shared"] as const) {
    const model = makeModel(layout);
    const targets = model.polyakPairs().map(([t]) => t);
    for (const t of targets) (t as { trainable: boolean }).trainable = true;
    const config = { ...defaultsOf(ILQL_SPEC), awacBeta: 1 };
    const { grads } = tf.variableGrads(() => computeLossTerms(model, batch, config).total as tf.Scalar, targets);
    const norm = tf.addN(Object.values(grads).map((g) => tf.sum(tf.abs(g)))).dataSync()[0] ?? 0;
    assert.equal(norm, 0, `${layout}: target gradient norm ${norm}`);
    model.dispose();
  }
});

function snapshot(vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => v.dataSync().slice() as Float32Array);
}

Deno.test("polyak 0 leaves targets unchanged and polyak α moves them α of the way, bit for bit as float32 ops", () => {
  for (const layout of ["separate", "shared"] as const) {
    for (const polyak of [0, 0.25, 0.1]) {
      const model = makeModel(layout);
      const ilql = { ...defaultsOf(ILQL_SPEC), polyak };
      const state = initIlqlState(model, ilql, makeOptimizer(model, ilql, defaultsOf(OPTIM_SPEC)), new Prng(2));
      const pairs = model.polyakPairs();
      const before = snapshot(pairs.map(([t]) => t));
      ilqlUpdate(state, [batch]);
      const onlineAfter = snapshot(pairs.map(([, o]) => o));
      const after = snapshot(pairs.map(([t]) => t));
      // what tf.add(tf.mul(target, 1 − α), tf.mul(online, α)) gives in float32: each product and the sum rounded
      const [keep, take] = [Math.fround(1 - polyak), Math.fround(polyak)];
      pairs.forEach((_, i) => {
        const expected = before[i]!.map((x, j) => Math.fround(x * keep) + Math.fround(onlineAfter[i]![j]! * take));
        assert.deepEqual(after[i]!, expected, `${layout} polyak ${polyak} pair ${i}`);
      });
      // online weights did move, so the check above is not vacuous
      assert.ok(onlineAfter.some((o, i) => o.some((x, j) => x !== before[i]![j])));
      model.dispose();
    }
  }
});

Deno.test("separate layout: the policy loss trains only the policy trunk, value losses never touch it", () => {
  const model = makeModel("separate");
  const policyNames = model.policyVariableNames();
  const all = [...model.variables()];
  const isPolicy = ([name]: [string, tf.Variable]) => policyNames.has(name);
  for (const [awacWeight, qvWeight] of [[1, 0], [0, 1]] as const) {
    const ilql = { ...defaultsOf(ILQL_SPEC), awacWeight, qWeight: qvWeight, vWeight: qvWeight, cqlWeight: qvWeight };
    const state = initIlqlState(model, ilql, makeOptimizer(model, ilql, defaultsOf(OPTIM_SPEC)), new Prng(3));
    const before = new Map(all.map(([n, v]) => [n, v.dataSync().slice()]));
    ilqlUpdate(state, [batch]);
    const changed = (entry: [string, tf.Variable]) =>
      entry[1].dataSync().some((x, j) => x !== before.get(entry[0])![j]);
    const trainsPolicy = awacWeight === 1;
    assert.equal(all.filter(isPolicy).some(changed), trainsPolicy, `awacWeight ${awacWeight}: policy changed?`);
    const nonPolicyChanged = all.filter((e) => !isPolicy(e) && !e[0].startsWith("target") && !e[0].includes("target_"))
      .some(changed);
    assert.equal(nonPolicyChanged, !trainsPolicy, `awacWeight ${awacWeight}: value side changed?`);
  }
  model.dispose();
});

Deno.test("ilqlUpdate() keeps the tensor count flat over 20 steps, with accumulation and dropout", () => {
  for (const layout of ["separate", "shared"] as const) {
    const model = new IlqlModel(
      { ...defaultsOf(MODEL_SPEC), layout, width: 16, layers: 1, heads: 2, context: 32, dropout: 0.1 },
      tokenizer.vocabSize,
      new Prng(4),
    );
    const ilql = { ...defaultsOf(ILQL_SPEC), awacBeta: 0.5 };
    const optim = { ...defaultsOf(OPTIM_SPEC), gradClip: 1 };
    let state = initIlqlState(model, ilql, makeOptimizer(model, ilql, optim), new Prng(5));
    state = ilqlUpdate(state, [batch, batch]).state;
    const start = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) state = ilqlUpdate(state, [batch, batch]).state;
    assert.equal(tf.memory().numTensors, start, `${layout}: tensors leaked`);
    assert.equal(state.step, 21);
    state.optimizer.dispose();
    model.dispose();
  }
});

Deno.test("ilqlUpdate() reports the first non-finite term and applies no update", () => {
  const model = makeModel("shared");
  const ilql = defaultsOf(ILQL_SPEC);
  const optim = { ...defaultsOf(OPTIM_SPEC), lr: 1e30 };
  let state = initIlqlState(model, ilql, makeOptimizer(model, ilql, optim), new Prng(6));
  let error: NonFiniteLossError | null = null;
  let before: Float32Array[] = [];
  for (let i = 0; i < 20 && error === null; i++) {
    before = snapshot([...model.variables().values()]);
    try {
      state = ilqlUpdate(state, [batch]).state;
    } catch (e) {
      error = e as NonFiniteLossError;
    }
  }
  assert.ok(error instanceof NonFiniteLossError, "training with lr 1e30 never produced a non-finite value");
  assert.match(
    error.message,
    /^Non-finite (losses|values|optim)\/\w+ \((NaN|-?Infinity)\) at step \d+; the update was not applied$/,
  );
  assert.equal(error.step, state.step + 1);
  assert.deepEqual(snapshot([...model.variables().values()]), before);
  model.dispose();
});
