/**
 * A task made from a user's own JSON Lines file of episodes (`deno task bench --tasks file:PATH.jsonl`), in the
 * project's episode format (`docs/episode.schema.json`). An optional header line configures it:
 *
 * ```json
 * {"header": {"tokenizer": "char", "heldOut": 0.1, "environment": "env.ts", "maxTurns": 20}}
 * ```
 *
 * - `tokenizer`: `char` (one token per character of the file's texts, the default) or `gpt2` (the GPT-2 BPE,
 *   remapped to the pieces the file uses);
 * - `heldOut`: the share of episodes kept out of training and scored (every k-th, deterministic; default 0.1);
 * - `environment`: a module (path relative to the file) exporting `environments(count, seed)`, `LanguageEnv`s of the
 *   data's game; with it runs are scored by the usual return of played episodes, and `floor`/`ceiling` (numbers)
 *   may name the worst and best returns (default: the data's lowest and highest);
 * - `maxTurns`: agent turns per played episode (default 20).
 *
 * Without an environment the score of a run is its policy's **held-out log-likelihood**: per held-out episode, the
 * mean log-probability of its action tokens (nats; 0 is perfect, a uniform policy scores −log V). Value methods add
 * **value calibration**: V at the state before each held-out action utterance against the discounted return that
 * followed (rank correlation and mean absolute error). Both are metrics beside the return when an environment plays.
 *
 * The file's SHA-256 is part of every run's identity (the task's `dataVersion`), so an edited file never reuses the
 * runs of the old one. A bad file stops the bench with one line naming the file and line, before any compute.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../ilql/cli.ts";
import { episodeReturn } from "../ilql/data.ts";
import { agentUtterances, encodeEpisode, type Episode, parseEpisodesJsonl } from "../ilql/episode.ts";
import { CharTokenizer, type Tokenizer } from "../ilql/tokenizer.ts";
import { spearman } from "./stats.ts";
import { type LanguageEnv, type ModelScorer, rollout, textsOf } from "../tasks/task.ts";
import { RemappedBpeTokenizer } from "../tasks/toxicity/tokenizer.ts";
import type { TaskDefinition, TaskEvaluation } from "./registry.ts";

/** The prefix that names a file task in `--tasks`. */
export const FILE_TASK_PREFIX = "file:";

/** What a file's header may set. */
export interface FileTaskHeader {
  tokenizer: "char" | "gpt2";
  heldOut: number;
  environment: string | null;
  maxTurns: number;
  floor: number | null;
  ceiling: number | null;
}

const HEADER_KEYS = ["tokenizer", "heldOut", "environment", "maxTurns", "floor", "ceiling", "description"];

function fail(where: string, message: string): never {
  throw new UsageError(`${where}: ${message}`);
}

/** The header's settings over their defaults; an unknown key or a wrong type names the file's line 1. */
export function fileTaskHeader(header: Record<string, unknown> | null, path: string): FileTaskHeader {
  const h = header ?? {};
  const where = `${path} line 1 (header)`;
  for (const key of Object.keys(h)) {
    if (!HEADER_KEYS.includes(key)) fail(where, `unknown key '${key}' (known: ${HEADER_KEYS.join(", ")})`);
  }
  const tokenizer = h.tokenizer ?? "char";
  if (tokenizer !== "char" && tokenizer !== "gpt2") {
    fail(where, `'tokenizer' must be "char" or "gpt2", got ${JSON.stringify(tokenizer)}`);
  }
  const heldOut = h.heldOut ?? 0.1;
  if (typeof heldOut !== "number" || !(heldOut > 0 && heldOut < 1)) {
    fail(where, `'heldOut' must be a number between 0 and 1 (exclusive), got ${JSON.stringify(heldOut)}`);
  }
  const maxTurns = h.maxTurns ?? 20;
  if (!Number.isInteger(maxTurns) || (maxTurns as number) < 1) {
    fail(where, `'maxTurns' must be a positive integer, got ${JSON.stringify(maxTurns)}`);
  }
  const environment = h.environment ?? null;
  if (environment !== null && typeof environment !== "string") {
    fail(where, `'environment' must be a module path, got ${JSON.stringify(environment)}`);
  }
  const bound = (key: "floor" | "ceiling") => {
    const v = h[key] ?? null;
    if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
      fail(where, `'${key}' must be a finite number, got ${JSON.stringify(v)}`);
    }
    return v as number | null;
  };
  if (typeof h.description !== "undefined" && typeof h.description !== "string") {
    fail(where, `'description' must be a string`);
  }
  return {
    tokenizer,
    heldOut,
    environment: environment as string | null,
    maxTurns: maxTurns as number,
    floor: bound("floor"),
    ceiling: bound("ceiling"),
  };
}

/** Whether episode `i` of a file is held out: every ⌈1/share⌉-th, evenly spread. */
export function isHeldOut(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

/**
 * Scores of a model on held-out episodes: per episode the mean log-probability of its action tokens; for a model
 * with values, V before each action utterance against the return that followed, discounted per action token by the
 * scorer's γ (the reward sits on an utterance's last token).
 */
export function heldOutScores(
  episodes: readonly Episode[],
  scorer: ModelScorer,
  tokenizer: Tokenizer,
): { perEpisode: number[]; metrics: Record<string, number> } {
  const items = agentUtterances(episodes);
  const logProbs = scorer.logProbs(items);
  const sums = new Float64Array(episodes.length), counts = new Float64Array(episodes.length);
  items.forEach((item, j) => {
    sums[item.episode]! += logProbs[j]!.logProb;
    counts[item.episode]! += logProbs[j]!.tokens;
  });
  const perEpisode = Array.from(sums, (s, i) => s / counts[i]!);
  const tokens = counts.reduce((a, b) => a + b, 0);
  const metrics: Record<string, number> = {
    heldout_nll: -sums.reduce((a, b) => a + b, 0) / tokens,
    heldout_episodes: episodes.length,
  };
  if (scorer.values !== null) {
    // return-to-go before each utterance, from the episode's end backwards, γ per action token
    const toGo: number[] = [];
    for (const e of episodes) {
      const acts = e.segments.filter((s) => s.kind === "action");
      const out = new Array<number>(acts.length);
      let g = 0;
      for (let k = acts.length - 1; k >= 0; k--) {
        const n = tokenizer.encode(acts[k]!.text).length + 1; // its tokens and `</a>`
        g = acts[k]!.reward! + scorer.gamma ** n * g;
        out[k] = g;
      }
      toGo.push(...out);
    }
    const predicted = scorer.values(items).map((v) => v.v[0]!);
    metrics.value_spearman = spearman(predicted, toGo);
    metrics.value_mae = predicted.reduce((s, v, i) => s + Math.abs(v - toGo[i]!), 0) / predicted.length;
  }
  return { perEpisode, metrics };
}

/** A file task and the name it is registered under (`file:PATH`). */
export interface FileTask {
  name: string;
  task: TaskDefinition;
  /** Training and held-out episodes. */
  train: Episode[];
  heldOut: Episode[];
  /** SHA-256 of the file's bytes. */
  sha256: string;
}

/**
 * Reads, checks and splits a user's episode file into a task.
 * @throws UsageError naming the file (and line) when it cannot be read, parsed or used
 */
export async function fileTask(path: string): Promise<FileTask> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    fail(path, `cannot read the file (${(e as Error).message.split("\n")[0]})`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  let parsed;
  try {
    parsed = parseEpisodesJsonl(new TextDecoder().decode(bytes), path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const header = fileTaskHeader(parsed.header, path);
  const train = parsed.episodes.filter((_, i) => !isHeldOut(i, header.heldOut));
  const heldOut = parsed.episodes.filter((_, i) => isHeldOut(i, header.heldOut));
  if (train.length < 2 || heldOut.length < 1) {
    fail(
      path,
      `${parsed.episodes.length} episode(s) leave too few to train on and hold out (heldOut ${header.heldOut})`,
    );
  }
  const texts = parsed.episodes.flatMap((e) => e.segments.map((s) => s.text));
  const tokenizer: Tokenizer = header.tokenizer === "gpt2"
    ? RemappedBpeTokenizer.fromTexts(texts)
    : new CharTokenizer({ alphabet: [...new Set(texts.join(""))].sort().join("") });
  let environments: ((count: number, seed: number) => LanguageEnv[]) | null = null;
  if (header.environment !== null) {
    const modulePath = resolve(dirname(path), header.environment);
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(modulePath).href);
    } catch (e) {
      fail(`${path} line 1 (header)`, `cannot load environment ${modulePath}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (typeof mod.environments !== "function") {
      fail(modulePath, `export 'environments' must be a function (count, seed) => LanguageEnv[]`);
    }
    environments = mod.environments as (count: number, seed: number) => LanguageEnv[];
  }
  const longest = Math.max(
    ...parsed.episodes.map((e) => encodeEpisode(e, tokenizer, { context: Infinity }).tokens.length),
  );
  const longestAction = Math.max(
    ...parsed.episodes.flatMap((e) => e.segments.filter((s) => s.kind === "action").map((s) => s.text.length)),
  );
  const returns = parsed.episodes.map(episodeReturn);
  const name = `${FILE_TASK_PREFIX}${path}`;
  const evaluate = (
    policy: Parameters<TaskDefinition["evaluate"]>[0],
    episodes: number,
    seed: number,
    scorer?: ModelScorer,
  ): TaskEvaluation => {
    if (scorer === undefined) throw new Error(`${name}: evaluation needs the model's scorer`);
    const scored = heldOutScores(heldOut.slice(0, episodes), scorer, tokenizer);
    if (environments === null) return { returns: scored.perEpisode, metrics: scored.metrics };
    const played = rollout(environments(episodes, seed), textsOf(policy), header.maxTurns);
    return { returns: played.map((g) => g.return), metrics: scored.metrics };
  };
  const task: TaskDefinition = {
    description: (parsed.header?.description as string | undefined) ??
      `${train.length} training and ${heldOut.length} held-out episodes from ${path} (${
        environments === null
          ? "score: held-out log-likelihood per action token, nats"
          : "score: the return of played episodes"
      })`,
    tokenizer,
    dataset: (size) => {
      if (size !== undefined && size > train.length) {
        throw new Error(`${path}: --dataset-size ${size} is more than its ${train.length} training episodes`);
      }
      return train.slice(0, size ?? train.length);
    },
    ...(environments !== null ? { environments } : {}),
    evaluate,
    anchors: () =>
      environments === null
        // a uniform policy, a perfect one
        ? { floor: -Math.log(tokenizer.vocabSize), ceiling: 0 }
        : { floor: header.floor ?? Math.min(...returns), ceiling: header.ceiling ?? Math.max(...returns) },
    defaults: {
      model: { width: 64, layers: 2, heads: 2, context: longest, dropout: 0 },
      train: { steps: 1000, batchSize: Math.min(32, train.length) },
      decode: { method: "greedy", maxTokens: longestAction + 1 },
    },
    dataVersion: `sha256:${sha256.slice(0, 16)}`,
  };
  return { name, task, train, heldOut, sha256 };
}
