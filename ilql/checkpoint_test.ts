import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { testBackend } from "./_test_util.ts";
import {
  type Checkpoint,
  type CheckpointMeta,
  loadCheckpoint,
  restoreOptimizer,
  saveCheckpoint,
} from "./checkpoint.ts";
import { defaultsOf } from "./config.ts";
import { collate, encodeEpisode, type Episode } from "./episode.ts";
import { ILQL_SPEC, type IlqlState, ilqlUpdate, initIlqlState, makeOptimizer } from "./ilql.ts";
import { IlqlModel, MODEL_SPEC, type ModelConfig } from "./model.ts";
import { OPTIM_SPEC } from "./optim.ts";
import { Prng } from "./prng.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { CharTokenizer } from "./tokenizer.ts";

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
  { segments: [{ kind: "state", text: "c" }, { kind: "action", text: "ab", reward: 1 }], terminal: true },
];
const batch = collate(EPISODES.map((e) => encodeEpisode(e, tokenizer, { context: 24 })), tokenizer.special.pad);
const ILQL = { ...defaultsOf(ILQL_SPEC), awacBeta: 0.5, polyak: 0.1 };
const OPTIM = { ...defaultsOf(OPTIM_SPEC), lr: 3e-3, weightDecay: 0.01, gradClip: 1 };

function modelConfig(layout: "separate" | "shared", tiedLmHead: boolean): ModelConfig {
  return { ...defaultsOf(MODEL_SPEC), layout, tiedLmHead, width: 16, layers: 2, heads: 2, context: 24, dropout: 0 };
}

/** A model after `steps` ILQL updates, so weights, targets and AdamW moments are all non-trivial. */
function trainedState(config: ModelConfig, steps = 3): IlqlState {
  const model = new IlqlModel(config, tokenizer.vocabSize, new Prng(1));
  let state = initIlqlState(model, ILQL, makeOptimizer(model, ILQL, OPTIM), new Prng(2));
  for (let i = 0; i < steps; i++) state = ilqlUpdate(state, [batch]).state;
  return state;
}

function metaOf(state: IlqlState, extra?: Record<string, unknown>): CheckpointMeta {
  const meta: CheckpointMeta = {
    step: state.step,
    config: { model: { ...state.model.config }, ilql: { ...ILQL }, optim: { ...OPTIM } },
    tokenizer: tokenizer.toJSON(),
  };
  if (extra !== undefined) meta.extra = extra;
  return meta;
}

/** Every variable's raw bytes, by name. */
function bytesOf(vars: Map<string, tf.Variable>): Map<string, { shape: number[]; bytes: Uint8Array }> {
  return new Map(
    [...vars].map(([name, v]) => {
      const data = v.dataSync() as Float32Array;
      return [name, { shape: [...v.shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }];
    }),
  );
}

function assertSameBytes(
  actual: Map<string, tf.Variable>,
  expected: Map<string, tf.Variable>,
  what: string,
): void {
  const a = bytesOf(actual), e = bytesOf(expected);
  assert.deepEqual([...a.keys()], [...e.keys()], `${what}: variable names`);
  for (const [name, want] of e) {
    const got = a.get(name)!;
    assert.deepEqual(got.shape, want.shape, `${what}: shape of ${name}`);
    assert.ok(
      got.bytes.length === want.bytes.length && got.bytes.every((b, i) => b === want.bytes[i]),
      `${what}: ${name} differs`,
    );
  }
}

async function withTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ilql-checkpoint-test-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

function disposeAll(...states: Array<IlqlState | Checkpoint | null>): void {
  for (const s of states) {
    if (s === null) continue;
    s.model.dispose();
    if ("optimizer" in s) s.optimizer.dispose();
  }
}

for (const layout of ["separate", "shared"] as const) {
  for (const tied of [true, false]) {
    const label = `${layout}, ${tied ? "tied" : "untied"} LM head`;

    Deno.test(`loadCheckpoint() restores every weight, the metadata and the optimizer exactly (${label})`, async () => {
      await withTempDir(async (dir) => {
        const state = trainedState(modelConfig(layout, tied));
        const path = `${dir}/model.safetensors`;
        const extra = { sampler: { epoch: 2, order: [2, 0, 1] }, note: "ünïcode ✓", nothing: null };
        await saveCheckpoint(path, state.model, metaOf(state, extra), state.optimizer);
        assert.deepEqual(await listDir(dir), ["model.safetensors"], "temporary files left behind");
        const loaded = await loadCheckpoint(path);

        // weights: same names, shapes and bytes; lm_head present exactly when untied
        assertSameBytes(loaded.model.variables(), state.model.variables(), "model");
        assert.equal(loaded.model.variables().has("lm_head"), !tied);
        assert.equal(loaded.model.variables().has("target.wte"), layout === "separate");
        assert.deepEqual(
          [...loaded.model.trainableVariables().keys()],
          [...state.model.trainableVariables().keys()],
          "trainable flags",
        );
        assert.deepEqual(loaded.model.config, state.model.config);
        assert.deepEqual(loaded.model.shape, state.model.shape);

        // metadata
        assert.equal(loaded.step, 3);
        assert.deepEqual(loaded.config, metaOf(state).config);
        assert.deepEqual(loaded.tokenizer, tokenizer.toJSON());
        assert.equal(loaded.tokenizerInstance.vocabSize, tokenizer.vocabSize);
        assert.deepEqual(loaded.tokenizerInstance.encode("ab<g>h"), tokenizer.encode("ab<g>h"));
        assert.deepEqual(loaded.extra, extra);

        // the optimizer: moments were really non-zero, and come back bit for bit with the step count
        const moments = state.optimizer.state();
        assert.ok(
          [...moments.values()].some((m) => m.dataSync().some((x) => x !== 0)),
          "moments are all zero; the test would be vacuous",
        );
        assert.equal(loaded.optimizerSteps, 3);
        assert.equal(loaded.optimizerState.size, moments.size);
        const optimizer = makeOptimizer(loaded.model, ILQL, OPTIM);
        restoreOptimizer(optimizer, loaded, path);
        assert.equal(optimizer.steps, 3);
        assertSameBytes(optimizer.state(), moments, "optimizer");

        // one more update from the original and from the restored state gives identical weights and info
        const restored = initIlqlState(loaded.model, ILQL, optimizer, new Prng(2));
        restored.step = loaded.step;
        const a = ilqlUpdate(state, [batch]);
        const b = ilqlUpdate(restored, [batch]);
        assert.deepEqual(b.info, a.info);
        assert.equal(b.state.step, a.state.step);
        assertSameBytes(loaded.model.variables(), state.model.variables(), "after one more update");
        assertSameBytes(optimizer.state(), state.optimizer.state(), "moments after one more update");
        disposeAll(state, restored);
      });
    });
  }
}

Deno.test("saveCheckpoint() without an optimizer or extra stores none, and restoreOptimizer() then names a moment", async () => {
  await withTempDir(async (dir) => {
    const state = trainedState(modelConfig("shared", true), 1);
    const path = `${dir}/weights.safetensors`;
    await saveCheckpoint(path, state.model, metaOf(state));
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.optimizerState.size, 0);
    assert.equal(loaded.optimizerSteps, 0);
    assert.equal("extra" in loaded, false);
    assertSameBytes(loaded.model.variables(), state.model.variables(), "model");
    const optimizer = makeOptimizer(loaded.model, ILQL, OPTIM);
    assert.throws(() => restoreOptimizer(optimizer, loaded, path), (e: Error) => {
      assert.match(e.message, /lacks tensor 'optim\.m\.trunk\.wte'/);
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      return true;
    });
    optimizer.dispose();
    disposeAll(state, loaded);
  });
});

Deno.test("saveCheckpoint() over an existing checkpoint replaces it and leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const first = trainedState(modelConfig("separate", false), 1);
    const second = trainedState(modelConfig("shared", true), 2);
    const path = `${dir}/ckpt.safetensors`;
    await saveCheckpoint(path, first.model, metaOf(first, { run: 1 }), first.optimizer);
    await saveCheckpoint(path, second.model, metaOf(second, { run: 2 }), second.optimizer);
    assert.deepEqual(await listDir(dir), ["ckpt.safetensors"]);
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.step, 2);
    assert.deepEqual(loaded.extra, { run: 2 });
    assert.equal(loaded.model.config.layout, "shared");
    assertSameBytes(loaded.model.variables(), second.model.variables(), "model");
    // into a directory that does not exist yet
    const nested = `${dir}/a/b/c.safetensors`;
    await saveCheckpoint(nested, first.model, metaOf(first));
    assert.deepEqual(await listDir(`${dir}/a/b`), ["c.safetensors"]);
    disposeAll(first, second, loaded);
  });
});

Deno.test("loadCheckpoint() of a safetensors file without the checkpoint format names the path", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/plain.safetensors`;
    const data = new Float32Array([1, 2, 3, 4]);
    await Deno.writeFile(path, encodeSafetensors({ "trunk.wte": { dtype: "F32", shape: [2, 2], data } }));
    await assert.rejects(loadCheckpoint(path), (e: Error) => {
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, /not an ilql-bench checkpoint/);
      return true;
    });
    const other = `${dir}/other.safetensors`;
    await Deno.writeFile(other, encodeSafetensors({}, { format: "something-else/3" }));
    await assert.rejects(loadCheckpoint(other), (e: Error) => {
      assert.equal(e.message, `${other}: not an ilql-bench checkpoint (format 'something-else/3')`);
      return true;
    });
    await assert.rejects(loadCheckpoint(`${dir}/missing.safetensors`), Deno.errors.NotFound);
  });
});

Deno.test("loadCheckpoint() with a config of another width names the tensor and both shapes", async () => {
  await withTempDir(async (dir) => {
    const state = trainedState(modelConfig("separate", true), 1);
    const path = `${dir}/wide.safetensors`;
    const meta = metaOf(state);
    meta.config.model = { ...state.model.config, width: 8 };
    await saveCheckpoint(path, state.model, meta, state.optimizer);
    await assert.rejects(loadCheckpoint(path), (e: Error) => {
      assert.equal(
        e.message,
        `${path}: tensor 'value.wte' has shape [${tokenizer.vocabSize},16], the model expects [${tokenizer.vocabSize},8]`,
      );
      return true;
    });
    disposeAll(state);
  });
});

Deno.test({
  name: "loadCheckpoint() that fails on a shape leaves no tensors behind",
  fn: async () => {
    await withTempDir(async (dir) => {
      const state = trainedState(modelConfig("separate", true), 1);
      const path = `${dir}/wide.safetensors`;
      const meta = metaOf(state);
      meta.config.model = { ...state.model.config, width: 8 };
      await saveCheckpoint(path, state.model, meta, state.optimizer);
      const before = tf.memory();
      await assert.rejects(loadCheckpoint(path), /has shape/);
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors, "tensors");
      assert.equal(after.numBytes, before.numBytes, "bytes");
      disposeAll(state);
    });
  },
});

Deno.test("loadCheckpoint() of a truncated file fails with a message starting with the path", async () => {
  await withTempDir(async (dir) => {
    const state = trainedState(modelConfig("shared", false), 1);
    const path = `${dir}/full.safetensors`;
    await saveCheckpoint(path, state.model, metaOf(state), state.optimizer);
    const bytes = await Deno.readFile(path);
    for (const keep of [bytes.length - 4, Math.floor(bytes.length / 2), 100, 5]) {
      const cut = `${dir}/cut-${keep}.safetensors`;
      await Deno.writeFile(cut, bytes.subarray(0, keep));
      await assert.rejects(loadCheckpoint(cut), (e: Error) => {
        assert.ok(e.message.startsWith(`${cut}: `), `${keep} bytes: ${e.message}`);
        assert.ok(!e.message.includes("\n"), e.message);
        return true;
      });
    }
    disposeAll(state);
  });
});

Deno.test("loadCheckpoint() names a missing tensor and an unexpected one", async () => {
  await withTempDir(async (dir) => {
    const state = trainedState(modelConfig("separate", false), 1);
    const path = `${dir}/full.safetensors`;
    await saveCheckpoint(path, state.model, metaOf(state), state.optimizer);
    const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path), path);

    const missing = `${dir}/missing.safetensors`;
    const { "heads.q2.out.b": _dropped, ...rest } = tensors;
    await Deno.writeFile(missing, encodeSafetensors(rest, metadata));
    await assert.rejects(loadCheckpoint(missing), (e: Error) => {
      assert.equal(e.message, `${missing}: checkpoint lacks tensor 'heads.q2.out.b'`);
      return true;
    });

    const surplus = `${dir}/surplus.safetensors`;
    const stray = { dtype: "F32" as const, shape: [1], data: new Float32Array([0]) };
    await Deno.writeFile(surplus, encodeSafetensors({ ...tensors, "value.h9.ln1.g": stray }, metadata));
    await assert.rejects(loadCheckpoint(surplus), /'value\.h9\.ln1\.g'/);

    // the moments are checked when restored: a missing one is named too
    const noMoment = `${dir}/no-moment.safetensors`;
    const { "optim.v.lm_head": _v, ...withoutMoment } = tensors;
    await Deno.writeFile(noMoment, encodeSafetensors(withoutMoment, metadata));
    const loaded = await loadCheckpoint(noMoment);
    const optimizer = makeOptimizer(loaded.model, ILQL, OPTIM);
    assert.throws(() => restoreOptimizer(optimizer, loaded, noMoment), /lacks tensor 'optim\.v\.lm_head'/);
    optimizer.dispose();
    disposeAll(state, loaded);
  });
});
