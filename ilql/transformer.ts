/**
 * GPT-2-style causal transformer (pre-LN blocks, GELU MLP, learned positions), written bottom-up in the spirit of
 * nanoGPT. It knows nothing about RL: it maps token ids to final hidden states (after the last layer norm, which
 * is what every ILQL head reads, spec 2.1) and supports incremental decoding with a key/value cache.
 *
 * Weights are stored `[in, out]` (x·W). Q, K and V are separate projections rather than one fused matrix so no
 * split is needed (tfjs-wasm's SplitV is slow); the function is the same as GPT-2's fused QKV.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { attention, dropout, type DropoutContext, gelu, layerNorm, linear, projectHeads } from "./ops.ts";
import type { Prng } from "./prng.ts";

/** Sizes of a transformer. */
export interface TransformerShape {
  vocabSize: number;
  width: number;
  layers: number;
  heads: number;
  /** Number of learned positions (maximum sequence length). */
  context: number;
}

/** Weights of one transformer by name (`wte`, `h0.attn.q.w`, …, `lnf.b`). */
export type TrunkWeights = Readonly<Record<string, tf.Tensor>>;

/** Per-layer keys and values of the tokens seen so far: `[B, H, S, head size]` each. */
export interface KVCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** S, the number of cached positions. */
  length: number;
}

/**
 * Checks that the sizes make a valid transformer.
 * @param prefix put before each size's name in messages (e.g. `model.` to name the config keys)
 */
export function checkShape(shape: TransformerShape, prefix = ""): void {
  for (const key of ["vocabSize", "width", "layers", "heads", "context"] as const) {
    if (!Number.isInteger(shape[key]) || shape[key] < 1) throw new Error(`${prefix}${key} must be a positive integer`);
  }
  if (shape.width % shape.heads !== 0) {
    throw new Error(`${prefix}heads ${shape.heads} does not divide ${prefix}width ${shape.width}`);
  }
}

/** Name → shape of every weight. */
export function weightShapes(shape: TransformerShape): Record<string, number[]> {
  const { vocabSize: V, width: D, layers: L, context: C } = shape;
  const out: Record<string, number[]> = { wte: [V, D], wpe: [C, D] };
  for (let i = 0; i < L; i++) {
    const h = `h${i}`;
    Object.assign(out, {
      [`${h}.ln1.g`]: [D],
      [`${h}.ln1.b`]: [D],
      [`${h}.attn.q.w`]: [D, D],
      [`${h}.attn.q.b`]: [D],
      [`${h}.attn.k.w`]: [D, D],
      [`${h}.attn.k.b`]: [D],
      [`${h}.attn.v.w`]: [D, D],
      [`${h}.attn.v.b`]: [D],
      [`${h}.attn.proj.w`]: [D, D],
      [`${h}.attn.proj.b`]: [D],
      [`${h}.ln2.g`]: [D],
      [`${h}.ln2.b`]: [D],
      [`${h}.mlp.fc.w`]: [D, 4 * D],
      [`${h}.mlp.fc.b`]: [4 * D],
      [`${h}.mlp.proj.w`]: [4 * D, D],
      [`${h}.mlp.proj.b`]: [D],
    });
  }
  out["lnf.g"] = [D];
  out["lnf.b"] = [D];
  return out;
}

/** GPT-2 initial weights: N(0, 0.02), residual projections N(0, 0.02/√(2L)), zero biases, unit LN gains. */
export function initWeights(shape: TransformerShape, prng: Prng): Record<string, Float32Array> {
  checkShape(shape);
  const out: Record<string, Float32Array> = {};
  const residualStd = 0.02 / Math.sqrt(2 * shape.layers);
  for (const [name, dims] of Object.entries(weightShapes(shape))) {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (name.endsWith(".g")) values.fill(1);
    else if (!name.endsWith(".b")) {
      const std = name.endsWith("proj.w") ? residualStd : 0.02;
      for (let i = 0; i < values.length; i++) values[i] = std * prng.normal();
    }
    out[name] = values;
  }
  return out;
}

/**
 * How many seeds a set of weights stacks: 1, or S when every weight has a leading seed axis (`wte` `[S, V, D]`), as
 * `run.ts` trainSeeds trains them. Stacked weights take a batch of S equal blocks of rows, block s for seed s.
 */
export function seedsOf(w: TrunkWeights): number {
  return w.wte!.rank === 3 ? w.wte!.shape[0]! : 1;
}

/** The token embedding as rows: `[V, D]`, or stacked `[S·V, D]`. */
function embeddingRows(wte: tf.Tensor): tf.Tensor2D {
  return tf.reshape(wte, [-1, wte.shape[wte.rank - 1]!]);
}

/** `[B, T]` token ids as flat rows of {@link embeddingRows}: block s of the batch offset by s·V. */
function seedTokens(tokens: tf.Tensor2D, S: number, vocabSize: number): tf.Tensor1D {
  const [B, T] = tokens.shape;
  if (S === 1) return tf.reshape(tokens, [B * T]);
  if (B % S !== 0) throw new Error(`a batch of ${B} rows does not split into ${S} stacked seeds`);
  const offsets = tf.tensor3d(Array.from({ length: S }, (_, s) => s * vocabSize), [S, 1, 1], "int32");
  return tf.reshape(tf.add(tf.reshape(tokens, [S, B / S, T]), offsets), [B * T]);
}

const causalMasks = new Map<number, tf.Tensor2D>();

/** [T, T] additive mask: 0 on and below the diagonal, -1e9 above (kept for the process lifetime). */
function causalMask(T: number): tf.Tensor2D {
  let mask = causalMasks.get(T);
  if (mask === undefined) {
    const values = new Float32Array(T * T);
    for (let i = 0; i < T; i++) values.fill(-1e9, i * T + i + 1, (i + 1) * T);
    mask = tf.keep(tf.tensor2d(values, [T, T]));
    causalMasks.set(T, mask);
  }
  return mask;
}

interface BlockInput {
  x: tf.Tensor2D; // [B·Tq, D]
  B: number;
  /** Additive attention mask broadcastable to [B, H, Tq, S]. */
  mask: tf.Tensor;
  past?: { keys: tf.Tensor4D; values: tf.Tensor4D };
  dropout: DropoutContext | undefined;
}

function block(w: TrunkWeights, i: number, shape: TransformerShape, inp: BlockInput) {
  const { B, mask } = inp;
  const H = shape.heads;
  const g = (name: string) => w[`h${i}.${name}`]!;
  const a = layerNorm(inp.x, g("ln1.g"), g("ln1.b")); // [B·Tq, D]
  const q = projectHeads(a, g("attn.q.w"), g("attn.q.b"), B, H); // [B, H, Tq, hd]
  let k = projectHeads(a, g("attn.k.w"), g("attn.k.b"), B, H); // [B, H, Tq, hd]
  let v = projectHeads(a, g("attn.v.w"), g("attn.v.b"), B, H); // [B, H, Tq, hd]
  if (inp.past) {
    k = tf.concat([inp.past.keys, k], 2); // [B, H, S, hd]
    v = tf.concat([inp.past.values, v], 2); // [B, H, S, hd]
  }
  const y = attention(q, k, v, mask, 1 / Math.sqrt(shape.width / H), inp.dropout); // [B·Tq, D]
  let x = tf.add(inp.x, dropout(linear(y, g("attn.proj.w"), g("attn.proj.b")), inp.dropout)); // [B·Tq, D]
  const m = gelu(linear(layerNorm(x, g("ln2.g"), g("ln2.b")), g("mlp.fc.w"), g("mlp.fc.b"))); // [B·Tq, 4D]
  x = tf.add(x, dropout(linear(m, g("mlp.proj.w"), g("mlp.proj.b")), inp.dropout)); // [B·Tq, D]
  return { x: x as tf.Tensor2D, keys: k, values: v };
}

/** Options of {@link forward}. */
export interface ForwardOptions {
  /** Dropout during training; omit for evaluation. */
  dropout?: DropoutContext | undefined;
  /** Also return the key/value cache, for incremental decoding afterwards. */
  cache?: boolean;
  /**
   * `[B, D]` one embedding per row placed in front of the tokens at position 0 (the Decision Transformer's return
   * embedding); the tokens then take positions 1…T and the returned hidden states still cover only the tokens.
   */
  prefix?: tf.Tensor2D | undefined;
}

/**
 * Full causal forward pass.
 * @param tokens `[B, T]` int32 token ids, T ≤ context
 * @returns `hidden`: `[B·T, D]` final hidden states after `lnf` (row `b·T + t`), and the cache when asked (it
 * includes the prefix slot)
 */
export function forward(
  w: TrunkWeights,
  shape: TransformerShape,
  tokens: tf.Tensor2D,
  options: ForwardOptions = {},
): { hidden: tf.Tensor2D; cache?: KVCache } {
  const [B, tokenCount] = tokens.shape;
  const prefix = options.prefix;
  const T = tokenCount + (prefix ? 1 : 0); // positions used
  if (T > shape.context) throw new Error(`sequence of ${T} tokens exceeds the model context of ${shape.context}`);
  const D = shape.width;
  const S = seedsOf(w);
  let tok = tf.reshape(tf.gather(embeddingRows(w.wte!), seedTokens(tokens, S, shape.vocabSize)), [B, tokenCount, D]); // [B, T', D]
  if (prefix) tok = tf.concat([tf.reshape(prefix, [B, 1, D]), tok], 1); // [B, T, D]
  const pos = tf.slice(w.wpe!, [...w.wpe!.shape.slice(0, -2).map(() => 0), 0, 0], [...w.wpe!.shape.slice(0, -2), T, D]); // [(S,) T, D]
  // stacked seeds: row block s of the batch adds seed s's positions
  let x = tf.reshape(tf.add(tf.reshape(tok, [S, B / S, T, D]), tf.reshape(pos, [S, 1, T, D])), [
    B * T,
    D,
  ]) as tf.Tensor2D; // [B·T, D]
  x = dropout(x, options.dropout) as tf.Tensor2D;
  const mask = causalMask(T);
  const cache: KVCache = { keys: [], values: [], length: T };
  for (let i = 0; i < shape.layers; i++) {
    const out = block(w, i, shape, { x, B, mask, dropout: options.dropout });
    x = out.x;
    if (options.cache) {
      cache.keys.push(out.keys);
      cache.values.push(out.values);
    }
  }
  let hidden = layerNorm(x, w["lnf.g"]!, w["lnf.b"]!) as tf.Tensor2D; // [B·T, D]
  if (prefix) hidden = tf.reshape(tf.slice(tf.reshape(hidden, [B, T, D]), [0, 1, 0], [B, tokenCount, D]), [-1, D]); // [B·T', D]
  return options.cache ? { hidden, cache } : { hidden };
}

/**
 * One incremental step: each row feeds one token at its own position, attending to the cached keys plus itself.
 * @param tokens `[B]` token ids
 * @param positions `[B]` position of each token (rows may be at different positions)
 * @param keyMask `[B, 1, 1, S+1]` additive mask over the cached slots plus the new one (0 = visible, -1e9 = not)
 * @returns `hidden` `[B, D]` and the cache extended by one slot (the old cache's tensors are not disposed)
 */
export function decodeStep(
  w: TrunkWeights,
  shape: TransformerShape,
  cache: KVCache,
  tokens: tf.Tensor1D,
  positions: tf.Tensor1D,
  keyMask: tf.Tensor4D,
): { hidden: tf.Tensor2D; cache: KVCache } {
  const B = tokens.shape[0];
  if (seedsOf(w) !== 1) throw new Error("decoding reads one seed's weights, not stacked ones (unstack them first)");
  let x = tf.add(tf.gather(w.wte!, tokens), tf.gather(w.wpe!, positions)) as tf.Tensor2D; // [B, D]
  const next: KVCache = { keys: [], values: [], length: cache.length + 1 };
  for (let i = 0; i < shape.layers; i++) {
    const past = { keys: cache.keys[i]!, values: cache.values[i]! };
    const out = block(w, i, shape, { x, B, mask: keyMask, past, dropout: undefined });
    x = out.x;
    next.keys.push(out.keys);
    next.values.push(out.values);
  }
  return { hidden: layerNorm(x, w["lnf.g"]!, w["lnf.b"]!) as tf.Tensor2D, cache: next };
}
