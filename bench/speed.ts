/**
 * `deno task bench:speed`: times one ILQL training step (ms/step, tokens/s, GFLOP/s, peak memory) for the presets
 * of the PyTorch anchor (`bench/torch_ilql_step.py`, copied from shared/anchors), in both layouts, alternating our
 * runs with the anchor's in one sitting: ours with native BLAS and the anchor under the same OpenBLAS kernel type
 * (AVX2 = Haswell, AVX-512 = SkylakeX), and ours on the wasm-only path. Then decoding tokens/s with and without the
 * KV cache, and the evaluator's Wordle games/s. Writes `results/speed.md` and `results/speed.json`.
 *
 * Each measurement is a separate process (`--worker`), so peak memory is per configuration.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import os from "node:os";
import process from "node:process";
import { activeBlas } from "../ilql/blas.ts";
import { initBackend } from "../ilql/backend.ts";
import { parseFlags, runMain, UsageError } from "../ilql/cli.ts";
import { defaultsOf } from "../ilql/config.ts";
import { DECODE_SPEC, generate, textPolicy } from "../ilql/decode.ts";
import type { Batch } from "../ilql/episode.ts";
import { ILQL_SPEC, ilqlUpdate, initIlqlState, makeOptimizer } from "../ilql/ilql.ts";
import { trainIlql, trainSeeds } from "../ilql/run.ts";
import { TASKS } from "../eval/registry.ts";
import { datasetOf } from "../eval/runner.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { AdamW, OPTIM_SPEC } from "../ilql/optim.ts";
import { forward, initWeights, weightShapes } from "../ilql/transformer.ts";
import { Prng } from "../ilql/prng.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { evaluateWordle } from "../tasks/wordle/eval.ts";
import { WORDLE_TOKENIZER } from "../tasks/wordle/game.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "../tasks/wordle/words.ts";

/**
 * Shapes of the anchor's presets (torch_ilql_step.py PRESETS). `gpt-small` is not an ILQL step: it is the plain
 * language-model step of the shared notes' backend.md "small" configuration (behaviour cloning on every token,
 * untied head, no dropout), whose tuned tfjs-wasm time there was 303.6 ms; it has no anchor run.
 */
const PRESETS = {
  tiny: {
    vocab: 35,
    width: 64,
    layers: 2,
    heads: 2,
    seqLen: 80,
    batch: 32,
    actLen: 6,
    obsLen: 6,
    leadObs: 0,
    cqlWeight: 1e-4,
    warmup: 5,
    reps: 30,
    lmOnly: false,
    // at this size one thread can beat two (per-kernel work is too small to split): both are timed, the faster kept
    threads: [1, 2],
  },
  wordle: {
    vocab: 35,
    width: 128,
    layers: 4,
    heads: 4,
    seqLen: 80,
    batch: 32,
    actLen: 6,
    obsLen: 6,
    leadObs: 0,
    cqlWeight: 1e-4,
    warmup: 3,
    reps: 10,
    lmOnly: false,
    threads: [2],
  },
  dialogue: {
    vocab: 1024,
    width: 256,
    layers: 6,
    heads: 8,
    seqLen: 128,
    batch: 16,
    actLen: 12,
    obsLen: 16,
    leadObs: 16,
    cqlWeight: 1.0,
    warmup: 2,
    reps: 5,
    lmOnly: false,
    threads: [2],
  },
  "gpt-small": {
    vocab: 64,
    width: 128,
    layers: 4,
    heads: 4,
    seqLen: 32,
    batch: 32,
    actLen: 31,
    obsLen: 0,
    leadObs: 0,
    cqlWeight: 0,
    warmup: 3,
    reps: 10,
    lmOnly: true,
    threads: [2],
  },
  // GPT-2 small (124 M parameters with GPT-2's own 50,257 tokens) on a task's remapped BPE: the dialogue task's 825 ids
  // leave 86 M, the size `--set model.init=gpt2` trains at
  "gpt2-small": {
    vocab: 825,
    width: 768,
    layers: 12,
    heads: 12,
    seqLen: 128,
    batch: 4,
    actLen: 12,
    obsLen: 16,
    leadObs: 16,
    cqlWeight: 1.0,
    warmup: 1,
    reps: 3,
    lmOnly: false,
    threads: [2],
  },
} as const;
type PresetName = keyof typeof PRESETS;
type Preset = typeof PRESETS[PresetName];
type Layout = "separate" | "shared";

/** OpenBLAS kernel families of the two kernel types (the anchor's `--avx512` uses SkylakeX). */
const CORES = { avx2: "Haswell", avx512: "SkylakeX" } as const;
type Kernel = keyof typeof CORES;

/** The anchor's synthetic batch layout (make_batch): lead observation, then action/observation blocks, `</eod>`. */
function syntheticBatch(p: Preset, prng: Prng): Batch {
  const { batch: B, seqLen: T, vocab: V } = p;
  const actionPos = actionPositions(p);
  const lastOfBlock = new Set(blockEnds(p));
  const K = actionPos.length;
  const tokens = Int32Array.from({ length: B * T }, () => 6 + prng.int(V - 6));
  const out: Batch = {
    size: B,
    length: T,
    numActions: K,
    tokens,
    attention: new Float32Array(B * T).fill(1),
    actionIndex: new Int32Array(B * K),
    stateIndex: new Int32Array(B * (K + 1)),
    actions: new Int32Array(B * K),
    rewards: new Float32Array(B * K),
    actionMask: new Float32Array(B * K).fill(1),
    terminals: new Float32Array(B * (K + 1)),
    positionSlot: new Int32Array(B * T),
    returns: new Float32Array(B),
  };
  for (let b = 0; b < B; b++) {
    actionPos.forEach((ap, k) => {
      out.actionIndex[b * K + k] = b * T + ap;
      out.stateIndex[b * (K + 1) + k] = b * T + ap;
      out.actions[b * K + k] = tokens[b * T + ap + 1]!;
      out.positionSlot[b * T + ap] = b * K + k + 1;
      if (lastOfBlock.has(ap + 1)) out.rewards[b * K + k] = -prng.int(2);
    });
    out.stateIndex[b * (K + 1) + K] = b * T + T - 1;
    out.terminals[b * (K + 1) + K] = 1;
  }
  return out;
}

/** Positions of the action tokens' last token per block. */
function blockEnds(p: Preset): number[] {
  const ends: number[] = [];
  let pos = 1 + p.leadObs;
  while (pos <= p.seqLen - 2) {
    const end = Math.min(pos + p.actLen, p.seqLen - 1);
    ends.push(end - 1);
    pos = Math.min(end + p.obsLen, p.seqLen - 1);
  }
  return ends;
}

/** Positions whose hidden state chooses an action token (the token before each action token). */
function actionPositions(p: Preset): number[] {
  const out: number[] = [];
  let pos = 1 + p.leadObs;
  while (pos <= p.seqLen - 2) {
    const end = Math.min(pos + p.actLen, p.seqLen - 1);
    for (let i = pos; i < end; i++) out.push(i - 1);
    pos = Math.min(end + p.obsLen, p.seqLen - 1);
  }
  return out;
}

/**
 * Matmul FLOPs of one step ("model FLOPs": backward = 2 × forward, attention over the full T×T square, no
 * recomputation counted): transformers, V/Q heads at their positions, the LM head at every position.
 */
function stepFlops(p: Preset, layout: Layout): number {
  const { batch: B, seqLen: T, width: D, layers: L, vocab: V } = p;
  const K = actionPositions(p).length;
  const trunk = L * (24 * B * T * D * D + 4 * B * T * T * D);
  const lm = 2 * B * T * D * V;
  if (p.lmOnly) return 3 * (trunk + lm);
  const vHead = 2 * B * (K + 1) * (2 * D * D + 2 * D);
  const qHead = 2 * B * K * (2 * D * D + 2 * D * V);
  const trained = 3 * (vHead + 2 * qHead + lm);
  const targetHeads = 2 * qHead;
  return layout === "separate" ? 3 * 2 * trunk + trunk + trained + targetHeads : 3 * trunk + trained + targetHeads;
}

/** Peak resident set size of this process (getrusage's maxrss, as the anchor reports it). */
function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type BlasMode = "on" | "off";

/** Worker: times the ILQL step of one preset and layout; prints one JSON line. */
async function workerStep(
  preset: PresetName,
  layout: Layout,
  blas: BlasMode,
  warmup: number,
  reps: number,
  profile: boolean,
  threads: number | undefined,
) {
  const backend = await initBackend({ blas, warn: () => {}, ...(threads === undefined ? {} : { threads }) });
  const p = PRESETS[preset];
  const prng = new Prng(0);
  const model = new IlqlModel(
    {
      ...defaultsOf(MODEL_SPEC),
      layout,
      width: p.width,
      layers: p.layers,
      heads: p.heads,
      context: p.seqLen,
      dropout: p.lmOnly ? 0 : 0.1,
      tiedLmHead: !p.lmOnly,
    },
    p.vocab,
    prng.fork(),
  );
  // the anchor's settings: expectile 0.7, AdamW lr 1e-4 wd 0, polyak 0.005, awac weight 1 with beta 0
  const values = p.lmOnly ? { qWeight: 0, vWeight: 0, cqlWeight: 0 } : { cqlWeight: p.cqlWeight };
  const ilql = { ...defaultsOf(ILQL_SPEC), ...values };
  let state = initIlqlState(model, ilql, makeOptimizer(model, ilql, defaultsOf(OPTIM_SPEC)), prng.fork());
  const batch = syntheticBatch(p, prng.fork());
  const times: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const r = ilqlUpdate(state, [batch]);
    const dt = performance.now() - t0;
    state = r.state;
    if (i >= warmup) {
      times.push(dt);
      losses.push(r.info["losses/total"]!);
    }
  }
  if (profile) {
    // one more step under tf.profile: time per kernel (and output shape), on stderr
    const kernels = (await tf.profile(() => {
      state = ilqlUpdate(state, [batch]).state;
    })).kernels.filter((k) => tf.getKernel(k.name, tf.getBackend()) !== undefined); // not the named scopes
    // kernel time and calls grouped by a key of each kernel
    const group = (key: (k: typeof kernels[number]) => string) => {
      const out = new Map<string, { ms: number; calls: number }>();
      for (const k of kernels) {
        const e = out.get(key(k)) ?? { ms: 0, calls: 0 };
        e.ms += k.kernelTimeMs as number;
        e.calls++;
        out.set(key(k), e);
      }
      return out;
    };
    const line = ([key, e]: [string, { ms: number; calls: number }]) =>
      console.error(`${fmt(e.ms, 1).padStart(8)} ms ${String(e.calls).padStart(5)}×  ${key}`);
    const total = kernels.reduce((s, k) => s + (k.kernelTimeMs as number), 0);
    console.error(`kernel time ${fmt(total, 1)} ms in ${kernels.length} kernels; by kernel:`);
    [...group((k) => k.name)].sort((a, b) => b[1].calls - a[1].calls).forEach(line);
    console.error("top 25 by kernel and output shape:");
    [...group((k) => `${k.name} ${JSON.stringify(k.outputShapes)}`)].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)
      .forEach(line);
  }
  const med = median(times);
  console.log(JSON.stringify({
    backend: backend.summary,
    ms_median: med,
    ms_min: Math.min(...times),
    ms_max: Math.max(...times),
    tokens_per_s: (p.batch * p.seqLen) / med * 1000,
    gflops: stepFlops(p, layout) / med / 1e6,
    peak_rss_mib: peakRssMiB(),
    params_trainable: [...model.trainableVariables().values()].reduce((s, v) => s + v.size, 0),
    loss_decreased: losses[losses.length - 1]! < losses[0]!,
  }));
}

/**
 * Worker: ms per optimizer step of the Wordle paper suite's BC run (its model, data and batch) for `seeds` seeds:
 * one seed trained as one run (`trainIlql`), or several stacked in one computation (`trainSeeds`).
 */
async function workerSeeds(task: string, seeds: number, threads: number | undefined, warmup: number, reps: number) {
  const backend = await initBackend({ blas: "on", warn: () => {}, ...(threads === undefined ? {} : { threads }) });
  const runs = expandSuite(SUITES.paper!, {
    tasks: [task],
    algorithms: ["bc"],
    seeds: Array.from({ length: seeds }, (_, i) => i),
  }).filter((r) => r.config.decode.method === "greedy");
  const configs = runs.map((r) => ({
    ...r.config,
    train: { ...r.config.train, steps: warmup + reps, logEvery: 1, evalEvery: 0 },
  }));
  const data = datasetOf(runs[0]!);
  const tokenizer = TASKS[task]!.tokenizer;
  const stamps: number[] = [];
  const stamp = (s: number) => s === 0 && stamps.push(performance.now());
  if (seeds === 1) {
    const { state } = await trainIlql(data, tokenizer, configs[0]!, { onLog: () => stamp(0) });
    state.model.dispose();
    state.optimizer.dispose();
  } else {
    for (const { model } of await trainSeeds(data, tokenizer, configs, { onLog: (s) => stamp(s) })) model.dispose();
  }
  const ms = (stamps.at(-1)! - stamps[warmup - 1]!) / reps;
  const runSteps = configs[0]!.start.steps + runs[0]!.config.train.steps;
  console.log(
    JSON.stringify({
      backend: backend.summary,
      seeds,
      ms_per_step: ms,
      run_steps: runSteps,
      peak_rss_mib: peakRssMiB(),
    }),
  );
}

/**
 * Worker: one training step of GPT-2 small (124 M parameters: width 768, 12 layers, 12 heads, GPT-2's 50,257 ids and
 * the project's 6 specials, the LM head tied, dropout 0.1) as a language model on 4 sequences of 128 tokens, with
 * AdamW: the policy transformer of a `model.init` fine-tuning. A whole ILQL model of this size does not fit: its four
 * vocabulary-wide Q heads (77 M parameters each) and their optimizer state pass the wasm heap's 4 GiB; this step alone
 * reaches 4.2 GiB, and a second step in the same process runs out of it (measured: 10.6 s for the first step on 2
 * threads, 2026-12-05).
 */
async function workerGpt2(warmup: number, reps: number, threads: number | undefined) {
  const backend = await initBackend({ blas: "on", warn: () => {}, ...(threads === undefined ? {} : { threads }) });
  const shape = { vocabSize: 50263, width: 768, layers: 12, heads: 12, context: 128 };
  const [B, T] = [4, 128];
  const prng = new Prng(0);
  const weights = new Map(
    Object.entries(initWeights(shape, prng.fork())).map((
      [k, v],
    ) => [k, tf.variable(tf.tensor(v, weightShapes(shape)[k]!))]),
  );
  const trunk = Object.fromEntries(weights);
  const optimizer = new AdamW(weights, { ...defaultsOf(OPTIM_SPEC), lr: 1e-5 });
  const draw = new Prng(1);
  const tokens = tf.tensor2d(Array.from({ length: B * T }, () => draw.int(50257)), [B, T], "int32");
  const targets = tf.oneHot(tf.reshape(tf.slice(tokens, [0, 1], [B, T - 1]), [-1]), shape.vocabSize);
  const times: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const { grads, value } = tf.variableGrads(() => {
      const { hidden } = forward(trunk, shape, tokens, { dropout: { rate: 0.1, prng: new Prng(i) } });
      const h = tf.reshape(tf.slice(tf.reshape(hidden, [B, T, -1]), [0, 0, 0], [B, T - 1, -1]), [B * (T - 1), -1]);
      const logits = tf.matMul(h, trunk.wte!, false, true); // tied head: h · wteᵀ
      return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
    });
    optimizer.apply(new Map(Object.entries(grads)));
    await value.data();
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const med = median(times);
  console.log(JSON.stringify({
    backend: backend.summary,
    params: [...weights.values()].reduce((s, v) => s + v.size, 0),
    batch: `${B} x ${T} tokens`,
    ms_median: med,
    ms_min: Math.min(...times),
    ms_max: Math.max(...times),
    tokens_per_s: (B * T) / med * 1000,
    peak_rss_mib: peakRssMiB(),
  }));
}

/** Worker: sgemm throughput of the active BLAS at 2048³ (the practical peak the GFLOP/s are compared with). */
async function workerPeak() {
  const backend = await initBackend({ blas: "on", warn: () => {} });
  const n = 2048;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    tf.matMul(a, b).dispose();
    times.push(performance.now() - t0);
  }
  console.log(
    JSON.stringify({
      backend: backend.summary,
      core: activeBlas()?.core,
      gflops: 2 * n ** 3 / median(times.slice(1)) / 1e6,
    }),
  );
}

/** Worker: decoding tokens/s on the wordle preset (β = 8, so all three transformers run), and Wordle games/s. */
async function workerDecode(blas: BlasMode) {
  const backend = await initBackend({ blas, warn: () => {} });
  const p = PRESETS.wordle;
  const model = new IlqlModel(
    { ...defaultsOf(MODEL_SPEC), width: p.width, layers: p.layers, heads: p.heads, context: p.seqLen, dropout: 0 },
    p.vocab,
    new Prng(0),
  );
  const prng = new Prng(1);
  const rows = 32;
  const promptLen = 16;
  const newTokens = 48;
  const prompts = Array.from(
    { length: rows },
    () => Array.from({ length: promptLen }, () => 6 + prng.int(p.vocab - 6)),
  );
  const out: Record<string, number | string> = { backend: backend.summary, rows, promptLen, newTokens };
  for (const cache of [true, false]) {
    const config = { ...defaultsOf(DECODE_SPEC), beta: 8, maxTokens: newTokens, cache };
    const opts = { stopToken: -1, padToken: 0 }; // no stop token: every row decodes maxTokens
    generate(model, prompts.slice(0, 2), { ...config, maxTokens: 4 }, opts); // warm-up
    const t0 = performance.now();
    const gens = generate(model, prompts, config, opts);
    const secs = (performance.now() - t0) / 1000;
    out[cache ? "cached_tokens_per_s" : "recompute_tokens_per_s"] = gens.reduce((s, g) => s + g.tokens.length, 0) /
      secs;
  }
  // the Wordle evaluator with this (untrained) model, greedy value-guided decoding: 1,024 games
  const vocabulary = loadWordList(WORD_LISTS.eval200);
  const policy = textPolicy(model, WORDLE_TOKENIZER, { ...defaultsOf(DECODE_SPEC), beta: 16, maxTokens: 6 });
  const result = evaluateWordle(policy, { vocabulary, allowed: officialAllowed(), games: 1024 });
  out.wordle_games = 1024;
  out.wordle_seconds = result.seconds;
  out.wordle_games_per_s = 1024 / result.seconds;
  console.log(JSON.stringify(out));
}

async function runJson(cmd: string, args: string[], env?: Record<string, string>): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...(env ? { env } : {}) }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err}`);
  }
  return JSON.parse(text);
}

const PYTHON = "/usr/bin/python3";

async function torchAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const fmt = (x: number | undefined, d = 0) =>
  x === undefined || !Number.isFinite(x)
    ? "–"
    : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

const HELP = `deno task bench:speed [--preset tiny,wordle,dialogue,gpt-small] [--layout separate,shared] [--rounds 2]
  [--warmup W --reps R] [--kernels avx2,avx512] [--no-torch] [--no-wasm] [--seeds-only] [--out results/speed]

Times our ILQL step (native BLAS under each OpenBLAS kernel type, and the wasm-only path) and the PyTorch anchor
under the same kernel type, alternately, then decoding and the Wordle evaluator. Writes OUT.md and OUT.json.
The anchor needs python3-torch and OpenBLAS: sudo bash bench/setup_torch.sh. Without OpenBLAS only the wasm path
runs.

Presets list the thread counts they are timed with (tiny: 1 and 2, each side keeping its faster; others: 2).

Then seeds per hour of the paper suite's BC run (stitch and Wordle) trained one per process (1 × 2 threads, 2 × 1
thread) or as stacked seeds (2 or 3 in one computation). --seeds-only measures just that section and rewrites it into
an existing OUT.md/OUT.json.

GPT-2 small's training step (one JSON line): as a language model on GPT-2's 50,257 tokens (124 M parameters, 4 x 128
tokens; one step: a second one passes the wasm heap's 4 GiB), and ILQL's step on the dialogue task's 825 tokens in the
shared layout (92 M trained):
  deno task bench:speed --worker gpt2 --threads 2
  deno task bench:speed --worker step --preset gpt2-small --layout shared --threads 2

Profile one configuration (kernel counts and times of one step, on stderr):
  deno task bench:speed --worker step --preset tiny --layout shared --blas on --threads 1 --profile`;

async function main() {
  const { values } = parseFlags(Deno.args, {
    worker: { type: "string" },
    preset: { type: "string", default: "tiny,wordle,dialogue,gpt-small" },
    layout: { type: "string", default: "separate,shared" },
    blas: { type: "string", default: "on" },
    rounds: { type: "string", default: "2" },
    warmup: { type: "string" },
    reps: { type: "string" },
    kernels: { type: "string", default: "avx2,avx512" },
    "no-torch": { type: "boolean", default: false },
    "no-wasm": { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    threads: { type: "string" },
    seeds: { type: "string" },
    task: { type: "string" },
    "seeds-only": { type: "boolean", default: false },
    out: { type: "string", default: "results/speed" },
    help: { type: "boolean", default: false },
  }, false);
  if (values.help) return console.log(HELP);
  const presets = values.preset.split(",") as PresetName[];
  const layouts = values.layout.split(",") as Layout[];
  const kernels = values.kernels.split(",").filter(Boolean) as Kernel[];
  for (const p of presets) if (!(p in PRESETS)) throw new UsageError(`unknown preset '${p}' (${Object.keys(PRESETS)})`);
  for (const l of layouts) if (l !== "separate" && l !== "shared") throw new UsageError(`unknown layout '${l}'`);
  for (const k of kernels) if (!(k in CORES)) throw new UsageError(`unknown kernel type '${k}' (avx2, avx512)`);
  const blas = values.blas as BlasMode;
  if (values.worker === "step") {
    const p = PRESETS[presets[0]!];
    return await workerStep(
      presets[0]!,
      layouts[0]!,
      blas,
      Number(values.warmup ?? p.warmup),
      Number(values.reps ?? p.reps),
      values.profile,
      values.threads === undefined ? undefined : Number(values.threads),
    );
  }
  if (values.worker === "seeds") {
    return await workerSeeds(
      values.task ?? "wordle",
      Number(values.seeds ?? 1),
      values.threads === undefined ? undefined : Number(values.threads),
      Number(values.warmup ?? 30),
      Number(values.reps ?? 150),
    );
  }
  if (values.worker === "decode") return await workerDecode(blas);
  if (values.worker === "peak") return await workerPeak();
  if (values.worker === "gpt2") {
    return await workerGpt2(
      Number(values.warmup ?? 0),
      Number(values.reps ?? 1),
      values.threads === undefined ? undefined : Number(values.threads),
    );
  }
  if (values.worker !== undefined) throw new UsageError(`unknown worker '${values.worker}'`);

  const rounds = Number(values.rounds);
  const self = new URL(import.meta.url).pathname;
  const denoArgs = [
    "run",
    "--allow-read",
    "--allow-write=.cache",
    "--allow-sys=cpus,homedir",
    "--allow-ffi",
    "--allow-env=ILQL_BLAS_LIB,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI,DISABLE_SYSTEM_FONTS_LOAD",
    self,
  ];
  if (values["seeds-only"]) {
    const previous = JSON.parse(await Deno.readTextFile(`${values.out}.json`));
    const report = { ...previous, seeds: await seedsSection(denoArgs, rounds) };
    await writeFileAtomic(`${values.out}.json`, JSON.stringify(report, null, 2) + "\n");
    await writeFileAtomic(`${values.out}.md`, markdown(report));
    return console.log(`wrote the stacked-seeds section of ${values.out}.md and ${values.out}.json`);
  }
  const withTorch = !values["no-torch"] && (await torchAvailable());
  if (!values["no-torch"] && !withTorch) {
    console.warn(
      "warning: PyTorch anchor skipped (python3-torch missing); install it with: sudo bash bench/setup_torch.sh",
    );
  }
  const peaks: Record<string, number> = {};
  let withBlas = true;
  for (const k of kernels) {
    try {
      const r = await runJson(Deno.execPath(), [...denoArgs, "--worker", "peak"], { OPENBLAS_CORETYPE: CORES[k] });
      peaks[k] = r.gflops as number;
      console.log(`sgemm 2048³ with ${r.core}: ${fmt(peaks[k])} GFLOP/s`);
    } catch (e) {
      withBlas = false;
      console.warn(
        `warning: native BLAS unavailable, timing the wasm path only (${(e as Error).message.slice(0, 160)})`,
      );
      break;
    }
  }
  const rows: Array<Record<string, unknown>> = [];
  for (const preset of presets) {
    const p = PRESETS[preset];
    const warmup = values.warmup ?? String(p.warmup);
    const reps = values.reps ?? String(p.reps);
    for (const layout of p.lmOnly ? ["shared" as const] : layouts) {
      const runs: Record<string, Array<Record<string, unknown>>> = {};
      const add = (name: string, r: Record<string, unknown>, key: string) => {
        (runs[name] ??= []).push(r);
        console.log(`${preset}/${layout}: ${name} ${fmt(r[key] as number)} ms`);
      };
      for (let r = 0; r < rounds; r++) {
        for (const threads of p.threads) {
          const at = `@${threads}`;
          const step = [
            ...["--worker", "step", "--preset", preset, "--layout", layout, "--warmup", warmup, "--reps", reps],
            ...["--threads", String(threads)],
          ];
          for (const k of kernels) {
            const env = { OPENBLAS_CORETYPE: CORES[k] };
            if (withBlas) {
              const r = await runJson(Deno.execPath(), [...denoArgs, ...step, "--blas", "on"], env);
              add(`ours_${k}${at}`, r, "ms_median");
            }
            if (!withTorch || p.lmOnly) continue;
            const targs = [
              new URL("torch_ilql_step.py", import.meta.url).pathname,
              ...["--preset", preset, "--warmup", warmup, "--reps", reps, "--threads", String(threads)],
            ];
            if (layout === "shared") targs.push("--shared-trunk");
            add(`torch_${k}${at}`, await runJson(PYTHON, targs, env), "ms_per_step_median");
          }
          if (!values["no-wasm"] || !withBlas) {
            const r = await runJson(Deno.execPath(), [...denoArgs, ...step, "--blas", "off"]);
            add(`ours_wasm${at}`, r, "ms_median");
          }
        }
      }
      const row: Record<string, unknown> = {
        preset,
        layout,
        warmup: Number(warmup),
        reps: Number(reps),
        rounds,
        flops: stepFlops(p, layout),
      };
      for (const [key, rs] of Object.entries(runs)) {
        const [name, threads] = key.split("@") as [string, string];
        const torch = name.startsWith("torch");
        const ms = rs.map((x) => x[torch ? "ms_per_step_median" : "ms_median"] as number);
        const cell: Cell = {
          ms: median(ms),
          range: [Math.min(...ms), Math.max(...ms)],
          threads: Number(threads),
          byThreads: {},
          tokens_per_s: median(rs.map((x) => x.tokens_per_s as number)),
          peak_rss_mib: Math.max(...rs.map((x) => x.peak_rss_mib as number)),
          loss_decreased: rs.every((x) => x.loss_decreased),
          params_trainable: rs[0]!.params_trainable as number,
          backend: (torch ? rs[0]!.blas : rs[0]!.backend) as string,
        };
        // each side keeps its faster thread count; the other counts' times stay in the record
        const previous = row[name] as Cell | undefined;
        const byThreads = { ...previous?.byThreads, [threads]: cell.ms };
        row[name] = previous === undefined || cell.ms < previous.ms
          ? { ...cell, byThreads }
          : { ...previous, byThreads };
      }
      rows.push(row);
    }
  }
  const decode: Record<string, Record<string, unknown>> = {};
  for (const mode of withBlas ? ["on", "off"] : ["off"]) {
    decode[mode] = await runJson(Deno.execPath(), [...denoArgs, "--worker", "decode", "--blas", mode]);
  }
  const seeds = await seedsSection(denoArgs, rounds);
  const report = { date: new Date().toISOString(), machine: machineLine(), kernels, peaks, rows, decode, seeds };
  await writeFileAtomic(`${values.out}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(`${values.out}.md`, markdown(report));
  console.log(`wrote ${values.out}.md and ${values.out}.json`);
}

/** How several seeds of one run are trained: processes side by side, each with threads and stacked seeds. */
interface SeedsWay {
  processes: number;
  threads: number;
  stacked: number;
}

const SEEDS_WAYS: SeedsWay[] = [
  { processes: 1, threads: 1, stacked: 1 },
  { processes: 1, threads: 2, stacked: 1 },
  { processes: 2, threads: 1, stacked: 1 },
  { processes: 1, threads: 1, stacked: 2 },
  { processes: 1, threads: 1, stacked: 3 },
  { processes: 1, threads: 2, stacked: 3 },
  { processes: 2, threads: 1, stacked: 3 },
];

/** Seeds per hour of the paper suite's BC run (start and fine-tuning) on stitch and Wordle, for each way. */
async function seedsSection(denoArgs: string[], rounds: number) {
  const out: Array<{ task: string; way: SeedsWay; msPerStep: number; runSteps: number; seedsPerHour: number }> = [];
  for (const task of ["stitch", "wordle"]) {
    const perWay = new Map<SeedsWay, Array<{ ms: number; seedsPerHour: number; runSteps: number }>>();
    for (let r = 0; r < rounds; r++) {
      for (const way of SEEDS_WAYS) {
        const args = [...denoArgs, "--worker", "seeds", "--task", task, "--seeds", String(way.stacked)];
        const results = await Promise.all(
          Array.from(
            { length: way.processes },
            () => runJson(Deno.execPath(), [...args, "--threads", String(way.threads)]),
          ),
        );
        const runSteps = results[0]!.run_steps as number;
        // every process trains `stacked` seeds, one step per ms_per_step
        const seedsPerHour = results.reduce(
          (n, x) => n + way.stacked * 3.6e6 / ((x.ms_per_step as number) * runSteps),
          0,
        );
        const ms = median(results.map((x) => x.ms_per_step as number));
        (perWay.get(way) ?? perWay.set(way, []).get(way)!).push({ ms, seedsPerHour, runSteps });
        console.log(
          `${task} ${way.processes}×${way.threads}t stacked ${way.stacked}: ${fmt(ms, 1)} ms/step, ${
            fmt(seedsPerHour, 2)
          } seeds/h`,
        );
      }
    }
    for (const [way, xs] of perWay) {
      out.push({
        task,
        way,
        msPerStep: median(xs.map((x) => x.ms)),
        runSteps: xs[0]!.runSteps,
        seedsPerHour: median(xs.map((x) => x.seedsPerHour)),
      });
    }
  }
  return out;
}

function machineLine(): string {
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
}

type Cell = {
  ms: number;
  range: number[];
  /** The thread count of `ms` (the faster, where the preset times several). */
  threads: number;
  /** Median ms by thread count. */
  byThreads: Record<string, number>;
  tokens_per_s: number;
  params_trainable: number;
  peak_rss_mib: number;
  loss_decreased: boolean;
  backend: string;
};

function markdown(report: {
  date: string;
  machine: string;
  kernels: Kernel[];
  peaks: Record<string, number>;
  rows: Array<Record<string, unknown>>;
  decode: Record<string, Record<string, unknown>>;
  seeds?: Awaited<ReturnType<typeof seedsSection>>;
}): string {
  const { kernels, peaks, rows } = report;
  const cell = (row: Record<string, unknown>, name: string) => row[name] as Cell | undefined;
  // records written before thread counts were timed have no `threads` (they ran 2)
  const timed = (c: Cell | undefined) => c === undefined ? "–" : `${fmt(c.ms)}${c.threads === 1 ? " (1t)" : ""}`;
  const lines = [
    "# ILQL training-step speed",
    "",
    `Generated by \`deno task bench:speed\` on ${
      report.date.slice(0, 10)
    } (${report.machine}). Each cell is the median`,
    "over rounds of per-process medians (W warm-up + R timed steps). Ours and the PyTorch anchor (`bench/torch_ilql_step.py`,",
    "torch 1.13 eager + OpenBLAS) ran alternately in the same sitting with the same preset, layout, dropout 0.1, W/R and",
    "thread count; with native BLAS both sides ran the same OpenBLAS kernel type (AVX2 = `Haswell`, AVX-512 =",
    "`SkylakeX`). Both sides run 2 threads, except where a cell says `1t`: `tiny` is timed with 1 and 2 threads and",
    "each side keeps its faster count. Ratio = our ms ÷ torch ms of the same kernel type (lower is better). `wasm` is",
    "our path without BLAS (tuned tfjs-wasm); its ratio is against the faster torch.",
    "",
    `| preset | layout | W/R × rounds |${
      kernels.map((k) => ` ours ${k} ms | torch ${k} ms | ratio ${k} |`).join("")
    } ours wasm ms | ratio wasm |`,
    `|---|---|---|${kernels.map(() => "---:|---:|---:|").join("")}---:|---:|`,
  ];
  for (const r of rows) {
    const torchBest = Math.min(...kernels.map((k) => cell(r, `torch_${k}`)?.ms ?? Infinity));
    const cells = kernels.map((k) => {
      const o = cell(r, `ours_${k}`), t = cell(r, `torch_${k}`);
      return ` ${timed(o)} | ${timed(t)} | ${o && t ? fmt(o.ms / t.ms, 2) + "×" : "–"} |`;
    }).join("");
    const w = cell(r, "ours_wasm");
    lines.push(
      `| ${r.preset} | ${r.layout} | ${r.warmup}/${r.reps} × ${r.rounds} |${cells} ${timed(w)} | ${
        w && Number.isFinite(torchBest) ? fmt(w.ms / torchBest, 2) + "×" : "–"
      } |`,
    );
  }
  lines.push(
    "",
    `Throughput and memory. GFLOP/s = the step's matmul FLOPs (backward counted as twice the forward) per second;`,
    `the practical peak is OpenBLAS sgemm at 2048³ measured in the same run (${
      kernels.map((k) => `${k}: ${fmt(peaks[k])} GFLOP/s`).join(", ") || "not measured"
    }). Peak RSS is getrusage's maximum resident set size of each process.`,
    "",
    `| preset | layout | GFLOP/step |${
      kernels.map((k) => ` ours ${k} tok/s | ours ${k} GFLOP/s (% peak) |`).join("")
    } ours peak RSS MiB | torch peak RSS MiB | ours ÷ torch memory |`,
    `|---|---|---:|${kernels.map(() => "---:|---:|").join("")}---:|---:|---:|`,
  );
  for (const r of rows) {
    const gflop = (r.flops as number) / 1e9;
    const cells = kernels.map((k) => {
      const o = cell(r, `ours_${k}`) ?? cell(r, "ours_wasm");
      const g = o ? gflop / (o.ms / 1000) : NaN;
      return ` ${fmt(o?.tokens_per_s)} | ${fmt(g, 1)} (${peaks[k] ? fmt(100 * g / peaks[k]!, 1) + " %" : "–"}) |`;
    }).join("");
    const ours = Math.max(...kernels.map((k) => cell(r, `ours_${k}`)?.peak_rss_mib ?? 0), 0) ||
      cell(r, "ours_wasm")?.peak_rss_mib;
    const torch = Math.max(...kernels.map((k) => cell(r, `torch_${k}`)?.peak_rss_mib ?? 0), 0) || undefined;
    lines.push(
      `| ${r.preset} | ${r.layout} | ${fmt(gflop, 2)} |${cells} ${fmt(ours)} | ${fmt(torch)} | ${
        ours && torch ? fmt(ours / torch, 2) + "×" : "–"
      } |`,
    );
  }
  const all = rows.flatMap((r) =>
    Object.values(r).filter((v): v is Cell => typeof v === "object" && v !== null && "ms" in v)
  );
  lines.push(
    "",
    `Backends: ${[...new Set(all.map((c) => c.backend))].join("; ")}.`,
    `The loss decreased over the timed steps in every run: ${all.every((c) => c.loss_decreased)}.`,
    "",
    "`gpt-small` is the plain language-model step (behaviour cloning on every token, untied head, no dropout) of the",
    "backend notes' small GPT (vocab 64, d 128, 4 layers, T 32, B 32); their tuned tfjs-wasm measurement was 303.6 ms",
    "(PyTorch: 38.6 ms AVX-512, 54.5 ms AVX2), measured on another day; it has no anchor run here.",
    "",
    "## Decoding and evaluation (wordle preset, separate layout)",
    "",
    "Value-guided decoding with β = 8 runs the policy, target and value transformers at every token; 32 rows × 48 new",
    "tokens after a 16-token prompt. The Wordle evaluator plays 1,024 games with greedy value-guided decoding (β = 16).",
    "",
    "| path | KV cache tokens/s | full recomputation tokens/s | speed-up | Wordle evaluator games/s |",
    "|---|---:|---:|---:|---:|",
    ...Object.entries(report.decode).map(([mode, d]) =>
      `| ${mode === "on" ? "native BLAS" : "wasm only"} | ${fmt(d.cached_tokens_per_s as number)} | ${
        fmt(d.recompute_tokens_per_s as number)
      } | ${fmt((d.cached_tokens_per_s as number) / (d.recompute_tokens_per_s as number), 1)}× | ${
        fmt(d.wordle_games_per_s as number, 1)
      } |`
    ),
    "",
  );
  if (report.seeds !== undefined) lines.push(...seedsMarkdown(report.seeds));
  return lines.join("\n");
}

function seedsMarkdown(rows: Awaited<ReturnType<typeof seedsSection>>): string[] {
  const best = new Map<string, number>();
  for (const r of rows) best.set(r.task, Math.max(best.get(r.task) ?? 0, r.seedsPerHour));
  return [
    "## Several seeds: processes, threads and stacked seeds (BC of the paper suite)",
    "",
    "Seeds per hour of the paper suite's BC run (its shared start and its fine-tuning, the steps below) on this",
    "machine, from ms per optimizer step (median of the rounds; 20 warm-up + 100 timed steps per process). `stacked S`",
    "trains S seeds as one computation (`trainSeeds`: weights stacked on a leading seed axis); `P × Nt` runs P",
    "processes side by side with N threads each. `deno task bench` runs one 1-thread job per core by default, and",
    "stacks seeds only with `--stack-seeds`.",
    "",
    "| task (model) | way | ms per step | steps per run | seeds per hour | ÷ best |",
    "|---|---|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.task} | ${r.way.processes} × ${r.way.threads}t, stacked ${r.way.stacked} | ${fmt(r.msPerStep, 1)} | ${
        r.runSteps.toLocaleString("en")
      } | ${fmt(r.seedsPerHour, 2)} | ${fmt(r.seedsPerHour / best.get(r.task)!, 2)} |`
    ),
    "",
  ];
}

if (import.meta.main) await runMain(main);
