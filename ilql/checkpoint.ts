/**
 * Checkpoints in the safetensors format: every model variable (and optionally the optimizer moments) as F32
 * tensors, with a JSON metadata header holding the format version, the resolved config, the tokenizer and the
 * step. Files are written atomically (temporary file, then rename), so a crash never leaves a half checkpoint.
 * @module
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { IlqlModel, MODEL_SPEC } from "./model.ts";
import { resolveConfig } from "./config.ts";
import type { AdamW } from "./optim.ts";
import { Prng } from "./prng.ts";
import { decodeSafetensors, encodeSafetensors, type StoredTensor, writeFileAtomic } from "./safetensors.ts";
import { type Tokenizer, tokenizerFromJSON, type TokenizerJSON } from "./tokenizer.ts";

const FORMAT = "ilql-bench-checkpoint/1";

/** What a checkpoint holds besides the weights. */
export interface CheckpointMeta {
  /** Optimizer steps taken when it was written. */
  step: number;
  /** The run's resolved config; `config.model` rebuilds the network. */
  config: { model: Record<string, unknown>; [section: string]: unknown };
  tokenizer: TokenizerJSON;
  /** Anything else the writer wants to keep (e.g. data-sampler state). */
  extra?: Record<string, unknown>;
}

/** A loaded checkpoint. */
export interface Checkpoint extends CheckpointMeta {
  model: IlqlModel;
  tokenizerInstance: Tokenizer;
  /** Optimizer moments by name (`optim.m.<var>`), to hand to {@link restoreOptimizer}. */
  optimizerState: Map<string, StoredTensor>;
  optimizerSteps: number;
}

/** Writes model (and optimizer) weights plus metadata to `path`, atomically. */
export async function saveCheckpoint(
  path: string,
  model: IlqlModel,
  meta: CheckpointMeta,
  optimizer?: AdamW,
): Promise<void> {
  const tensors: Record<string, StoredTensor> = {};
  const vars = new Map<string, tf.Tensor>(model.variables());
  if (optimizer) { for (const [k, v] of optimizer.state()) vars.set(k, v); }
  for (const [name, v] of vars) {
    tensors[name] = { dtype: "F32", shape: [...v.shape], data: v.dataSync() as Float32Array };
  }
  const metadata: Record<string, string> = {
    format: FORMAT,
    step: String(meta.step),
    config: JSON.stringify(meta.config),
    tokenizer: JSON.stringify(meta.tokenizer),
    vocab_size: String(model.shape.vocabSize),
    optimizer_steps: String(optimizer?.steps ?? 0),
  };
  if (meta.extra) metadata.extra = JSON.stringify(meta.extra);
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * SHA-256 (hex) of a checkpoint's tensors (names, types, shapes and bytes) without its metadata, which holds things
 * like the training time: two trainings that computed the same weights have the same digest.
 * @throws with `path` named when the bytes are not a safetensors file
 */
export function weightsDigest(bytes: Uint8Array, path: string): string {
  const { tensors } = decodeSafetensors(bytes, path);
  const hash = createHash("sha256");
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    hash.update(`${name}:${t.dtype}:${t.shape.join("x")};`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest("hex");
}

function parseJson(text: string | undefined, field: string, path: string): unknown {
  if (text === undefined) throw new Error(`${path}: checkpoint metadata lacks '${field}'`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path}: checkpoint metadata '${field}' is not valid JSON`);
  }
}

/**
 * Reads a checkpoint and rebuilds its model with the stored weights.
 * @throws with the path named when the file is not a checkpoint of this format or its tensors do not fit
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path), path);
  if (metadata.format !== FORMAT) {
    throw new Error(`${path}: not an ilql-bench checkpoint (format '${metadata.format ?? "none"}')`);
  }
  const config = parseJson(metadata.config, "config", path) as CheckpointMeta["config"];
  const tokenizerJson = parseJson(metadata.tokenizer, "tokenizer", path) as TokenizerJSON;
  const tokenizer = tokenizerFromJSON(tokenizerJson);
  const modelConfig = resolveConfig(MODEL_SPEC, config?.model ?? {}, "model");
  const model = new IlqlModel(modelConfig, tokenizer.vocabSize, new Prng(0));
  try {
    assignVariables(model.variables(), tensors, path);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const optimizerState = new Map(Object.entries(tensors).filter(([k]) => k.startsWith("optim.")));
  const loaded: Checkpoint = {
    step: Number(metadata.step ?? 0),
    config,
    tokenizer: tokenizerJson,
    model,
    tokenizerInstance: tokenizer,
    optimizerState,
    optimizerSteps: Number(metadata.optimizer_steps ?? 0),
  };
  if (metadata.extra !== undefined) loaded.extra = parseJson(metadata.extra, "extra", path) as Record<string, unknown>;
  return loaded;
}

/** Puts checkpoint moments into an optimizer built for the same model. */
export function restoreOptimizer(optimizer: AdamW, checkpoint: Checkpoint, path = "checkpoint"): void {
  assignVariables(optimizer.state(), Object.fromEntries(checkpoint.optimizerState), path);
  optimizer.steps = checkpoint.optimizerSteps;
}

function assignVariables(vars: Map<string, tf.Variable>, tensors: Record<string, StoredTensor>, path: string): void {
  for (const [name, v] of vars) {
    const stored = tensors[name];
    if (stored === undefined) throw new Error(`${path}: checkpoint lacks tensor '${name}'`);
    if (stored.shape.join(",") !== v.shape.join(",")) {
      throw new Error(`${path}: tensor '${name}' has shape [${stored.shape}], the model expects [${v.shape}]`);
    }
    if (stored.dtype !== "F32") throw new Error(`${path}: tensor '${name}' is ${stored.dtype}, expected F32`);
  }
  const prefix = [...vars.keys()][0]?.startsWith("optim.") ? "optim." : "";
  for (const name of Object.keys(tensors)) {
    if (!vars.has(name) && (prefix === "" ? !name.startsWith("optim.") : name.startsWith(prefix))) {
      throw new Error(`${path}: checkpoint has tensor '${name}' that the model does not`);
    }
  }
  tf.tidy(() => {
    for (const [name, v] of vars) v.assign(tf.tensor(tensors[name]!.data, v.shape));
  });
}
