/**
 * Token-level values of given utterances, for diagnostics such as the Wordle Q-ranking of the paper (section 5):
 * for a dialogue history and the agent utterance that follows it, the Q values of each of the utterance's action
 * tokens (its text tokens and the closing `</a>`), from the online Q heads and from the target heads (Q̄, the min of
 * the two, which decoding and the V target use).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { encodeSegments, type Segment } from "./episode.ts";
import { applyHead, type IlqlModel } from "./model.ts";
import { selectAt } from "./loss.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { forward } from "./transformer.ts";

/** Values of one utterance's action tokens, in order. */
export interface UtteranceValues {
  /** min of the target Q heads at each action token. */
  qBar: number[];
  /** min of the online Q heads at each action token. */
  q: number[];
  /** V at the state before each action token. */
  v: number[];
}

/** Items serialised into one padded batch, with the flat position and token of every action token. */
function utteranceBatch(
  model: IlqlModel,
  tokenizer: Tokenizer,
  items: ReadonlyArray<{ history: readonly Segment[]; utterance: string }>,
) {
  const sequences = items.map(({ history, utterance }) => {
    const prefix = encodeSegments(history, tokenizer);
    const action = [...tokenizer.encode(utterance), tokenizer.special.eoa];
    return { tokens: [...prefix, ...action], start: prefix.length - 1, count: action.length };
  });
  const B = sequences.length;
  const T = Math.max(...sequences.map((s) => s.tokens.length));
  if (T > model.tokenContext) {
    throw new Error(`sequence of ${T} tokens exceeds the model context of ${model.tokenContext}`);
  }
  const flat = new Int32Array(B * T).fill(tokenizer.special.pad);
  const positions: number[] = [];
  const actions: number[] = [];
  sequences.forEach((s, b) => {
    flat.set(s.tokens, b * T);
    for (let j = 0; j < s.count; j++) {
      positions.push(b * T + s.start + j); // the hidden state here chooses tokens[start + j + 1]
      actions.push(s.tokens[s.start + j + 1]!);
    }
  });
  return { counts: sequences.map((s) => s.count), flat, B, T, positions, actions };
}

/**
 * Q values of `utterance` said after `history`, for each item (computed in one batch, evaluation mode).
 * @throws when a sequence is longer than the model's context
 */
export function utteranceValues(
  model: IlqlModel,
  tokenizer: Tokenizer,
  items: ReadonlyArray<{ history: readonly Segment[]; utterance: string }>,
): UtteranceValues[] {
  if (items.length === 0) return [];
  const { counts, flat, B, T, positions, actions } = utteranceBatch(model, tokenizer, items);
  const out = tf.tidy(() => {
    const tokens = tf.tensor2d(flat, [B, T], "int32");
    const index = tf.tensor1d(positions, "int32");
    const chosen = tf.tensor1d(actions, "int32");
    const h = tf.gather(forward(model.trunk("value")!, model.shape, tokens).hidden, index); // [N, D]
    const target = model.trunk("target");
    const hT = target === null ? h : tf.gather(forward(target, model.shape, tokens).hidden, index); // [N, D]
    const q = tf.minimum(
      selectAt(applyHead(model.heads.q1, h), chosen),
      selectAt(applyHead(model.heads.q2, h), chosen),
    );
    const qBar = selectAt(model.targetQ(hT as tf.Tensor2D), chosen);
    return tf.stack([qBar, q, tf.reshape(applyHead(model.heads.v, h), [-1])]); // [3, N]
  });
  const values = out.arraySync() as number[][];
  out.dispose();
  let offset = 0;
  return counts.map((count) => {
    const slice = (row: number[]) => row.slice(offset, offset + count);
    const result = { qBar: slice(values[0]!), q: slice(values[1]!), v: slice(values[2]!) };
    offset += count;
    return result;
  });
}

/** Log-probability of one utterance under the policy head. */
export interface UtteranceLogProb {
  /** Σ log π(token) over the utterance's text tokens and its closing `</a>`. */
  logProb: number;
  /** Number of those tokens. */
  tokens: number;
  /** log π of each of those tokens, in order. */
  tokenLogProbs: number[];
}

/**
 * Log-probabilities of `utterance` said after `history` under the policy head (temperature 1), for each item, in
 * batches of `batchSize` (evaluation mode). Fluency metrics (perplexity) and KL estimates read these.
 * @throws when a sequence is longer than the model's context
 */
export function utteranceLogProbs(
  model: IlqlModel,
  tokenizer: Tokenizer,
  items: ReadonlyArray<{ history: readonly Segment[]; utterance: string }>,
  batchSize = 128,
): UtteranceLogProb[] {
  const out: UtteranceLogProb[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const { counts, flat, B, T, positions, actions } = utteranceBatch(
      model,
      tokenizer,
      items.slice(start, start + batchSize),
    );
    const logp = tf.tidy(() => {
      const h = forward(model.trunk("policy")!, model.shape, tf.tensor2d(flat, [B, T], "int32")).hidden; // [B·T, D]
      const logits = model.policyLogits(tf.gather(h, tf.tensor1d(positions, "int32"))); // [N, V]
      return selectAt(tf.logSoftmax(logits), tf.tensor1d(actions, "int32")); // [N]
    });
    const values = logp.dataSync();
    logp.dispose();
    let offset = 0;
    for (const count of counts) {
      const tokenLogProbs = Array.from(values.subarray(offset, offset + count));
      out.push({ logProb: tokenLogProbs.reduce((sum, x) => sum + x, 0), tokens: count, tokenLogProbs });
      offset += count;
    }
  }
  return out;
}
