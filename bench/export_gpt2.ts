/**
 * `deno task export:gpt2 CHECKPOINT DIR`: writes the policy of a run's checkpoint (`deno task bench
 * --keep-checkpoints` keeps them in `<out>/runs/<id>/checkpoint.safetensors`) as a Hugging Face GPT-2 folder:
 * `config.json` and `model.safetensors` (what `GPT2LMHeadModel.from_pretrained(DIR)` loads), plus the tokenizer:
 * `vocab.json` and `merges.txt` when the run used GPT-2's BPE, else `ilql_tokenizer.json` (the project's description
 * of it; its ids are the model's rows).
 * @module
 */
import { initBackend } from "../ilql/backend.ts";
import { loadCheckpoint } from "../ilql/checkpoint.ts";
import { parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { writeGpt2 } from "../ilql/gpt2.ts";
import { Gpt2Tokenizer } from "../ilql/bpe.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";

const HELP = `deno task export:gpt2 CHECKPOINT DIR

Writes the policy transformer of an ilql-bench checkpoint as a Hugging Face GPT-2 folder in DIR (config.json,
model.safetensors, and vocab.json + merges.txt for a GPT-2 BPE run, else ilql_tokenizer.json). The LM head must be
tied (model.tiedLmHead, the default), as GPT-2's is.`;

async function main() {
  const { values, positionals } = parseCommandLine(Deno.args, { help: { type: "boolean", default: false } }, {});
  if (values.help) return console.log(HELP);
  if (positionals.length !== 2) throw new UsageError("expected CHECKPOINT DIR (deno task export:gpt2 --help)");
  const [path, dir] = positionals as [string, string];
  await initBackend({ backend: "cpu" });
  const { model, tokenizerInstance: tokenizer } = await loadCheckpoint(path);
  try {
    await writeGpt2(dir, model);
    const json = tokenizer.toJSON();
    if (tokenizer instanceof Gpt2Tokenizer) {
      await writeFileAtomic(`${dir}/vocab.json`, JSON.stringify(json.vocab));
      await writeFileAtomic(`${dir}/merges.txt`, ["#version: 0.2", ...(json.merges as string[])].join("\n") + "\n");
    } else {
      await writeFileAtomic(`${dir}/ilql_tokenizer.json`, JSON.stringify(json, null, 1) + "\n");
    }
  } finally {
    model.dispose();
  }
  console.log(`wrote ${dir}/config.json, ${dir}/model.safetensors and the tokenizer`);
}

if (import.meta.main) await runMain(main);
