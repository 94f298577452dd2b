/**
 * Value-guided decoding (spec 5; the reference's `IQL_Policy.sample_raw`): at each token,
 *   logits = topK/topP(policy logits / temperature) + min(β·(Q̄(s,·) − V(s)), advClip)
 * with Q̄ the min of the target Q heads and V the online V head; then greedy argmax or sampling. With β = 0 this
 * is plain decoding from the policy head. Optionally N samples per prompt are reranked by summed advantage.
 * Rows are decoded together, each at its own position, with a key/value cache per transformer.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { bool, choice, type ConfigOf, int, num, optionalNum } from "./config.ts";
import { encodeSegments, type Segment } from "./episode.ts";
import { applyHead, type IlqlModel } from "./model.ts";
import type { Prng } from "./prng.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { decodeStep, forward, type KVCache, type TrunkWeights } from "./transformer.ts";

// ---- config ----

/** Decoding config (reference names in brackets). */
export const DECODE_SPEC = {
  method: choice(
    "greedy = argmax (the paper's beam width 1); sample = draw from the distribution",
    "greedy",
    [
      "greedy",
      "sample",
    ] as const,
  ),
  beta: num("Advantage scale: policy logits + beta·(Q̄ − V); 0 = the policy head alone [adv_weight]", 8, { min: 0 }),
  temperature: num("Divides the policy logits before the advantage is added [temp]", 1, { above: 0 }),
  topK: int("Keep only the k most likely policy tokens; 0 = off [top_k]", 0, { min: 0 }),
  topP: num("Keep the smallest set of policy tokens holding this probability; 1 = off [top_p]", 1, {
    above: 0,
    max: 1,
  }),
  advClip: optionalNum("Upper clip of beta·(Q̄ − V); 0 lets values only veto tokens; none = no clip [adv_clip]", null),
  maxTokens: int("Most tokens per utterance, the stop token included [max_generation_len]", 32, { min: 1 }),
  samples: int("Utterances sampled per prompt and reranked by summed advantage; 1 = no reranking", 1, { min: 1 }),
  rerankLogProbWeight: num("Weight of the summed log-probability in the reranking score", 0),
  cache: bool("Decode incrementally with a key/value cache; false recomputes the prefix at every token", true),
  targetReturn: optionalNum(
    "Return a return-conditioned model (Decision Transformer) is conditioned on; none = the best return in its training data",
    null,
  ),
};

/** Decoding config record. */
export type DecodeConfig = ConfigOf<typeof DECODE_SPEC>;

/** One decoded utterance. */
export interface Generation {
  /** Generated token ids, the stop token included when it was produced. */
  tokens: number[];
  /** True when the utterance ended with the stop token (false: length or context limit). */
  stopped: boolean;
  /** Σ (Q̄ − V) of the chosen tokens (0 when no values were computed). */
  advantage: number;
  /** Σ log-probability of the chosen tokens under the decoding distribution. */
  logProb: number;
  /** Σ log-probability of the chosen tokens under the policy head (temperature 1). */
  policyLogProb: number;
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Token that ends an utterance (usually `</a>`). */
  stopToken: number;
  /** Token used to pad prompts (never attended to). */
  padToken: number;
  /** Randomness for sampling; required when method is `sample` or samples > 1. */
  prng?: Prng;
  /** Tokens that are never chosen (e.g. the special tokens that cannot occur inside an utterance). */
  banned?: readonly number[];
}

// ---- policy ----

interface StepOutputs {
  logits: Float32Array; // [B·V]
  qBar: Float32Array | null; // [B·V]
  v: Float32Array | null; // [B]
}

/** Distinct trunks decoding needs, and which one each role reads. */
function trunkPlan(model: IlqlModel, withValues: boolean) {
  const policy = model.trunk("policy")!;
  const value = model.trunk("value")!;
  const target = model.trunk("target") ?? value;
  const distinct = withValues ? [...new Set([policy, value, target])] : [policy];
  return { policy, value, target, distinct };
}

function readHeads(
  model: IlqlModel,
  hidden: Map<TrunkWeights, tf.Tensor2D>,
  plan: ReturnType<typeof trunkPlan>,
  withValues: boolean,
): StepOutputs {
  const tensors = tf.tidy(() => {
    const out: tf.Tensor[] = [model.policyLogits(hidden.get(plan.policy)!)]; // [B, V]
    if (withValues) {
      const hT = hidden.get(plan.target)!;
      out.push(model.targetQ(hT)); // [B, V]
      out.push(applyHead(model.heads.v, hidden.get(plan.value)!)); // [B, 1]
    }
    return out;
  });
  const arrays = tensors.map((t) => t.dataSync() as Float32Array);
  tf.dispose(tensors);
  return { logits: arrays[0]!, qBar: arrays[1] ?? null, v: arrays[2] ?? null };
}

function logSumExp(z: Float32Array | Float64Array): number {
  let max = -Infinity;
  for (const x of z) if (x > max) max = x;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const x of z) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/** Masks (−∞) policy tokens outside the top-k and the top-p nucleus, in place. */
function filterPolicy(z: Float64Array, topK: number, topP: number): void {
  if (topK > 0 && topK < z.length) {
    const kth = [...z].sort((a, b) => b - a)[topK - 1]!;
    let kept = 0;
    // ties at the threshold: keep the earliest ones so exactly k survive
    for (let i = 0; i < z.length; i++) {
      if (z[i]! > kth) kept++;
    }
    for (let i = 0; i < z.length; i++) {
      if (z[i]! < kth) z[i] = -Infinity;
      else if (z[i] === kth) {
        if (kept < topK) kept++;
        else z[i] = -Infinity;
      }
    }
  }
  if (topP < 1) {
    const lse = logSumExp(z);
    const order = [...z.keys()].sort((a, b) => z[b]! - z[a]! || a - b);
    let mass = 0;
    let cut = order.length;
    for (let r = 0; r < order.length; r++) {
      mass += Math.exp(z[order[r]!]! - lse);
      if (mass >= topP) {
        cut = r + 1;
        break;
      }
    }
    for (let r = cut; r < order.length; r++) z[order[r]!] = -Infinity;
  }
}

/** Chooses one row's next token; returns it with its log-probabilities and advantage. */
function chooseToken(
  out: StepOutputs,
  row: number,
  vocab: number,
  config: DecodeConfig,
  options: GenerateOptions,
) {
  const prng = options.prng;
  const policy = out.logits.subarray(row * vocab, (row + 1) * vocab);
  const z = new Float64Array(vocab);
  for (let i = 0; i < vocab; i++) z[i] = policy[i]! / config.temperature;
  for (const t of options.banned ?? []) z[t] = -Infinity;
  filterPolicy(z, config.topK, config.topP);
  const adv = new Float64Array(vocab);
  if (out.qBar !== null && out.v !== null) {
    const v = out.v[row]!;
    for (let i = 0; i < vocab; i++) adv[i] = out.qBar[row * vocab + i]! - v;
    if (config.beta !== 0) {
      for (let i = 0; i < vocab; i++) {
        const a = config.beta * adv[i]!;
        z[i]! += config.advClip === null ? a : Math.min(a, config.advClip);
      }
    }
  }
  const lse = logSumExp(z);
  let token = 0;
  const argmax = () => {
    let best = 0;
    for (let i = 1; i < vocab; i++) if (z[i]! > z[best]!) best = i;
    return best;
  };
  if (config.method === "greedy") token = argmax();
  else {
    if (prng === undefined) throw new Error("Sampling needs a prng");
    let u = prng.next();
    token = vocab - 1;
    for (let i = 0; i < vocab; i++) {
      u -= Math.exp(z[i]! - lse);
      if (u < 0) {
        token = i;
        break;
      }
    }
    if (z[token] === -Infinity) token = argmax(); // rounding guard: never pick a masked token
  }
  return {
    token,
    logProb: z[token]! - lse,
    policyLogProb: policy[token]! - logSumExp(policy),
    advantage: adv[token]!,
  };
}

/**
 * Decodes one utterance per prompt.
 * @param prompts token ids of each dialogue prefix (e.g. from `encodeSegments`)
 * @example
 * ```ts
 * import { generate, DECODE_SPEC, defaultsOf, IlqlModel, MODEL_SPEC, Prng, initBackend } from "../mod.ts";
 * await initBackend({ backend: "cpu" });
 * const model = new IlqlModel({ ...defaultsOf(MODEL_SPEC), width: 16, layers: 1, heads: 2, context: 16 }, 10, new Prng(0));
 * const [g] = generate(model, [[1, 5]], { ...defaultsOf(DECODE_SPEC), maxTokens: 3 }, { stopToken: 4, padToken: 0 });
 * console.log(g!.tokens.length <= 3);
 * model.dispose();
 * ```
 */
export function generate(
  model: IlqlModel,
  prompts: readonly number[][],
  config: DecodeConfig,
  options: GenerateOptions,
): Generation[] {
  if (config.samples === 1) return decodeRows(model, prompts, config, options);
  if (options.prng === undefined) throw new Error("Reranking several samples needs a prng");
  const expanded = prompts.flatMap((p) => Array.from({ length: config.samples }, () => p));
  const all = decodeRows(model, expanded, { ...config, method: "sample" }, options);
  return prompts.map((_, i) => {
    const group = all.slice(i * config.samples, (i + 1) * config.samples);
    const score = (g: Generation) => g.advantage + config.rerankLogProbWeight * g.logProb;
    return group.reduce((best, g) => (score(g) > score(best) ? g : best));
  });
}

function decodeRows(
  model: IlqlModel,
  prompts: readonly number[][],
  config: DecodeConfig,
  options: GenerateOptions,
): Generation[] {
  const { vocabSize: vocab } = model.shape;
  const context = model.tokenContext;
  const B = prompts.length;
  if (B === 0) return [];
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`Prompt ${i} is empty`);
    if (p.length >= context) {
      throw new Error(`Prompt ${i} of ${p.length} tokens leaves no room in the context of ${context}`);
    }
  });
  if (model.returnEmbedding !== null && config.targetReturn === null) {
    throw new Error("decode.targetReturn must be set to decode from a return-conditioned model");
  }
  const returns = new Float32Array(B).fill(config.targetReturn ?? 0);
  const withValues = config.beta !== 0 || config.samples > 1;
  const plan = trunkPlan(model, withValues);
  const lengths = prompts.map((p) => p.length);
  const limits = lengths.map((L) => Math.min(config.maxTokens, context - L));
  const results: Generation[] = prompts.map(() => ({
    tokens: [],
    stopped: false,
    advantage: 0,
    logProb: 0,
    policyLogProb: 0,
  }));
  const done = new Array<boolean>(B).fill(false);
  const stepper = config.cache
    ? new CachedStepper(model, plan.distinct, prompts, options.padToken, returns)
    : new RecomputeStepper(model, plan.distinct, prompts, options.padToken, returns);
  try {
    for (let g = 0;; g++) {
      const out = readHeads(model, stepper.hidden, plan, withValues);
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        const pick = chooseToken(out, b, vocab, config, options);
        const r = results[b]!;
        r.tokens.push(pick.token);
        r.logProb += pick.logProb;
        r.policyLogProb += pick.policyLogProb;
        r.advantage += pick.advantage;
        if (pick.token === options.stopToken) r.stopped = true;
        if (r.stopped || r.tokens.length >= limits[b]!) done[b] = true;
      }
      if (done.every(Boolean)) break;
      stepper.advance(results.map((r, b) => (done[b] ? options.padToken : r.tokens[r.tokens.length - 1]!)), done, g);
    }
  } finally {
    stepper.dispose();
  }
  return results;
}

/** Incremental decoding: one prefill, then one token per row per step against the cached keys and values. */
class CachedStepper {
  hidden = new Map<TrunkWeights, tf.Tensor2D>();
  #caches = new Map<TrunkWeights, KVCache>();
  #lengths: number[];
  #maxLen: number;
  /** Slots in front of the tokens (the return embedding of a return-conditioned model). */
  #offset: number;

  constructor(
    private model: IlqlModel,
    private trunks: TrunkWeights[],
    prompts: readonly number[][],
    pad: number,
    returns: Float32Array,
  ) {
    this.#lengths = prompts.map((p) => p.length);
    this.#maxLen = Math.max(...this.#lengths);
    this.#offset = model.returnEmbedding === null ? 0 : 1;
    const B = prompts.length;
    const L = this.#maxLen;
    const flat = new Int32Array(B * L).fill(pad);
    prompts.forEach((p, b) => flat.set(p, b * L));
    const last = Int32Array.from(this.#lengths, (n, b) => b * L + n - 1);
    for (const trunk of trunks) {
      const kept = tf.tidy(() => {
        const prefix = model.returnPrefix(returns);
        const tokens = tf.tensor2d(flat, [B, L], "int32");
        const { hidden, cache } = forward(trunk, model.shape, tokens, { cache: true, prefix });
        return [tf.gather(hidden, tf.tensor1d(last, "int32")), ...cache!.keys, ...cache!.values]; // [B, D], …
      });
      this.hidden.set(trunk, kept[0] as tf.Tensor2D);
      const n = model.shape.layers;
      this.#caches.set(trunk, {
        keys: kept.slice(1, 1 + n) as tf.Tensor4D[],
        values: kept.slice(1 + n) as tf.Tensor4D[],
        length: L + this.#offset,
      });
    }
  }

  advance(tokens: number[], done: boolean[], step: number): void {
    const B = tokens.length;
    const o = this.#offset;
    const S = o + this.#maxLen + step + 1; // cached slots after this step
    const mask = new Float32Array(B * S);
    const positions = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      // visible: the prefix, the row's prompt and every generated slot; hidden: the padding between them
      mask.fill(-1e9, b * S + o + this.#lengths[b]!, b * S + o + this.#maxLen);
      positions[b] = done[b] ? 0 : o + this.#lengths[b]! + step;
    }
    for (const trunk of this.trunks) {
      const cache = this.#caches.get(trunk)!;
      const kept = tf.tidy(() => {
        const out = decodeStep(
          trunk,
          this.model.shape,
          cache,
          tf.tensor1d(Int32Array.from(tokens), "int32"),
          tf.tensor1d(positions, "int32"),
          tf.tensor4d(mask, [B, 1, 1, S]),
        );
        return [out.hidden, ...out.cache.keys, ...out.cache.values];
      });
      tf.dispose([this.hidden.get(trunk)!, ...cache.keys, ...cache.values]);
      const n = this.model.shape.layers;
      this.hidden.set(trunk, kept[0] as tf.Tensor2D);
      this.#caches.set(trunk, {
        keys: kept.slice(1, 1 + n) as tf.Tensor4D[],
        values: kept.slice(1 + n) as tf.Tensor4D[],
        length: S,
      });
    }
  }

  dispose(): void {
    for (const t of this.hidden.values()) t.dispose();
    for (const c of this.#caches.values()) tf.dispose([...c.keys, ...c.values]);
  }
}

/** Reference path: recomputes every row's whole sequence at each step (no cache). */
class RecomputeStepper {
  hidden = new Map<TrunkWeights, tf.Tensor2D>();
  #sequences: number[][];

  constructor(
    private model: IlqlModel,
    private trunks: TrunkWeights[],
    prompts: readonly number[][],
    private pad: number,
    private returns: Float32Array,
  ) {
    this.#sequences = prompts.map((p) => [...p]);
    this.#run();
  }

  advance(tokens: number[], done: boolean[]): void {
    tokens.forEach((t, b) => {
      if (!done[b]) this.#sequences[b]!.push(t);
    });
    this.#run();
  }

  #run(): void {
    for (const t of this.hidden.values()) t.dispose();
    const B = this.#sequences.length;
    const L = Math.max(...this.#sequences.map((s) => s.length));
    const flat = new Int32Array(B * L).fill(this.pad);
    this.#sequences.forEach((s, b) => flat.set(s, b * L));
    const last = Int32Array.from(this.#sequences, (s, b) => b * L + s.length - 1);
    for (const trunk of this.trunks) {
      this.hidden.set(
        trunk,
        tf.tidy(() => {
          const prefix = this.model.returnPrefix(this.returns);
          const { hidden } = forward(trunk, this.model.shape, tf.tensor2d(flat, [B, L], "int32"), { prefix });
          return tf.gather(hidden, tf.tensor1d(last, "int32")) as tf.Tensor2D; // [B, D]
        }),
      );
    }
  }

  dispose(): void {
    for (const t of this.hidden.values()) t.dispose();
  }
}

/** A decoded utterance's text (without `</a>`) and its log-probability under the decoding distribution. */
export interface ScoredText {
  text: string;
  logProb: number;
}

/** Options of the text policies. */
export interface PolicyOptions {
  /**
   * A history longer than the context keeps its most recent tokens, leaving room for one utterance of
   * `maxTokens` (for multi-turn tasks whose games can outgrow the context). Off: such a history is an error, and an
   * utterance is cut short when the context fills.
   */
  recentWindow?: boolean;
}

/**
 * A batched policy that also reports each utterance's log-probability under the distribution it was decoded from
 * (for KL estimates): each dialogue history is serialised as the model saw it in training and one agent utterance
 * is decoded.
 */
export function scoredTextPolicy(
  model: IlqlModel,
  tokenizer: Tokenizer,
  config: DecodeConfig,
  prng?: Prng,
  policyOptions: PolicyOptions = {},
): (histories: readonly Segment[][]) => ScoredText[] {
  const sp = tokenizer.special;
  // an utterance never contains the dialogue's structural tokens, so they are never decoded
  const banned = [sp.pad, sp.bos, sp.eos, sp.boa, sp.eod];
  const options: GenerateOptions = { stopToken: sp.eoa, padToken: sp.pad, banned };
  if (prng !== undefined) options.prng = prng;
  const keep = model.tokenContext - Math.min(config.maxTokens, Math.floor(model.tokenContext / 2));
  return (histories) => {
    const prompts = histories.map((h) => {
      const tokens = encodeSegments(h, tokenizer);
      return policyOptions.recentWindow && tokens.length > keep ? tokens.slice(tokens.length - keep) : tokens;
    });
    return generate(model, prompts, config, options).map((g) => ({
      text: tokenizer.decode(g.stopped ? g.tokens.slice(0, -1) : g.tokens),
      logProb: g.logProb,
    }));
  };
}

/** A batched text policy: {@link scoredTextPolicy} without the log-probabilities. */
export function textPolicy(
  model: IlqlModel,
  tokenizer: Tokenizer,
  config: DecodeConfig,
  prng?: Prng,
  options: PolicyOptions = {},
): (histories: readonly Segment[][]) => string[] {
  const scored = scoredTextPolicy(model, tokenizer, config, prng, options);
  return (histories) => scored(histories).map((u) => u.text);
}
