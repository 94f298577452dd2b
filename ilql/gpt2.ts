/**
 * GPT-2 weights in the Hugging Face folder layout (`config.json`, `model.safetensors`), read with the project's
 * safetensors reader (never the network) and mapped into the project's transformer, which is GPT-2's (learned
 * positions, pre-LN blocks, the tanh GELU, layer norm eps 1e-5, the LM head tied to the token embedding), and a
 * trained policy written back to that layout so it loads in the Python ecosystem.
 *
 * Hugging Face stores GPT-2's linear maps as `Conv1D` weights `[in, out]` (the project's order) and fuses Q, K and V
 * into one `c_attn` `[D, 3D]`, which the project keeps as three `[D, D]` projections.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { decodeSafetensors, encodeSafetensors, type StoredTensor, writeFileAtomic } from "./safetensors.ts";
import type { IlqlModel } from "./model.ts";
import { Gpt2Tokenizer } from "./bpe.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { type TransformerShape, weightShapes } from "./transformer.ts";

/** What the project reads of a GPT-2 `config.json`. */
export interface Gpt2Config {
  vocabSize: number;
  width: number;
  layers: number;
  heads: number;
  /** Learned positions. */
  context: number;
}

/** A GPT-2 folder's transformer: its shape and weights under the project's names (`wte`, `h0.attn.q.w`, …). */
export interface Gpt2Weights {
  config: Gpt2Config;
  trunk: Record<string, StoredTensor>;
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

/**
 * The shape a GPT-2 `config.json` describes; the architecture's variants the project does not implement are refused.
 * @throws one line naming the file and the key
 */
export function parseGpt2Config(text: string, where: string): Gpt2Config {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(where, `not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const int = (key: string) => {
    const v = raw[key];
    if (!Number.isInteger(v) || (v as number) < 1) {
      fail(where, `'${key}' must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const expect = (key: string, allowed: unknown[]) => {
    if (raw[key] !== undefined && !allowed.includes(raw[key])) {
      fail(
        where,
        `'${key}' is ${JSON.stringify(raw[key])}; the project's transformer implements ${
          allowed.map((a) => JSON.stringify(a)).join(" or ")
        }`,
      );
    }
  };
  if (raw.model_type !== undefined && raw.model_type !== "gpt2") {
    fail(where, `'model_type' must be "gpt2", got ${JSON.stringify(raw.model_type)}`);
  }
  expect("activation_function", ["gelu_new"]);
  expect("layer_norm_epsilon", [1e-5]);
  expect("tie_word_embeddings", [true]);
  expect("scale_attn_weights", [true]);
  expect("scale_attn_by_inverse_layer_idx", [false]);
  expect("reorder_and_upcast_attn", [false]);
  const config = {
    vocabSize: int("vocab_size"),
    width: int("n_embd"),
    layers: int("n_layer"),
    heads: int("n_head"),
    context: int("n_positions"),
  };
  if (raw.n_inner !== undefined && raw.n_inner !== null && raw.n_inner !== 4 * config.width) {
    fail(where, `'n_inner' must be 4 × n_embd (${4 * config.width}), got ${JSON.stringify(raw.n_inner)}`);
  }
  if (config.width % config.heads !== 0) fail(where, `n_head ${config.heads} does not divide n_embd ${config.width}`);
  return config;
}

/** Hugging Face names of layer `i`'s weights that map one to one (the fused `c_attn` is split apart). */
function layerNames(i: number): Array<[string, string]> {
  return [
    [`h.${i}.ln_1.weight`, `h${i}.ln1.g`],
    [`h.${i}.ln_1.bias`, `h${i}.ln1.b`],
    [`h.${i}.attn.c_proj.weight`, `h${i}.attn.proj.w`],
    [`h.${i}.attn.c_proj.bias`, `h${i}.attn.proj.b`],
    [`h.${i}.ln_2.weight`, `h${i}.ln2.g`],
    [`h.${i}.ln_2.bias`, `h${i}.ln2.b`],
    [`h.${i}.mlp.c_fc.weight`, `h${i}.mlp.fc.w`],
    [`h.${i}.mlp.c_fc.bias`, `h${i}.mlp.fc.b`],
    [`h.${i}.mlp.c_proj.weight`, `h${i}.mlp.proj.w`],
    [`h.${i}.mlp.c_proj.bias`, `h${i}.mlp.proj.b`],
  ];
}

const GLOBAL_NAMES: Array<[string, string]> = [
  ["wte.weight", "wte"],
  ["wpe.weight", "wpe"],
  ["ln_f.weight", "lnf.g"],
  ["ln_f.bias", "lnf.b"],
];

/**
 * Reads a GPT-2 folder's `config.json` and `model.safetensors` into the project's names (a `transformer.` prefix, as
 * `GPT2LMHeadModel` saves, is dropped; `lm_head.weight`, tied to `wte`, and the attention-mask buffers are ignored).
 * @throws one line naming the file and the tensor when a weight is missing or of the wrong shape
 */
export function readGpt2(dir: string): Gpt2Weights {
  const configPath = `${dir}/config.json`, weightsPath = `${dir}/model.safetensors`;
  let configText: string, bytes: Uint8Array;
  try {
    configText = Deno.readTextFileSync(configPath);
    bytes = Deno.readFileSync(weightsPath);
  } catch (e) {
    fail(dir, `not a GPT-2 folder (${(e as Error).message.split("\n")[0]})`);
  }
  const config = parseGpt2Config(configText, configPath);
  const { tensors } = decodeSafetensors(bytes, weightsPath);
  const stored = new Map(Object.entries(tensors).map(([k, v]) => [k.replace(/^transformer\./, ""), v]));
  const shapes = weightShapes(config as TransformerShape);
  const take = (name: string, shape: number[]): StoredTensor => {
    const t = stored.get(name);
    if (t === undefined) fail(weightsPath, `lacks tensor '${name}'`);
    if (t.dtype !== "F32") fail(weightsPath, `tensor '${name}' is ${t.dtype}; F32 weights are read`);
    if (t.shape.join(",") !== shape.join(",")) {
      fail(weightsPath, `tensor '${name}' has shape [${t.shape}], the config says [${shape}]`);
    }
    return t;
  };
  const trunk: Record<string, StoredTensor> = {};
  const D = config.width;
  for (let i = 0; i < config.layers; i++) {
    for (const [hf, ours] of layerNames(i)) trunk[ours] = take(hf, shapes[ours]!);
    // c_attn: [D, 3D] = [q | k | v] along the output axis
    const w = take(`h.${i}.attn.c_attn.weight`, [D, 3 * D]).data as Float32Array;
    const b = take(`h.${i}.attn.c_attn.bias`, [3 * D]).data as Float32Array;
    ["q", "k", "v"].forEach((part, p) => {
      const pw = new Float32Array(D * D);
      for (let r = 0; r < D; r++) pw.set(w.subarray(r * 3 * D + p * D, r * 3 * D + (p + 1) * D), r * D);
      trunk[`h${i}.attn.${part}.w`] = { dtype: "F32", shape: [D, D], data: pw };
      trunk[`h${i}.attn.${part}.b`] = { dtype: "F32", shape: [D], data: b.slice(p * D, (p + 1) * D) };
    });
  }
  for (const [hf, ours] of GLOBAL_NAMES) trunk[ours] = take(hf, shapes[ours]!);
  return { config, trunk };
}

/**
 * Sets every trunk of `model` (value, target and policy, or the shared one) to the GPT-2 weights. The model's shape
 * must be the checkpoint's; its heads stay as they are.
 * @throws when the shapes differ
 */
export function assignGpt2(model: IlqlModel, weights: Gpt2Weights): void {
  const { config } = weights;
  const ours = model.shape;
  for (const key of ["vocabSize", "width", "layers", "heads", "context"] as const) {
    if (ours[key] !== config[key]) {
      throw new Error(`the model's ${key} is ${ours[key]}, the GPT-2 checkpoint's ${config[key]}`);
    }
  }
  if (model.lmHead !== null) throw new Error("GPT-2 ties its LM head to the token embedding: set model.tiedLmHead");
  setTrunks(model, (name) => weights.trunk[name]!.data as Float32Array);
}

/** Sets every trunk of `model` (value, target and policy, or the shared one) to the same weights, by name. */
function setTrunks(model: IlqlModel, weight: (name: string) => Float32Array): void {
  for (const trunk of Object.values(model.trunks)) {
    for (const [name, variable] of Object.entries(trunk)) {
      tf.tidy(() => variable.assign(tf.tensor(weight(name), variable.shape, "float32")));
    }
  }
}

/**
 * Writes `model`'s policy transformer as a GPT-2 folder (`config.json`, `model.safetensors` with `GPT2Model` names):
 * what `transformers.GPT2LMHeadModel.from_pretrained(dir)` loads, its LM head tied to `wte`.
 * @throws when the model's LM head is not tied (GPT-2 has no separate one)
 */
export async function writeGpt2(dir: string, model: IlqlModel): Promise<void> {
  if (model.lmHead !== null) throw new Error("GPT-2 ties its LM head to the token embedding: the model's is untied");
  const trunk = model.trunk("policy")!;
  const read = (name: string) => trunk[name]!.dataSync() as Float32Array;
  const { width: D, layers, heads, context, vocabSize } = model.shape;
  const tensors: Record<string, StoredTensor> = {};
  const put = (name: string, shape: number[], data: Float32Array) => {
    tensors[name] = { dtype: "F32", shape, data: Float32Array.from(data) };
  };
  const shapes = weightShapes(model.shape);
  for (const [hf, ours] of GLOBAL_NAMES) put(hf, shapes[ours]!, read(ours));
  for (let i = 0; i < layers; i++) {
    for (const [hf, ours] of layerNames(i)) put(hf, shapes[ours]!, read(ours));
    const [q, k, v] = ["q", "k", "v"].map((p) => read(`h${i}.attn.${p}.w`));
    const w = new Float32Array(D * 3 * D);
    for (let r = 0; r < D; r++) {
      [q!, k!, v!].forEach((part, p) => w.set(part.subarray(r * D, (r + 1) * D), r * 3 * D + p * D));
    }
    put(`h.${i}.attn.c_attn.weight`, [D, 3 * D], w);
    const b = new Float32Array(3 * D);
    ["q", "k", "v"].forEach((p, j) => b.set(read(`h${i}.attn.${p}.b`), j * D));
    put(`h.${i}.attn.c_attn.bias`, [3 * D], b);
  }
  await Deno.mkdir(dir, { recursive: true });
  const config = {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: vocabSize,
    n_embd: D,
    n_layer: layers,
    n_head: heads,
    n_positions: context,
    n_inner: null,
    activation_function: "gelu_new",
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
  };
  await writeFileAtomic(`${dir}/config.json`, `${JSON.stringify(config, null, 2)}\n`);
  await writeFileAtomic(`${dir}/model.safetensors`, encodeSafetensors(tensors, { format: "pt" }));
}

/**
 * Checks that a model config can start from the GPT-2 folder `dir` (same width, layers and heads; no more positions
 * than it has), reading only its config.json.
 * @throws one line naming `model.init` and the key that differs
 */
export function checkGpt2Init(dir: string, model: { width: number; layers: number; heads: number; context: number }) {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dir}/config.json`);
  } catch (e) {
    throw new Error(`model.init ${dir}: not a GPT-2 folder (${(e as Error).message.split("\n")[0]})`);
  }
  checkGpt2Shape(dir, parseGpt2Config(text, `${dir}/config.json`), model);
}

function checkGpt2Shape(
  dir: string,
  config: Gpt2Config,
  model: { width: number; layers: number; heads: number; context: number },
): void {
  for (const key of ["width", "layers", "heads"] as const) {
    if (model[key] !== config[key]) {
      throw new Error(
        `model.init ${dir} has ${key} ${config[key]}: set model.${key}=${config[key]} (it is ${model[key]})`,
      );
    }
  }
  if (model.context > config.context) {
    throw new Error(`model.context ${model.context} is more than the ${config.context} positions of model.init ${dir}`);
  }
}

/**
 * Starts every trunk of `model` from the GPT-2 folder `dir`: the blocks and final layer norm as they are, the first
 * `context` positions, and the token embeddings mapped to `tokenizer`: a GPT-2 tokenizer of the same vocabulary takes
 * the rows as they are; any other tokenizer takes, for each token, the mean of the GPT-2 rows of its text under the
 * folder's BPE (one row for a piece GPT-2 has whole). The project's special tokens keep their random rows.
 * @throws when the folder cannot be read or its shape differs (as {@link checkGpt2Init} words it)
 */
export function initFromGpt2(model: IlqlModel, dir: string, tokenizer: Tokenizer): void {
  const { config, trunk } = readGpt2(dir);
  checkGpt2Shape(dir, config, model.shape);
  const D = config.width;
  const gpt2Wte = trunk.wte!.data as Float32Array;
  const specials = new Set(Object.values(tokenizer.special));
  const gpt2 = tokenizer instanceof Gpt2Tokenizer && tokenizer.vocabSize === config.vocabSize + 6
    ? null
    : Gpt2Tokenizer.fromFolder(dir);
  // every trunk starts as a copy of one transformer, so the special tokens' random rows are the same in each
  const wte = Float32Array.from(Object.values(model.trunks)[0]!.wte!.dataSync() as Float32Array);
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (specials.has(id)) continue;
    const ids = gpt2 === null ? [id] : gpt2.encode(tokenizer.decode([id]));
    if (ids.length === 0) continue;
    for (let d = 0; d < D; d++) {
      let sum = 0;
      for (const g of ids) sum += gpt2Wte[g * D + d]!;
      wte[id * D + d] = sum / ids.length;
    }
  }
  const wpe = (trunk.wpe!.data as Float32Array).subarray(0, model.shape.context * D);
  setTrunks(model, (name) => name === "wte" ? wte : name === "wpe" ? wpe : trunk[name]!.data as Float32Array);
}
