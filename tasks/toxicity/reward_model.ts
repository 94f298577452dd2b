/**
 * The `upvotes-model` reward: a reply classifier the project trains on the dataset (the paper fine-tuned RoBERTa on
 * its test split's labels 1[score > 0]). A small causal transformer reads `<s>parent</s>reply</a>` and a linear
 * head on the last token's hidden state predicts whether the reply's score is positive; trained with
 * binary cross-entropy and AdamW, seeded.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigOf, defaultsOf, int, num, resolveConfig } from "../../ilql/config.ts";
import { encodeSegments } from "../../ilql/episode.ts";
import { AdamW, OPTIM_SPEC } from "../../ilql/optim.ts";
import { Prng } from "../../ilql/prng.ts";
import type { Tokenizer } from "../../ilql/tokenizer.ts";
import { forward, initWeights, type TransformerShape, weightShapes } from "../../ilql/transformer.ts";
import type { Thread } from "./threads.ts";

/** Reply-classifier config. */
export const REWARD_MODEL_SPEC = {
  width: int("Hidden size", 64, { min: 1 }),
  layers: int("Transformer blocks", 2, { min: 1 }),
  heads: int("Attention heads", 2, { min: 1 }),
  context: int("Most tokens of parent plus reply", 128, { min: 2 }),
  steps: int("Optimizer steps", 600, { min: 0 }),
  batchSize: int("Threads per step", 64, { min: 1 }),
  lr: num("Learning rate (AdamW)", 1e-3, { above: 0 }),
  seed: int("Seed of initialisation and batches", 0),
};

/** Reply-classifier config record. */
export type RewardModelConfig = ConfigOf<typeof REWARD_MODEL_SPEC>;

function threadTokens(thread: Pick<Thread, "parent" | "comment">, tokenizer: Tokenizer, context: number): number[] {
  const tokens = encodeSegments([{ kind: "state", text: thread.parent }, {
    kind: "action",
    text: thread.comment,
    reward: 0,
  }], tokenizer);
  // keep the reply's end: the last token is what the head reads
  return tokens.length <= context ? tokens : tokens.slice(tokens.length - context);
}

/** A trained reply classifier: P(score > 0 | parent, reply). */
export class ReplyClassifier {
  readonly shape: TransformerShape;
  readonly #trunk: Record<string, tf.Variable>;
  readonly #head: { w: tf.Variable; b: tf.Variable };

  constructor(readonly config: RewardModelConfig, readonly tokenizer: Tokenizer, prng: Prng) {
    this.shape = {
      vocabSize: tokenizer.vocabSize,
      width: config.width,
      layers: config.layers,
      heads: config.heads,
      context: config.context,
    };
    const shapes = weightShapes(this.shape);
    this.#trunk = Object.fromEntries(
      Object.entries(initWeights(this.shape, prng)).map(([k, v]) => [k, tf.variable(tf.tensor(v, shapes[k]!))]),
    );
    this.#head = {
      w: tf.variable(
        tf.tensor2d(Float32Array.from({ length: config.width }, () => 0.02 * prng.normal()), [config.width, 1]),
      ),
      b: tf.variable(tf.zeros([1])),
    };
  }

  /** Every trained variable by name. */
  variables(): Map<string, tf.Variable> {
    return new Map([...Object.entries(this.#trunk), ["head.w", this.#head.w], ["head.b", this.#head.b]]);
  }

  /** Logits `[B]` of a batch of threads (inside a tidy). */
  logits(threads: ReadonlyArray<Pick<Thread, "parent" | "comment">>): tf.Tensor1D {
    const seqs = threads.map((t) => threadTokens(t, this.tokenizer, this.config.context));
    const B = seqs.length;
    const T = Math.max(...seqs.map((s) => s.length));
    const flat = new Int32Array(B * T).fill(this.tokenizer.special.pad);
    seqs.forEach((s, b) => flat.set(s, b * T));
    const last = Int32Array.from(seqs, (s, b) => b * T + s.length - 1);
    const h = forward(this.#trunk, this.shape, tf.tensor2d(flat, [B, T], "int32")).hidden; // [B·T, D]
    const pooled = tf.gather(h, tf.tensor1d(last, "int32")); // [B, D]
    return tf.reshape(tf.add(tf.matMul(pooled, this.#head.w), this.#head.b), [B]) as tf.Tensor1D;
  }

  /** P(score > 0) of each thread, in batches. */
  predict(threads: ReadonlyArray<Pick<Thread, "parent" | "comment">>, batchSize = 256): number[] {
    const out: number[] = [];
    for (let i = 0; i < threads.length; i += batchSize) {
      const p = tf.tidy(() => tf.sigmoid(this.logits(threads.slice(i, i + batchSize))));
      out.push(...p.dataSync());
      p.dispose();
    }
    return out;
  }

  /** Fraction of threads whose label 1[score > 0] the classifier gets right (threshold ½). */
  accuracy(threads: readonly Thread[]): number {
    const p = this.predict(threads);
    return threads.filter((t, i) => (p[i]! >= 0.5) === (t.score > 0)).length / threads.length;
  }

  dispose(): void {
    for (const v of this.variables().values()) v.dispose();
  }
}

/**
 * Trains a reply classifier on threads (labels 1[score > 0]); returns it with the mean loss of each 100 steps.
 * @param overrides config fields (unknown keys and wrong types throw)
 */
export function trainReplyClassifier(
  threads: readonly Thread[],
  tokenizer: Tokenizer,
  overrides: Partial<RewardModelConfig> = {},
): { model: ReplyClassifier; losses: number[] } {
  const config = resolveConfig(REWARD_MODEL_SPEC, overrides, "rewardModel");
  if (threads.length === 0) throw new Error("the reply classifier needs at least one thread");
  const prng = new Prng(config.seed);
  const model = new ReplyClassifier(config, tokenizer, prng.fork());
  const optimizer = new AdamW(model.variables(), { ...defaultsOf(OPTIM_SPEC), lr: config.lr });
  const order = prng.fork();
  const losses: number[] = [];
  let window = 0;
  let indices: number[] = [];
  for (let step = 1; step <= config.steps; step++) {
    if (indices.length < config.batchSize) indices = indices.concat(order.shuffle([...threads.keys()]));
    const batch = indices.splice(0, config.batchSize).map((i) => threads[i]!);
    const labels = tf.tensor1d(batch.map((t) => (t.score > 0 ? 1 : 0)));
    const { value, grads } = tf.variableGrads(
      () => tf.losses.sigmoidCrossEntropy(labels, model.logits(batch)) as tf.Scalar,
      [...model.variables().values()],
    );
    window += value.dataSync()[0]!;
    optimizer.apply(new Map([...model.variables()].map(([name, v]) => [name, grads[v.name]!])));
    tf.dispose([value, labels, ...Object.values(grads)]);
    if (step % 100 === 0 || step === config.steps) {
      losses.push(window / (step % 100 === 0 ? 100 : step % 100));
      window = 0;
    }
  }
  optimizer.dispose();
  return { model, losses };
}
