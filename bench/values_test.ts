import assert from "node:assert/strict";
import { testBackend } from "../ilql/_test_util.ts";
import { saveCheckpoint } from "../ilql/checkpoint.ts";
import { defaultsOf } from "../ilql/config.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { Prng } from "../ilql/prng.ts";
import { CharTokenizer } from "../ilql/tokenizer.ts";
import { table, utteranceRows } from "./values.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SCRIPT = new URL("./values.ts", import.meta.url).pathname;

await testBackend(1);

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", `--config=${CONFIG}`, "-A", SCRIPT, "--threads", "1", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task values prints each utterance's log π, advantages and Q̄ from a checkpoint; bad input is one line", async () => {
  const tokenizer = new CharTokenizer({ alphabet: "abcdefgh" });
  const model = new IlqlModel(
    { ...defaultsOf(MODEL_SPEC), width: 16, layers: 1, heads: 2, context: 24, dropout: 0, valueMax: 0.05 },
    tokenizer.vocabSize,
    new Prng(5),
  );
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/c.safetensors`;
    const config = { model: { ...model.config }, decode: { beta: 3 } };
    await saveCheckpoint(path, model, { step: 0, config, tokenizer: tokenizer.toJSON() });
    const history = [{ kind: "state" as const, text: "ab" }];
    const expected = utteranceRows(model, tokenizer, history, ["cab", "h"]);
    // the table of what the functions compute, with the checkpoint's β
    const ok = await run([path, "cab", "h", "--history", JSON.stringify(history)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), table(expected, 3));
    assert.equal(expected[0]!.advantages.length, 4); // three letters and </a>
    assert.ok(expected.every((r) => r.lastQ <= 0.05 + 1e-6)); // the model's clip
    assert.match((await run([path, "h", "--beta", "8"])).stdout, /at β 8 \|/);
    // bad input: one line naming what is wrong, before any model is read
    for (
      const [args, message] of [
        [[path], /give a checkpoint and at least one utterance/],
        [[`${dir}/none.safetensors`, "a"], /none\.safetensors: no such checkpoint/],
        [[path, "a", "--history", "{"], /--history is not valid JSON/],
        [[path, "a", "--history", '[{"kind":"x","text":""}]'], /--history: segment 0 kind must be/],
        [[path, "a", "--beta", "-1"], /--beta must be a number >= 0/],
      ] as const
    ) {
      const bad = await run([...args]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
      assert.equal(bad.stderr.trim().split("\n").length, 1);
    }
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
