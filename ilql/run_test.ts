import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, testBackend } from "./_test_util.ts";
import type { Episode } from "./episode.ts";
import type { IlqlModel } from "./model.ts";
import { Prng } from "./prng.ts";
import { type IlqlRunConfig, ilqlRunConfig, stackedSeedsProblem, trainIlql, trainSeeds } from "./run.ts";
import { CharTokenizer } from "./tokenizer.ts";

await testBackend();

const tokenizer = new CharTokenizer({ alphabet: "abcdefgh", symbols: ["<g>", "<y>"] });

/** Episodes of different lengths and action counts, so that each seed's batches pad differently. */
function episodes(count: number): Episode[] {
  const prng = new Prng(11);
  const text = (n: number) => Array.from({ length: n }, () => "abcdefgh"[Math.floor(prng.next() * 8)]).join("");
  return Array.from({ length: count }, (_, i) => ({
    segments: Array.from({ length: 1 + (i % 3) }, (_, k) => [
      { kind: "state" as const, text: text(1 + ((i + k) % 4)) },
      { kind: "action" as const, text: text(1 + ((i * k) % 3)), reward: prng.next() * 2 - 1 },
    ]).flat(),
    terminal: i % 4 !== 0,
  }));
}
const DATA = episodes(14);

function configs(overrides: Record<string, Record<string, unknown>>, seeds: number[]): IlqlRunConfig[] {
  return seeds.map((seed) =>
    ilqlRunConfig({
      ...overrides,
      model: { width: 16, layers: 2, heads: 2, context: 32, dropout: 0, ...overrides.model },
      optim: { lr: 3e-3, ...overrides.optim },
      train: { steps: 5, batchSize: 4, logEvery: 1, ...overrides.train, seed },
    })
  );
}

const BC = { qWeight: 0, vWeight: 0, cqlWeight: 0 };
const CASES: Array<[string, Record<string, Record<string, unknown>>]> = [
  ["ILQL, separate trunks (a target trunk)", { model: { layout: "separate" }, ilql: { awacBeta: 1 } }],
  ["ILQL, shared trunk, clipped per seed, cosine schedule", {
    model: { layout: "shared" },
    optim: { gradClip: 0.05, schedule: "cosine", weightDecay: 0.01, gradAccum: 2 },
  }],
  ["BC, separate (only the policy trunk trains)", { model: { layout: "separate" }, ilql: BC }],
  ["token-level CQL (max backup, clipped values)", {
    model: { layout: "shared" },
    ilql: { backup: "max", cqlWeight: 1 },
  }],
  ["Decision Transformer (return embedding, untied LM head)", {
    model: { layout: "shared", returnConditioned: true, tiedLmHead: false },
    ilql: BC,
  }],
  ["MC returns", { model: { layout: "shared" }, ilql: { mcReturns: true, expectile: 0.5 } }],
];

/**
 * A model's weights by name, but for the attention key biases: softmax ignores a constant added to a query's scores,
 * so their gradient is zero but for rounding, and Adam turns that rounding into steps of the learning rate's size.
 */
function weights(model: IlqlModel): Map<string, Float32Array> {
  return new Map(
    [...model.variables()].filter(([k]) => !k.endsWith("attn.k.b")).map(([k, v]) => [k, v.dataSync() as Float32Array]),
  );
}

for (const [name, overrides] of CASES) {
  Deno.test(`trainSeeds: 3 stacked seeds equal each seed trained alone (${name})`, async () => {
    const runs = configs(overrides, [3, 7, 12]);
    // a first run makes what is kept for the process (causal masks of each length)
    for (const { model } of await trainSeeds(DATA, tokenizer, runs)) model.dispose();
    const before = tf.memory().numTensors;
    const stacked = (await trainSeeds(DATA, tokenizer, runs)).map(({ model, history }) => {
      const w = weights(model);
      model.dispose();
      return { weights: w, history };
    });
    assert.equal(tf.memory().numTensors, before, "trainSeeds leaks no tensor");
    assert.equal(stacked.length, 3);
    for (const [s, config] of runs.entries()) {
      const alone = await trainIlql(DATA, tokenizer, config);
      for (const [k, expected] of weights(alone.state.model)) {
        const what = `seed ${config.train.seed} ${k}`;
        assertAllClose(stacked[s]!.weights.get(k)!, expected, { atol: 2e-5, rtol: 1e-4, what });
      }
      assert.deepEqual(stacked[s]!.history.map((r) => r.step), alone.history.map((r) => r.step));
      for (const [i, record] of alone.history.entries()) {
        const mine = stacked[s]!.history[i]!.info;
        assert.deepEqual(Object.keys(mine).sort(), Object.keys(record.info).sort());
        for (const [k, v] of Object.entries(record.info)) {
          assertAllClose([mine[k]!], [v], { atol: 1e-5, rtol: 1e-4, what: `seed ${config.train.seed} step ${i} ${k}` });
        }
      }
      alone.state.model.dispose();
      alone.state.optimizer.dispose();
    }
  });
}

Deno.test("trainSeeds: each seed starts from its own start, as alone", async () => {
  const [startA, startB] = await Promise.all(
    configs({ ilql: BC }, [1, 2]).map(async (c) => (await trainIlql(DATA, tokenizer, c)).state),
  );
  const runs = configs({ model: { layout: "shared" } }, [5, 6]);
  const stacked = await trainSeeds(DATA, tokenizer, runs, { inits: [startA!.model, startB!.model] });
  for (const [s, init] of [startA!.model, startB!.model].entries()) {
    const alone = await trainIlql(DATA, tokenizer, runs[s]!, { init });
    const got = weights(stacked[s]!.model);
    for (const [k, expected] of weights(alone.state.model)) {
      assertAllClose(got.get(k)!, expected, { atol: 2e-5, rtol: 1e-4, what: k });
    }
    alone.state.model.dispose();
    alone.state.optimizer.dispose();
  }
  for (const m of [...stacked.map((r) => r.model), startA!.model, startB!.model]) m.dispose();
  startA!.optimizer.dispose();
  startB!.optimizer.dispose();
});

Deno.test("trainSeeds: curves are measured per seed on that seed's weights", async () => {
  const runs = configs({ ilql: BC, train: { evalEvery: 2 } }, [3, 4]);
  const seen: string[] = [];
  const stacked = await trainSeeds(DATA, tokenizer, runs, {
    evaluate: (seed, model, step) => {
      assert.equal(model.seeds, 1);
      seen.push(`${seed}@${step}`);
      return Promise.resolve();
    },
  });
  assert.deepEqual(seen, ["0@0", "1@0", "0@2", "1@2", "0@4", "1@4", "0@5", "1@5"]);
  for (const { model } of stacked) model.dispose();
});

Deno.test("stackedSeedsProblem: only runs that differ in their seed alone, without dropout, stack", () => {
  assert.equal(stackedSeedsProblem(configs({}, [1, 2, 3])), null);
  assert.match(stackedSeedsProblem(configs({ model: { dropout: 0.1 } }, [1, 2]))!, /dropout is 0.1/);
  const mixed = [...configs({}, [1]), ...configs({ optim: { lr: 1e-4 } }, [2])];
  assert.match(stackedSeedsProblem(mixed)!, /differ in more than train.seed/);
  return assert.rejects(() => trainSeeds(DATA, tokenizer, mixed), /cannot train as stacked seeds/);
});
