/**
 * `deno task bench:speed`: times one ILQL training step (ms/step, tokens/s, peak memory) for the presets of the
 * PyTorch anchor (`bench/torch_ilql_step.py`, copied from shared/anchors), in both layouts, alternating our runs
 * with the anchor's in one sitting, plus decoding tokens/s with and without the KV cache. Writes
 * `results/speed.md` and `results/speed.json`.
 *
 * Each measurement is a separate process (`--worker`), so peak memory is per configuration.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import os from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { initBackend } from "../ilql/backend.ts";
import { defaultsOf } from "../ilql/config.ts";
import { DECODE_SPEC, generate } from "../ilql/decode.ts";
import type { Batch } from "../ilql/episode.ts";
import { ILQL_SPEC, ilqlUpdate, initIlqlState, makeOptimizer } from "../ilql/ilql.ts";
import { IlqlModel, MODEL_SPEC } from "../ilql/model.ts";
import { OPTIM_SPEC } from "../ilql/optim.ts";
import { Prng } from "../ilql/prng.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";

/**
 * Shapes of the anchor's presets (torch_ilql_step.py PRESETS). `gpt-small` is not an ILQL step: it is the plain
 * language-model step of the shared notes' backend.md "small" configuration (behaviour cloning on every token,
 * untied head, no dropout), whose tuned tfjs-wasm time there was 303.6 ms; it has no anchor run.
 */
const PRESETS = {
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
  },
} as const;
type PresetName = keyof typeof PRESETS;
type Layout = "separate" | "shared";

/** The anchor's synthetic batch layout (make_batch): lead observation, then action/observation blocks, `</eod>`. */
function syntheticBatch(p: typeof PRESETS[PresetName], prng: Prng): Batch {
  const { batch: B, seqLen: T, vocab: V } = p;
  const isAction = new Array<boolean>(T).fill(false);
  const lastOfBlock: number[] = [];
  let pos = 1 + p.leadObs;
  while (pos <= T - 2) {
    const end = Math.min(pos + p.actLen, T - 1);
    for (let i = pos; i < end; i++) isAction[i] = true;
    lastOfBlock.push(end - 1);
    pos = Math.min(end + p.obsLen, T - 1);
  }
  const actionPos = isAction.flatMap((a, i) => (a ? [i - 1] : [])); // hidden state at p chooses x[p+1]
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
  };
  for (let b = 0; b < B; b++) {
    actionPos.forEach((ap, k) => {
      out.actionIndex[b * K + k] = b * T + ap;
      out.stateIndex[b * (K + 1) + k] = b * T + ap;
      out.actions[b * K + k] = tokens[b * T + ap + 1]!;
      out.positionSlot[b * T + ap] = b * K + k + 1;
      if (lastOfBlock.includes(ap + 1)) out.rewards[b * K + k] = -prng.int(2);
    });
    out.stateIndex[b * (K + 1) + K] = b * T + T - 1;
    out.terminals[b * (K + 1) + K] = 1;
  }
  return out;
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

/** Worker: times the ILQL step of one preset and layout; prints one JSON line. */
async function workerStep(
  preset: PresetName,
  layout: Layout,
  threads: number | undefined,
  warmup: number,
  reps: number,
) {
  const backend = await initBackend(threads === undefined ? {} : { threads });
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
      dropout: 0.1,
    },
    p.vocab,
    prng.fork(),
  );
  // the anchor's settings: expectile 0.7, AdamW lr 1e-4 wd 0, polyak 0.005, awac weight 1 with beta 0
  const ilql = { ...defaultsOf(ILQL_SPEC), cqlWeight: p.cqlWeight };
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
  const med = median(times);
  console.log(JSON.stringify({
    impl: "ilql-bench",
    preset,
    layout,
    backend: backend.summary,
    ms_median: med,
    ms_min: Math.min(...times),
    ms_max: Math.max(...times),
    tokens_per_s: (p.batch * p.seqLen) / med * 1000,
    peak_rss_mib: peakRssMiB(),
    params_trainable: [...model.trainableVariables().values()].reduce((s, v) => s + v.size, 0),
    loss_decreased: losses[losses.length - 1]! < losses[0]!,
    warmup,
    reps,
  }));
}

/** Worker: decoding tokens/s on the wordle preset (separate layout, β > 0 so all three trunks run). */
async function workerDecode(threads: number | undefined) {
  await initBackend(threads === undefined ? {} : { threads });
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
  const out: Record<string, number> = {};
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
  console.log(JSON.stringify({ impl: "ilql-bench", kind: "decode", rows, promptLen, newTokens, beta: 8, ...out }));
  tf.disposeVariables();
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

const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      worker: { type: "string" },
      preset: { type: "string", default: "wordle,dialogue,gpt-small" },
      layout: { type: "string", default: "separate,shared" },
      threads: { type: "string" },
      rounds: { type: "string", default: "2" },
      warmup: { type: "string" },
      reps: { type: "string" },
      kernels: { type: "string", default: "avx2,avx512" },
      "no-torch": { type: "boolean", default: false },
      out: { type: "string", default: "results/speed" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (values.help) {
    console.log(`deno task bench:speed [--preset wordle,dialogue] [--layout separate,shared] [--rounds 2]
  [--warmup W --reps R] [--kernels avx2,avx512] [--threads N] [--no-torch] [--out results/speed]
Times our ILQL step and the PyTorch anchor alternately (same preset, layout and W/R), then decoding.
Writes OUT.md and OUT.json. The anchor needs python3-torch and OpenBLAS: bash bench/setup_torch.sh (root).`);
    return;
  }
  const presets = values.preset.split(",") as PresetName[];
  const layouts = values.layout.split(",") as Layout[];
  for (const p of presets) if (!(p in PRESETS)) throw new Error(`Unknown preset '${p}' (${Object.keys(PRESETS)})`);
  for (const l of layouts) if (l !== "separate" && l !== "shared") throw new Error(`Unknown layout '${l}'`);
  if (values.worker === "step") {
    const p = PRESETS[presets[0]!];
    await workerStep(
      presets[0]!,
      layouts[0]!,
      threads,
      Number(values.warmup ?? p.warmup),
      Number(values.reps ?? p.reps),
    );
    return;
  }
  if (values.worker === "decode") return await workerDecode(threads);
  if (values.worker !== undefined) throw new Error(`Unknown worker '${values.worker}'`);

  const rounds = Number(values.rounds);
  const kernels = values.kernels.split(",").filter(Boolean);
  const withTorch = !values["no-torch"] && (await torchAvailable());
  if (!values["no-torch"] && !withTorch) {
    console.warn(
      "warning: PyTorch anchor skipped (python3-torch missing); install it with: sudo bash bench/setup_torch.sh",
    );
  }
  const self = new URL(import.meta.url).pathname;
  const denoArgs = ["run", "--allow-read", "--allow-write=.cache", "--allow-sys=cpus", self];
  const rows: Array<Record<string, unknown>> = [];
  for (const preset of presets) {
    const p = PRESETS[preset];
    const warmup = values.warmup ?? String(p.warmup);
    const reps = values.reps ?? String(p.reps);
    for (const layout of p.lmOnly ? ["shared" as const] : layouts) {
      const ours: Array<Record<string, unknown>> = [];
      const torch: Record<string, Array<Record<string, unknown>>> = Object.fromEntries(kernels.map((k) => [k, []]));
      for (let r = 0; r < rounds; r++) {
        const args = [
          ...denoArgs,
          "--worker",
          "step",
          "--preset",
          preset,
          "--layout",
          layout,
          "--warmup",
          warmup,
          "--reps",
          reps,
        ];
        if (threads !== undefined) args.push("--threads", String(threads));
        ours.push(await runJson(Deno.execPath(), args));
        console.log(`${preset}/${layout} round ${r + 1}: ours ${fmt(ours.at(-1)!.ms_median as number)} ms`);
        if (!withTorch || p.lmOnly) continue;
        for (const k of kernels) {
          const targs = [
            new URL("torch_ilql_step.py", import.meta.url).pathname,
            "--preset",
            preset,
            "--warmup",
            warmup,
            "--reps",
            reps,
          ];
          if (layout === "shared") targs.push("--shared-trunk");
          if (k === "avx512") targs.push("--avx512");
          // AVX2 kernels are forced the same way the anchor's environment forces them
          const env = k === "avx2" ? { OPENBLAS_CORETYPE: "Haswell" } : undefined;
          torch[k]!.push(await runJson(PYTHON, targs, env));
          console.log(
            `${preset}/${layout} round ${r + 1}: torch ${k} ${fmt(torch[k]!.at(-1)!.ms_per_step_median as number)} ms`,
          );
        }
      }
      const med = (xs: Array<Record<string, unknown>>, key: string) => median(xs.map((x) => x[key] as number));
      const row: Record<string, unknown> = {
        preset,
        layout,
        warmup: Number(warmup),
        reps: Number(reps),
        rounds,
        ours_ms: med(ours, "ms_median"),
        ours_ms_range: [
          Math.min(...ours.map((x) => x.ms_median as number)),
          Math.max(...ours.map((x) => x.ms_median as number)),
        ],
        ours_tokens_per_s: med(ours, "tokens_per_s"),
        ours_peak_rss_mib: Math.max(...ours.map((x) => x.peak_rss_mib as number)),
        ours_loss_decreased: ours.every((x) => x.loss_decreased),
        ours_params_trainable: ours[0]!.params_trainable,
        backend: ours[0]!.backend,
      };
      for (const k of kernels) {
        if (torch[k]!.length === 0) continue;
        row[`torch_${k}_ms`] = med(torch[k]!, "ms_per_step_median");
        row[`torch_${k}_peak_rss_mib`] = Math.max(...torch[k]!.map((x) => x.peak_rss_mib as number));
        row[`torch_${k}_blas`] = torch[k]![0]!.blas;
        row[`torch_${k}_loss_decreased`] = torch[k]!.every((x) => x.loss_decreased);
        row[`torch_${k}_params_trainable`] = torch[k]![0]!.params_trainable;
        row[`ratio_${k}`] = (row.ours_ms as number) / (row[`torch_${k}_ms`] as number);
      }
      rows.push(row);
    }
  }
  const decodeArgs = [...denoArgs, "--worker", "decode"];
  if (threads !== undefined) decodeArgs.push("--threads", String(threads));
  const decode = await runJson(Deno.execPath(), decodeArgs);
  const report = { date: new Date().toISOString(), machine: machineLine(), rows, decode };
  await writeFileAtomic(`${values.out}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(`${values.out}.md`, markdown(report, kernels));
  console.log(`wrote ${values.out}.md and ${values.out}.json`);
}

function machineLine(): string {
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
}

function markdown(
  report: { date: string; machine: string; rows: Array<Record<string, unknown>>; decode: Record<string, unknown> },
  kernels: string[],
): string {
  const lines = [
    "# ILQL training-step speed",
    "",
    `Generated by \`deno task bench:speed\` on ${report.date.slice(0, 10)} (${report.machine}).`,
    "Each cell is the median over rounds of per-process medians (W warm-up + R timed steps); ours and the PyTorch",
    "anchor (`bench/torch_ilql_step.py`, torch 1.13 eager + OpenBLAS, 2 threads) ran alternately in the same sitting,",
    "same preset, layout, dropout 0.1 and W/R. Ratio = our ms ÷ torch ms (lower is better). Peak RSS is per process.",
    "",
    `| preset | layout | W/R × rounds | ours ms/step (range) | ours tok/s | ours peak RSS MiB |${
      kernels.map((k) => ` torch ${k} ms | ratio vs ${k} |`).join("")
    } torch peak RSS MiB |`,
    `|---|---|---|---:|---:|---:|${kernels.map(() => "---:|---:|").join("")}---:|`,
  ];
  for (const r of report.rows) {
    const range = r.ours_ms_range as number[];
    const torchCells = kernels.map((k) =>
      r[`torch_${k}_ms`] === undefined
        ? " – | – |"
        : ` ${fmt(r[`torch_${k}_ms`] as number)} | ${fmt(r[`ratio_${k}`] as number, 2)}× |`
    ).join("");
    const torchRss = kernels.map((k) => r[`torch_${k}_peak_rss_mib`]).filter((x) => x !== undefined) as number[];
    lines.push(
      `| ${r.preset} | ${r.layout} | ${r.warmup}/${r.reps} × ${r.rounds} | ${fmt(r.ours_ms as number)} (${
        fmt(range[0]!)
      }–${fmt(range[1]!)}) | ${fmt(r.ours_tokens_per_s as number)} | ${
        fmt(r.ours_peak_rss_mib as number)
      } |${torchCells} ${torchRss.length ? fmt(Math.max(...torchRss)) : "–"} |`,
    );
  }
  const first = report.rows[0]!;
  lines.push(
    "",
    `Our backend: ${first.backend}. Torch BLAS: ${
      kernels.map((k) => `${k} = ${first[`torch_${k}_blas`] ?? "not run"}`).join("; ")
    }.`,
    `All runs showed the loss decreasing over the timed steps: ${
      report.rows.every((r) => r.ours_loss_decreased && kernels.every((k) => r[`torch_${k}_loss_decreased`] !== false))
    }.`,
    "",
    "`gpt-small` is the plain language-model step (behaviour cloning on every token) of backend.md's small GPT",
    "(vocab 64, d 128, 4 layers, T 32, B 32, no dropout): it checks that the tuned wasm path of those notes is in",
    "use (their measurement: 303.6 ms on tfjs-wasm, 38.6 ms on PyTorch AVX-512, 54.5 ms AVX2).",
    "",
    "## Decoding (wordle preset, separate layout, β = 8: policy, target and value transformers each step)",
    "",
    `${report.decode.rows} rows × ${report.decode.newTokens} new tokens after a ${report.decode.promptLen}-token prompt.`,
    "",
    "| path | tokens/s |",
    "|---|---:|",
    `| KV cache | ${fmt(report.decode.cached_tokens_per_s as number)} |`,
    `| full recomputation | ${fmt(report.decode.recompute_tokens_per_s as number)} |`,
    "",
  );
  return lines.join("\n");
}

if (import.meta.main) await main();
