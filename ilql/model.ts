/**
 * The ILQL network (spec 2): transformer trunks plus a policy LM head, a V head, two Q heads and their target
 * copies. Layout `separate` is the paper's: value, target and policy transformers, all copies of one initial model;
 * the target trunk and target Q heads follow the value trunk and Q heads by Polyak averaging. Layout `shared`
 * (trlx-style) has one trunk feeding every head; only the Q heads have target copies, applied to the same hidden
 * states with the gradient stopped.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { bool, choice, type ConfigOf, int, num, optionalNum, str } from "./config.ts";
import { linear, matMul } from "./ops.ts";
import type { Prng } from "./prng.ts";
import {
  checkShape,
  initWeights,
  seedsOf,
  type TransformerShape,
  type TrunkWeights,
  weightShapes,
} from "./transformer.ts";

/** Model config: sizes and layout. The vocabulary size comes from the tokenizer. */
export const MODEL_SPEC = {
  layout: choice(
    "separate = value, target and policy transformers (paper); shared = one trunk for all heads (trlx)",
    "separate",
    ["separate", "shared"] as const,
  ),
  width: int("Hidden size of the transformer", 128, { min: 1 }),
  layers: int("Number of transformer blocks", 4, { min: 1 }),
  heads: int("Attention heads per block; must divide width", 4, { min: 1 }),
  context: int("Maximum sequence length in tokens (learned positions)", 128, { min: 2 }),
  dropout: num("Dropout on embeddings, attention and residuals while training (GPT-2: 0.1)", 0.1, { min: 0, max: 0.9 }),
  tiedLmHead: bool("The policy LM head reuses the policy trunk's token embedding (GPT-2)", true),
  init: str(
    "A GPT-2 folder (Hugging Face layout: config.json, model.safetensors, vocab.json, merges.txt) every trunk starts " +
      "from, its token embeddings mapped to the task's tokens; '' = random weights",
    "",
  ),
  headHiddenMultiple: int("Hidden width of the V and Q head MLPs as a multiple of width (paper: 2)", 2, { min: 1 }),
  valueMax: optionalNum(
    "Upper clip of Q̄ (the min of the target Q heads) wherever it is read: V's target, the advantage, decoding and " +
      "diagnostics; none = no clip [value_max]",
    null,
  ),
  valueMin: optionalNum("Lower clip of Q̄, as valueMax; none = no clip [value_min]", null),
  returnConditioned: bool(
    "Decision Transformer: a Linear(1→width) embedding of the episode's return sits in front of the tokens",
    false,
  ),
};

/** Model config record. */
export type ModelConfig = ConfigOf<typeof MODEL_SPEC>;

/** Weights of a model of this config: all of them, and those an optimizer may train (the target's are copies). */
export function weightCounts(config: ModelConfig, vocabSize: number): { total: number; trainable: number } {
  const { width: D, layers, heads, context } = config;
  const trunk = Object.values(weightShapes({ vocabSize, width: D, layers, heads, context }))
    .reduce((sum, dims) => sum + dims.reduce((a, b) => a * b, 1), 0);
  const hidden = D * config.headHiddenMultiple;
  const head = (out: number) => D * hidden + hidden + hidden * out + out;
  const trainable = (config.layout === "separate" ? 2 : 1) * trunk + head(1) + 2 * head(vocabSize) +
    (config.tiedLmHead ? 0 : D * vocabSize) + (config.returnConditioned ? 2 * D : 0);
  const frozen = (config.layout === "separate" ? trunk : 0) + 2 * head(vocabSize);
  return { total: trainable + frozen, trainable };
}

/** Positions the tokens may use: the context, less the return embedding's slot of a return-conditioned model. */
export function tokenContextOf(config: ModelConfig): number {
  return config.context - (config.returnConditioned ? 1 : 0);
}

/** Weights of a two-layer MLP head: Linear(d, hd) → ReLU → Linear(hd, out). */
export interface HeadWeights {
  "fc.w": tf.Variable;
  "fc.b": tf.Variable;
  "out.w": tf.Variable;
  "out.b": tf.Variable;
}

/** Which trunk a computation reads. */
export type TrunkRole = "value" | "target" | "policy";

/** Prefix of each trunk's variables in checkpoints, per layout. */
const TRUNK_NAMES = {
  separate: { value: "value", target: "target", policy: "policy" },
  shared: { value: "trunk", target: null, policy: "trunk" },
} as const;

function variable(values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  // tidy frees the initial tensor; the variable keeps its own reference to the data
  return tf.tidy(() => tf.variable(tf.tensor(values, shape), trainable));
}

type HeadInit = Record<keyof HeadWeights, Float32Array>;

function headInit(inDim: number, hidden: number, out: number, prng: Prng): HeadInit {
  // torch nn.Linear's default init: U(-1/√fan_in, 1/√fan_in) for weights and biases (the reference heads use it)
  const uniform = (n: number, fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return Float32Array.from({ length: n }, () => (2 * prng.next() - 1) * bound);
  };
  return {
    "fc.w": uniform(inDim * hidden, inDim),
    "fc.b": uniform(hidden, inDim),
    "out.w": uniform(hidden * out, hidden),
    "out.b": uniform(out, hidden),
  };
}

/** Applies an MLP head: `[N, D]` → `[N, out]`. */
export function applyHead(head: HeadWeights, x: tf.Tensor): tf.Tensor2D {
  return linear(tf.relu(linear(x, head["fc.w"], head["fc.b"])), head["out.w"], head["out.b"]);
}

/**
 * ILQL transformers and heads as tfjs variables. All trunks start as copies of one initial transformer and the
 * target Q heads as copies of the Q heads (spec 2.1).
 */
export class IlqlModel {
  readonly config: ModelConfig;
  readonly shape: TransformerShape;
  /** Trunk variables by checkpoint prefix (`value`, `target`, `policy` or `trunk`). */
  readonly trunks: Readonly<Record<string, Record<string, tf.Variable>>>;
  readonly heads: Readonly<
    { v: HeadWeights; q1: HeadWeights; q2: HeadWeights; targetQ1: HeadWeights; targetQ2: HeadWeights }
  >;
  /** Untied LM head `[D, V]`, or null when tied to the policy trunk's embedding. */
  readonly lmHead: tf.Variable | null;
  /** Return embedding `R·w + b` (`w` `[1, D]`, `b` `[D]`) of a return-conditioned model, else null. */
  readonly returnEmbedding: { w: tf.Variable; b: tf.Variable } | null;

  /**
   * @param source the generator the initial weights are drawn from (in a fixed order), or the initial weights by
   * checkpoint name: one seed's shapes, or S seeds stacked on a leading axis ({@link IlqlModel.stack})
   */
  constructor(config: ModelConfig, vocabSize: number, source: Prng | ReadonlyMap<string, tf.Tensor>) {
    this.config = config;
    this.shape = {
      vocabSize,
      width: config.width,
      layers: config.layers,
      heads: config.heads,
      context: config.context,
    };
    checkShape(this.shape);
    const given = source instanceof Map ? source as ReadonlyMap<string, tf.Tensor> : null;
    const prng = given === null ? source as Prng : null;
    const make = (name: string, shape: number[], trainable: boolean, drawn: () => Float32Array): tf.Variable => {
      if (given === null) return variable(drawn(), shape, trainable);
      const t = given.get(name);
      if (t === undefined) throw new Error(`initial weights lack '${name}'`);
      return tf.variable(t, trainable);
    };
    const shapes = weightShapes(this.shape);
    const init = prng === null ? null : initWeights(this.shape, prng);
    const trunks: Record<string, Record<string, tf.Variable>> = {};
    const names = TRUNK_NAMES[config.layout];
    for (const role of ["value", "target", "policy"] as const) {
      const name = names[role];
      if (name === null || trunks[name]) continue;
      trunks[name] = Object.fromEntries(
        Object.keys(shapes).map((k) => [k, make(`${name}.${k}`, shapes[k]!, role !== "target", () => init![k]!)]),
      );
    }
    this.trunks = trunks;
    const D = config.width;
    const hidden = D * config.headHiddenMultiple;
    const draw = (out: number) => prng === null ? null : headInit(D, hidden, out, prng);
    const [vInit, q1Init, q2Init] = [draw(1), draw(vocabSize), draw(vocabSize)];
    const head = (name: string, drawn: HeadInit | null, out: number, trainable: boolean): HeadWeights => {
      const dims = { "fc.w": [D, hidden], "fc.b": [hidden], "out.w": [hidden, out], "out.b": [out] };
      const entries = (Object.keys(dims) as Array<keyof HeadWeights>).map((
        k,
      ) => [k, make(`heads.${name}.${k}`, dims[k], trainable, () => drawn![k])]);
      return Object.fromEntries(entries) as HeadWeights;
    };
    this.heads = {
      v: head("v", vInit, 1, true),
      q1: head("q1", q1Init, vocabSize, true),
      q2: head("q2", q2Init, vocabSize, true),
      targetQ1: head("target_q1", q1Init, vocabSize, false),
      targetQ2: head("target_q2", q2Init, vocabSize, false),
    };
    this.lmHead = config.tiedLmHead
      ? null
      : make("lm_head", [D, vocabSize], true, () =>
        Float32Array.from({ length: D * vocabSize }, () =>
          0.02 * prng!.normal()));
    this.returnEmbedding = config.returnConditioned
      ? {
        w: make(
          "return_embedding.w",
          [1, D],
          true,
          () => Float32Array.from({ length: D }, () => 0.02 * prng!.normal()),
        ),
        b: make("return_embedding.b", [D], true, () => new Float32Array(D)),
      }
      : null;
  }

  /**
   * One model whose every weight stacks the given models' on a leading seed axis (`[S, ...]`): S seeds trained as
   * one computation (`run.ts` trainSeeds). Copies the weights; the given models stay as they are.
   */
  static stack(models: readonly IlqlModel[]): IlqlModel {
    const first = models[0]!;
    const names = [...first.variables().keys()];
    const tensors = new Map(names.map((n) => [n, tf.tidy(() => tf.stack(models.map((m) => m.variables().get(n)!)))]));
    try {
      return new IlqlModel(first.config, first.shape.vocabSize, tensors);
    } finally {
      tf.dispose([...tensors.values()]);
    }
  }

  /** Seeds stacked in the weights ({@link IlqlModel.stack}); 1 for an ordinary model. */
  get seeds(): number {
    return seedsOf(this.trunk("policy")!);
  }

  /** Seed `s`'s model of a stacked model, as an ordinary model with copies of its weights. */
  unstack(s: number): IlqlModel {
    const tensors = new Map([...this.variables()].map(([n, v]) => [n, tf.gather(v, s)]));
    try {
      return new IlqlModel(this.config, this.shape.vocabSize, tensors);
    } finally {
      tf.dispose([...tensors.values()]);
    }
  }

  /** `[B, D]` return embeddings of a return-conditioned model to pass as `forward`'s prefix; undefined otherwise. */
  returnPrefix(returns: ArrayLike<number>): tf.Tensor2D | undefined {
    const e = this.returnEmbedding;
    if (e === null) return undefined;
    return linear(tf.tensor2d(Float32Array.from(returns), [returns.length, 1]), e.w, e.b);
  }

  /** Positions the tokens may use ({@link tokenContextOf}). */
  get tokenContext(): number {
    return tokenContextOf(this.config);
  }

  /** The trunk a role reads, or null for the target role in the shared layout. */
  trunk(role: TrunkRole): TrunkWeights | null {
    const name = TRUNK_NAMES[this.config.layout][role];
    return name === null ? null : this.trunks[name]!;
  }

  /**
   * Q̄ at rows of target-trunk features `[N, D]`: the min of the two target Q heads `[N, V]`, clipped to
   * [`valueMin`, `valueMax`] as the reference clips its target Qs (a known bound on the return keeps bootstrapped
   * values from drifting past it).
   */
  targetQ(hidden: tf.Tensor2D): tf.Tensor2D {
    let q = tf.minimum(applyHead(this.heads.targetQ1, hidden), applyHead(this.heads.targetQ2, hidden)) as tf.Tensor2D;
    if (this.config.valueMin !== null) q = tf.maximum(q, this.config.valueMin);
    if (this.config.valueMax !== null) q = tf.minimum(q, this.config.valueMax);
    return q;
  }

  /** Policy logits from policy-trunk hidden states: `[N, D]` → `[N, V]`. */
  policyLogits(hidden: tf.Tensor): tf.Tensor2D {
    if (this.lmHead !== null) return matMul(hidden, this.lmHead);
    const wte = this.trunk("policy")!.wte!;
    return matMul(hidden, wte.rank === 3 ? tf.transpose(wte, [0, 2, 1]) : tf.transpose(wte)); // tied: h·wteᵀ
  }

  /** Every variable by checkpoint name (`value.h0.attn.q.w`, `heads.q1.fc.w`, `lm_head`, …). */
  variables(): Map<string, tf.Variable> {
    // a copy: the weights never change identity, but the update asks for them every step
    return new Map(this.#variables ??= this.#collectVariables());
  }

  #variables: Map<string, tf.Variable> | undefined;

  #collectVariables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [trunk, weights] of Object.entries(this.trunks)) {
      for (const [k, v] of Object.entries(weights)) out.set(`${trunk}.${k}`, v);
    }
    const headNames = { v: "v", q1: "q1", q2: "q2", targetQ1: "target_q1", targetQ2: "target_q2" } as const;
    for (const [key, head] of Object.entries(this.heads)) {
      for (const [k, v] of Object.entries(head)) out.set(`heads.${headNames[key as keyof typeof headNames]}.${k}`, v);
    }
    if (this.lmHead !== null) out.set("lm_head", this.lmHead);
    if (this.returnEmbedding !== null) {
      out.set("return_embedding.w", this.returnEmbedding.w);
      out.set("return_embedding.b", this.returnEmbedding.b);
    }
    return out;
  }

  /** The variables the optimizer updates (everything but the targets). */
  trainableVariables(): Map<string, tf.Variable> {
    return new Map([...this.variables()].filter(([, v]) => v.trainable));
  }

  /** Variables of the policy trunk, LM head and return embedding (what BC trains in the separate layout). */
  policyVariableNames(): Set<string> {
    const prefix = `${TRUNK_NAMES[this.config.layout].policy}.`;
    return new Set(
      [...this.variables().keys()].filter((k) =>
        k.startsWith(prefix) || k === "lm_head" || k.startsWith("return_embedding.")
      ),
    );
  }

  /** (target, online) pairs that Polyak averaging ties together. */
  polyakPairs(): Array<[tf.Variable, tf.Variable]> {
    const pairs: Array<[tf.Variable, tf.Variable]> = [];
    const h = this.heads;
    for (const [t, o] of [[h.targetQ1, h.q1], [h.targetQ2, h.q2]] as const) {
      for (const k of Object.keys(t) as Array<keyof HeadWeights>) pairs.push([t[k], o[k]]);
    }
    const target = this.trunks.target;
    if (target !== undefined) {
      const value = this.trunks.value!;
      for (const k of Object.keys(target)) pairs.push([target[k]!, value[k]!]);
    }
    return pairs;
  }

  /** Frees every variable. */
  dispose(): void {
    for (const v of this.variables().values()) v.dispose();
  }
}
