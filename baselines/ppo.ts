/**
 * Online PPO (Schulman et al. 2017) for language agents, as LMRL-Gym and RL4LMs run it. The policy head and the V
 * head of the ILQL network act as actor and critic. Each iteration plays episodes in the task's environments with
 * the sampling policy; every action token gets the environment's reward on an utterance's last token minus a KL
 * penalty `klWeight·(log π − log π_ref)` to a frozen reference; advantages are GAE over the action tokens (the same
 * token-level MDP as ILQL: the backup jumps over environment text); then a few epochs of minibatch steps on the
 * clipped surrogate, a value regression and an entropy bonus. The run starts with `train.steps` steps of
 * behaviour cloning on the task's offline episodes (the same trainer as BC); that model is also the reference.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { saveCheckpoint } from "../ilql/checkpoint.ts";
import { type ConfigOf, int, num, optionalNum } from "../ilql/config.ts";
import { textPolicy } from "../ilql/decode.ts";
import {
  type Batch,
  collate,
  type EncodedEpisode,
  encodeEpisode,
  encodeSegments,
  type Episode,
  type Segment,
} from "../ilql/episode.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import { trainIlql } from "../ilql/run.ts";
import { maskedMean, selectAt } from "../ilql/loss.ts";
import { applyHead, IlqlModel } from "../ilql/model.ts";
import { AdamW, globalNorm } from "../ilql/optim.ts";
import { Prng } from "../ilql/prng.ts";
import type { LogRecord } from "../ilql/trainer.ts";
import { stopGradient } from "../ilql/ops.ts";
import { forward } from "../ilql/transformer.ts";
import { rollout } from "../tasks/task.ts";
import type { AlgorithmDefinition, RunConfig, Trainer, TrainRequest } from "./algorithm.ts";
import { BC_PRESET } from "./bc.ts";

/** PPO config (RL4LMs / trlx names in brackets). */
export const PPO_SPEC = {
  iterations: int("Play-then-update iterations after the behaviour-cloning start", 100, { min: 0 }),
  episodes: int("Episodes played per iteration [num_rollouts]", 64, { min: 1 }),
  epochs: int("Passes over an iteration's episodes [ppo_epochs]", 4, { min: 1 }),
  minibatch: int("Episodes per optimizer step", 16, { min: 1 }),
  lr: num("Learning rate of the policy in the PPO steps (the other AdamW settings come from optim)", 1e-5, {
    above: 0,
  }),
  valueLr: num("Learning rate of the value head (and value trunk in the separate layout)", 1e-3, { above: 0 }),
  clip: num("Clip range of the probability ratio [cliprange]", 0.2, { above: 0 }),
  gamma: num("Discount per action token", 1, { min: 0, max: 1 }),
  gaeLambda: num("GAE λ: 1 = Monte-Carlo advantages, 0 = one-step TD [lam]", 0.95, { min: 0, max: 1 }),
  klWeight: num("Per-token penalty klWeight·(log π − log π_ref) taken off the reward; 0 = none [init_kl_coef]", 0.1, {
    min: 0,
  }),
  entropyWeight: num("Weight of the entropy bonus [ent_coef]", 0.01, { min: 0 }),
  valueWeight: num("Weight of the value regression [vf_coef]", 0.5, { min: 0 }),
  temperature: num("Sampling temperature of the played episodes (and of the policy the loss scores)", 1, {
    above: 0,
  }),
  maxTurns: int("Most agent utterances per played episode", 20, { min: 1 }),
  valueWarmup: int(
    "First iterations that fit only the value head (a fresh critic's errors would steer the policy)",
    10,
    {
      min: 0,
    },
  ),
  gradClip: optionalNum("Clip the PPO gradients to this global L2 norm; none = no clipping [max_grad_norm]", 1, {
    above: 0,
  }),
  evalEvery: int(
    "Iterations between validation evaluations, as train.evalEvery's steps for offline training (0 = at the end only)",
    0,
    { min: 0 },
  ),
};

/** PPO config record. */
export type PpoConfig = ConfigOf<typeof PPO_SPEC>;

// ---- advantages ----

/**
 * Generalized advantage estimation over each row's action slots (Schulman et al. 2016):
 * δ_k = r_k + γ·(1 − d_{k+1})·V_{k+1} − V_k and A_k = δ_k + γλ·(1 − d_{k+1})·A_{k+1}, where d marks a terminal (or
 * padded) next state. A cut-off episode bootstraps from the value of its final state.
 * @param rewards `[B·K]` per-action rewards
 * @param values `[B·(K+1)]` V at each action's state plus the state after the last action
 * @param terminals `[B·(K+1)]` 1 where that state is terminal or padding (a `Batch`'s `terminals`)
 * @param mask `[B·K]` 1 on real actions
 * @returns advantages and value targets (advantage + V), 0 on padding
 */
export function gae(
  rewards: Float32Array,
  values: Float32Array,
  terminals: Float32Array,
  mask: Float32Array,
  K: number,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const advantages = new Float32Array(rewards.length);
  const returns = new Float32Array(rewards.length);
  for (let b = 0; b * K < rewards.length; b++) {
    let next = 0;
    for (let k = K - 1; k >= 0; k--) {
      const i = b * K + k;
      if (mask[i] === 0) {
        next = 0;
        continue;
      }
      const s = b * (K + 1) + k;
      const live = 1 - terminals[s + 1]!;
      const delta = rewards[i]! + gamma * live * values[s + 1]! - values[s]!;
      next = delta + gamma * lambda * live * next;
      advantages[i] = next;
      returns[i] = next + values[s]!;
    }
  }
  return { advantages, returns };
}

// ---- loss ----

/** The PPO loss terms and diagnostics, all scalars. */
export interface PpoTerms {
  /** −mean of the clipped surrogate. */
  policy: tf.Scalar;
  /** mean (V − value target)². */
  value: tf.Scalar;
  /** mean entropy of the policy at the action tokens. */
  entropy: tf.Scalar;
  /** policy + valueWeight·value − entropyWeight·entropy. */
  total: tf.Scalar;
  /** Fraction of tokens whose ratio lies outside [1 − clip, 1 + clip]. */
  clipFraction: tf.Scalar;
  /** mean (old log π − new log π), the usual estimate of the step's KL. */
  approxKl: tf.Scalar;
}

/**
 * The PPO loss of a minibatch of action tokens (pure):
 * −min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A) with ρ = π/π_old, plus the value regression and the entropy bonus.
 * @param logits `[N, V]` policy logits at the action tokens (already divided by the temperature)
 * @param mask `[N]` 1 on real action tokens; means divide by `count`
 */
export function ppoLoss(
  inputs: {
    logits: tf.Tensor2D;
    actions: tf.Tensor1D;
    oldLogProbs: tf.Tensor1D;
    advantages: tf.Tensor1D;
    values: tf.Tensor1D;
    returns: tf.Tensor1D;
    mask: tf.Tensor1D;
    count: number;
  },
  config: Pick<PpoConfig, "clip" | "valueWeight" | "entropyWeight">,
): PpoTerms {
  const { mask, count } = inputs;
  const logp = tf.logSoftmax(inputs.logits); // [N, V]
  const chosen = selectAt(logp, inputs.actions); // [N]
  const logRatio = tf.sub(chosen, inputs.oldLogProbs); // [N]
  const ratio = tf.exp(logRatio); // [N]
  const clipped = tf.clipByValue(ratio, 1 - config.clip, 1 + config.clip); // [N]
  const surrogate = tf.minimum(tf.mul(ratio, inputs.advantages), tf.mul(clipped, inputs.advantages)); // [N]
  const policy = tf.neg(maskedMean(surrogate, mask, count));
  const value = maskedMean(tf.squaredDifference(inputs.values, inputs.returns), mask, count);
  const entropy = maskedMean(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1)), mask, count);
  const total = tf.addN([
    policy,
    tf.mul(value, config.valueWeight),
    tf.mul(entropy, -config.entropyWeight),
  ]) as tf.Scalar;
  const outside = tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), config.clip), "float32");
  return {
    policy,
    value,
    entropy,
    total,
    clipFraction: maskedMean(outside, mask, count),
    approxKl: maskedMean(tf.neg(logRatio), mask, count),
  };
}

// ---- network passes ----

/** Policy logits at the action tokens `[B·K, V]` and, when asked, V at the states `[B·(K+1)]` of a batch. */
function heads(model: IlqlModel, batch: Batch, temperature: number, withValues: boolean) {
  const tokens = tf.tensor2d(batch.tokens, [batch.size, batch.length], "int32");
  const hPolicy = forward(model.trunk("policy")!, model.shape, tokens).hidden; // [B·T, D]
  const logits = tf.div(model.policyLogits(tf.gather(hPolicy, batch.actionIndex)), temperature) as tf.Tensor2D;
  if (!withValues) return { logits, values: null };
  const shared = model.trunk("value") === model.trunk("policy");
  // one trunk: the value loss trains the V head alone, so a fresh critic cannot pull the policy's features around
  const hValue = shared ? stopGradient(hPolicy) : forward(model.trunk("value")!, model.shape, tokens).hidden; // [B·T, D]
  const values = tf.reshape(applyHead(model.heads.v, tf.gather(hValue, batch.stateIndex)), [-1]) as tf.Tensor1D;
  return { logits, values };
}

/** Log-probabilities of the batch's action tokens `[B·K]` and, when asked, the values `[B·(K+1)]` (no gradient). */
function scoreBatch(model: IlqlModel, batch: Batch, temperature: number, withValues: boolean) {
  const out = tf.tidy(() => {
    const { logits, values } = heads(model, batch, temperature, withValues);
    const logp = selectAt(tf.logSoftmax(logits), tf.tensor1d(batch.actions, "int32"));
    return values === null ? [logp] : [logp, values];
  });
  const [logp, values] = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return { logProbs: logp!, values: values ?? null };
}

/** The variables PPO trains: the policy's (trunk, LM head) and the critic's (V head, value trunk when separate). */
function ppoVariables(model: IlqlModel): { policy: Map<string, tf.Variable>; value: Map<string, tf.Variable> } {
  const policyNames = model.policyVariableNames();
  const policy = new Map<string, tf.Variable>();
  const value = new Map<string, tf.Variable>();
  for (const [name, v] of model.trainableVariables()) {
    if (policyNames.has(name)) policy.set(name, v);
    else if (name.startsWith("value.") || name.startsWith("heads.v.")) value.set(name, v);
  }
  return { policy, value };
}

/** A copy of a model's weights (the frozen reference). */
function cloneModel(model: IlqlModel): IlqlModel {
  const copy = new IlqlModel(model.config, model.shape.vocabSize, new Prng(0));
  const source = model.variables();
  for (const [name, v] of copy.variables()) v.assign(source.get(name)!);
  return copy;
}

// ---- one iteration ----

/** Per played episode: its encoding and its per-action old log-probabilities, advantages and value targets. */
interface Sample {
  encoded: EncodedEpisode;
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

/** Scores the played episodes, shapes the rewards with the KL penalty, and computes normalized advantages. */
function prepareSamples(
  model: IlqlModel,
  reference: IlqlModel,
  encoded: EncodedEpisode[],
  padId: number,
  config: PpoConfig,
): { samples: Sample[]; info: Record<string, number> } {
  const batch = collate(encoded, padId);
  const K = batch.numActions;
  const now = scoreBatch(model, batch, config.temperature, true);
  const ref = scoreBatch(reference, batch, config.temperature, false);
  const rewards = new Float32Array(batch.rewards.length);
  let klSum = 0;
  let count = 0;
  for (let i = 0; i < rewards.length; i++) {
    if (batch.actionMask[i] === 0) continue;
    const kl = now.logProbs[i]! - ref.logProbs[i]!;
    rewards[i] = batch.rewards[i]! - config.klWeight * kl;
    klSum += kl;
    count++;
  }
  const { advantages, returns } = gae(
    rewards,
    now.values!,
    batch.terminals,
    batch.actionMask,
    K,
    config.gamma,
    config.gaeLambda,
  );
  // normalized over the iteration's action tokens (the usual PPO practice)
  let mean = 0;
  for (let i = 0; i < advantages.length; i++) mean += batch.actionMask[i]! * advantages[i]!;
  mean /= count;
  let variance = 0;
  for (let i = 0; i < advantages.length; i++) variance += batch.actionMask[i]! * (advantages[i]! - mean) ** 2;
  const std = Math.sqrt(variance / count) + 1e-8;
  const samples = encoded.map((e, b) => {
    const n = e.actionPositions.length;
    const row = (a: Float32Array) => a.slice(b * K, b * K + n);
    return {
      encoded: e,
      oldLogProbs: row(now.logProbs),
      advantages: row(advantages).map((a) => (a - mean) / std),
      returns: row(returns),
    };
  });
  return {
    samples,
    info: { "ppo/kl_ref": klSum / encoded.length, "values/adv_mean": mean, "ppo/adv_std": std },
  };
}

/** The per-slot arrays of a minibatch, laid out like its collated batch. */
function minibatchArrays(samples: readonly Sample[], K: number) {
  const out = {
    oldLogProbs: new Float32Array(samples.length * K),
    advantages: new Float32Array(samples.length * K),
    returns: new Float32Array(samples.length * K),
  };
  samples.forEach((s, b) => {
    out.oldLogProbs.set(s.oldLogProbs, b * K);
    out.advantages.set(s.advantages, b * K);
    out.returns.set(s.returns, b * K);
  });
  return out;
}

const STEP_KEYS = [
  "losses/policy",
  "losses/value",
  "losses/entropy",
  "losses/total",
  "ppo/clip_fraction",
  "ppo/approx_kl",
];

/** The policy's and the critic's optimizers, each over its own variables and learning rate. */
interface PpoOptimizers {
  policy: AdamW;
  value: AdamW;
}

/** Clips a group's gradients to `clip` (global L2 norm) and applies them; returns the norm before clipping. */
function applyClipped(optimizer: AdamW, grads: Map<string, tf.Tensor>, clip: number | null): number {
  const value = globalNorm(grads.values());
  if (!Number.isFinite(value)) return value;
  const factor = clip !== null && value > clip ? clip / value : 1;
  const scaled = factor === 1 ? grads : new Map([...grads].map(([n, g]) => [n, tf.mul(g, factor)]));
  optimizer.apply(scaled);
  if (factor !== 1) tf.dispose([...scaled.values()]);
  return value;
}

/**
 * One step on a minibatch: the critic always, the policy unless `trainPolicy` is false (critic warm-up).
 * @throws before touching the policy when a loss term is not finite
 */
function ppoStep(
  model: IlqlModel,
  optimizers: PpoOptimizers,
  variables: ReturnType<typeof ppoVariables>,
  samples: readonly Sample[],
  padId: number,
  config: PpoConfig,
  trainPolicy: boolean,
): Record<string, number> {
  const batch = collate(samples.map((s) => s.encoded), padId);
  const arrays = minibatchArrays(samples, batch.numActions);
  const all = new Map([...(trainPolicy ? variables.policy : []), ...variables.value]);
  const grads = new Map<string, tf.Tensor>();
  const stats = tf.tidy(() => {
    const out: { stats?: tf.Tensor1D } = {};
    const { grads: gradients } = tf.variableGrads(() => {
      const { logits, values } = heads(model, batch, config.temperature, true);
      const K = batch.numActions;
      const slotValues = tf.reshape(tf.slice(tf.reshape(values!, [batch.size, K + 1]), [0, 0], [batch.size, K]), [-1]);
      const t = ppoLoss({
        logits,
        actions: tf.tensor1d(batch.actions, "int32"),
        oldLogProbs: tf.tensor1d(arrays.oldLogProbs),
        advantages: tf.tensor1d(arrays.advantages),
        values: slotValues as tf.Tensor1D,
        returns: tf.tensor1d(arrays.returns),
        mask: tf.tensor1d(batch.actionMask),
        count: batch.actionMask.reduce((a, b) => a + b, 0),
      }, config);
      out.stats = tf.keep(tf.stack([t.policy, t.value, t.entropy, t.total, t.clipFraction, t.approxKl]) as tf.Tensor1D);
      return t.total;
    }, [...all.values()]);
    for (const [n, v] of all) grads.set(n, tf.keep(gradients[v.name] ?? tf.zerosLike(v))); // outlive the tidy
    return out.stats!;
  });
  const values = stats.dataSync();
  stats.dispose();
  const info: Record<string, number> = Object.fromEntries(STEP_KEYS.map((k, i) => [k, values[i]!]));
  try {
    for (const [key, value] of Object.entries(info)) {
      if (!Number.isFinite(value)) throw new Error(`PPO stopped: non-finite ${key} (${value}); no update applied`);
    }
    const group = (names: Map<string, tf.Variable>) => new Map([...names.keys()].map((n) => [n, grads.get(n)!]));
    info["optim/value_grad_norm"] = applyClipped(optimizers.value, group(variables.value), config.gradClip);
    if (trainPolicy) {
      info["optim/grad_norm"] = applyClipped(optimizers.policy, group(variables.policy), config.gradClip);
    }
  } finally {
    tf.dispose([...grads.values()]);
  }
  return info;
}

/**
 * A played episode as training data. One that outgrew the context (the decoder fills the context, then `</a>` and
 * `</eod>` are added) loses its last utterances and becomes a cut-off episode, which GAE bootstraps from V.
 * Null when not even its first utterance fits.
 */
function fitContext(segments: Segment[], done: boolean, tokenizer: Tokenizer, context: number): Episode | null {
  let kept = segments;
  let terminal = done;
  while (encodeSegments(kept, tokenizer).length + (terminal ? 1 : 0) > context) {
    kept = kept.slice(0, kept.findLastIndex((s) => s.kind === "action"));
    terminal = false;
    if (!kept.some((s) => s.kind === "action")) return null;
  }
  return { segments: kept, terminal };
}

// ---- trainer ----

/**
 * Improves a trained policy with PPO in the environments: `ppo.iterations` iterations, each logged as one record with
 * `eval/return` (mean return of its sampled episodes) at step `startStep + iteration`. The model's current weights
 * are the KL reference. The model is trained in place; the returned `dispose` frees it too.
 */
export async function improveWithPpo(
  model: IlqlModel,
  request: TrainRequest,
  startStep = 0,
): Promise<{ history: LogRecord[]; dispose(): void }> {
  const { config, tokenizer, environments } = request;
  if (environments === undefined) throw new Error("PPO needs a task with an environment to play");
  const ppo = config.ppo;
  checkPpoWarmup(ppo);
  const reference = cloneModel(model);
  const variables = ppoVariables(model);
  // optim.schedule spans the BC steps (train.steps); play-then-update has no step count known up front
  const playOptim = { ...config.optim, schedule: "constant" as const };
  const optimizers: PpoOptimizers = {
    policy: new AdamW(variables.policy, { ...playOptim, lr: ppo.lr }),
    value: new AdamW(variables.value, { ...playOptim, lr: ppo.valueLr }),
  };
  const dispose = () => {
    optimizers.policy.dispose();
    optimizers.value.dispose();
    reference.dispose();
    model.dispose();
  };
  const root = new Prng(config.train.seed);
  for (let i = 0; i < 3; i++) root.fork(); // the BC run used the seed's first three streams
  const prng = root.fork();
  const pad = tokenizer.special.pad;
  const rolloutDecode = {
    ...config.decode,
    method: "sample" as const,
    beta: 0,
    temperature: ppo.temperature,
    topK: 0,
    topP: 1,
    samples: 1,
  };
  const history: LogRecord[] = [];
  try {
    for (let iteration = 1; iteration <= ppo.iterations; iteration++) {
      const envs = environments(ppo.episodes, prng.nextUint32());
      const played = rollout(
        envs,
        textPolicy(model, tokenizer, rolloutDecode, prng, { recentWindow: request.recentWindow === true }),
        ppo.maxTurns,
      );
      const encoded = played.flatMap((r) => {
        const fitted = fitContext(r.segments, r.done, tokenizer, model.tokenContext);
        return fitted === null ? [] : [encodeEpisode(fitted, tokenizer, { context: model.tokenContext })];
      });
      if (encoded.length === 0) throw new Error(`PPO iteration ${iteration}: no played episode fits the context`);
      const { samples, info: iterationInfo } = prepareSamples(model, reference, encoded, pad, ppo);
      const sums: Record<string, number> = {};
      let steps = 0;
      for (let epoch = 0; epoch < ppo.epochs; epoch++) {
        const order = prng.shuffle([...samples.keys()]);
        for (let start = 0; start < order.length; start += ppo.minibatch) {
          const part = order.slice(start, start + ppo.minibatch).map((i) => samples[i]!);
          const info = ppoStep(model, optimizers, variables, part, pad, ppo, iteration > ppo.valueWarmup);
          for (const [k, v] of Object.entries(info)) sums[k] = (sums[k] ?? 0) + v;
          steps++;
        }
      }
      const record: LogRecord = {
        step: startStep + iteration,
        info: {
          "eval/return": played.reduce((s, r) => s + r.return, 0) / played.length,
          ...iterationInfo,
          ...Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / steps])),
        },
      };
      history.push(record);
      request.onLog?.(record);
      const evaluateHere = iteration === ppo.iterations || (ppo.evalEvery > 0 && iteration % ppo.evalEvery === 0);
      if (request.evaluate !== undefined && config.train.evalEvery > 0 && evaluateHere) {
        await request.evaluate(model, startStep + iteration);
      }
    }
    if (request.checkpointPath !== undefined) {
      await saveCheckpoint(request.checkpointPath, model, {
        step: startStep + ppo.iterations,
        config,
        tokenizer: tokenizer.toJSON(),
      }, optimizers.policy);
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { history, dispose };
}

function checkPpoWarmup(ppo: PpoConfig): void {
  if (ppo.iterations > 0 && ppo.valueWarmup >= ppo.iterations) {
    throw new Error(
      `ppo.valueWarmup (${ppo.valueWarmup}) must be below ppo.iterations (${ppo.iterations}): the policy would never be updated`,
    );
  }
}

/** A PPO run trains: BC steps, play iterations or both, and its critic warm-up leaves iterations that move the policy. */
export function checkPpoConfig(config: RunConfig): void {
  if (config.train.steps < 1 && config.ppo.iterations < 1) {
    throw new Error("train.steps and ppo.iterations are both 0: the run would evaluate an untrained model");
  }
  checkPpoWarmup(config.ppo);
}

/**
 * Trains PPO: behaviour cloning for `train.steps` steps on the offline episodes (at 0 the run starts from the seeded
 * initial model), then {@link improveWithPpo}.
 * @throws when the task exposes no environment
 */
export const trainPpo: Trainer = async (request) => {
  if (request.environments === undefined) throw new Error("PPO needs a task with an environment to play");
  // without BC steps its optimizer takes none: a cosine over train.steps (a suite's setting for every algorithm)
  // has no span to cover, and play-then-update keeps its own constant rates
  const bcConfig = request.config.train.steps > 0
    ? request.config
    : { ...request.config, optim: { ...request.config.optim, schedule: "constant" as const } };
  const bc = await trainIlql(request.episodes, request.tokenizer, bcConfig, {
    ...(request.onLog !== undefined ? { onLog: request.onLog } : {}),
    ...(request.source !== undefined ? { source: request.source } : {}),
    ...(request.evaluate !== undefined ? { evaluate: request.evaluate } : {}),
    ...(request.init !== undefined ? { init: request.init } : {}),
  });
  bc.state.optimizer.dispose();
  const ppo = await improveWithPpo(bc.state.model, request, request.config.train.steps);
  return {
    model: bc.state.model,
    decode: request.config.decode,
    history: [...bc.history, ...ppo.history],
    dispose: ppo.dispose,
  };
};

/** Online PPO from a behaviour-cloning start. */
export const PPO: AlgorithmDefinition = {
  description: "online PPO from a BC start (`train.steps` of BC, then `ppo.iterations` of play and clipped updates " +
    "with GAE, a KL penalty to the BC model and an entropy bonus); needs a task with an environment",
  preset: { ...BC_PRESET },
  train: trainPpo,
  checkConfig: checkPpoConfig,
};
