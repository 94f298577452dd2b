/**
 * `deno task values CHECKPOINT UTTERANCE…`: what a checkpoint's heads say about given utterances after one history —
 * per utterance the policy's log-probability, the advantage Q̄ − V at each action token (what value-guided decoding
 * adds, times β, to each token's logit) and Q̄ at its last token (the value of the whole utterance). Reads the
 * checkpoint of any task's run (`deno task bench … --keep-checkpoints`); e.g. whether a Wordle agent's values veto
 * a habitual opening word, and by how much against its policy's preference for it.
 * @module
 */
import { initBackend } from "../ilql/backend.ts";
import { BACKEND_FLAGS, BACKEND_HELP, backendOptions, parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { loadCheckpoint } from "../ilql/checkpoint.ts";
import { type Segment, validateEpisode } from "../ilql/episode.ts";
import type { IlqlModel } from "../ilql/model.ts";
import type { Tokenizer } from "../ilql/tokenizer.ts";
import { utteranceLogProbs, utteranceValues } from "../ilql/values.ts";

const HELP = `deno task values CHECKPOINT UTTERANCE… [--history JSON] [--beta B] [--backend …]

Prints, for each UTTERANCE said after --history (default: none, the episode's first action), the policy's
log-probability of it (Σ over its tokens and the closing </a>), the advantage Q̄ − V at each of those tokens, their
sum, the first token's β·(Q̄ − V) against its log π (what greedy value-guided decoding weighs at the first choice),
and Q̄ at the last token. Q̄ is the min of the target Q heads, clipped as the checkpoint's model config says;
decoding adds min(β·(Q̄ − V), decode.advClip) to each token's logit.

  --history JSON      the segments before the utterance, as in a dataset episode, e.g.
                      '[{"kind":"state","text":"hello"}]' (default [])
  --beta B            β of the decoding column (default: the checkpoint's decode.beta)

${BACKEND_HELP}`;

/** One utterance's row. */
export interface UtteranceRow {
  utterance: string;
  logProb: number;
  /** log π of the first token. */
  firstLogProb: number;
  /** Q̄ − V at each action token. */
  advantages: number[];
  /** Q̄ at the last action token (`</a>`). */
  lastQ: number;
}

/** The history of `--history`: a JSON array of segments. */
function parseHistory(text: string): Segment[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--history is not valid JSON: ${text}`);
  }
  if (!Array.isArray(value)) throw new UsageError("--history must be a JSON array of segments");
  if (value.length === 0) return [];
  try {
    // a history is an episode's beginning: the same rules, with one action added so that it may hold none
    validateEpisode({ segments: [...value, { kind: "action", text: "", reward: 0 }], terminal: false }, "--history");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return value as Segment[];
}

async function main() {
  const { values, positionals } = parseCommandLine(Deno.args, {
    ...BACKEND_FLAGS,
    help: { type: "boolean", default: false },
    history: { type: "string", default: "[]" },
    beta: { type: "string" },
  }, {});
  if (values.help) return console.log(HELP);
  const [path, ...utterances] = positionals;
  if (path === undefined || utterances.length === 0) {
    throw new UsageError("give a checkpoint and at least one utterance (deno task values --help)");
  }
  const history = parseHistory(values.history);
  const beta = values.beta === undefined ? undefined : Number(values.beta);
  if (beta !== undefined && !(Number.isFinite(beta) && beta >= 0)) {
    throw new UsageError(`--beta must be a number >= 0, got '${values.beta}'`);
  }
  await Deno.stat(path).catch(() => {
    throw new UsageError(`${path}: no such checkpoint`);
  });
  await initBackend(backendOptions(values));
  const checkpoint = await loadCheckpoint(path);
  const decodeBeta = (checkpoint.config.decode as { beta?: unknown } | undefined)?.beta;
  const b = beta ?? (typeof decodeBeta === "number" ? decodeBeta : undefined);
  if (b === undefined) throw new UsageError(`${path}: the checkpoint's config has no decode.beta; give --beta`);
  try {
    const rows = utteranceRows(checkpoint.model, checkpoint.tokenizerInstance, history, utterances);
    console.log(table(rows, b));
  } finally {
    checkpoint.model.dispose();
  }
}

/** Values and log-probabilities of each utterance after `history`. */
export function utteranceRows(
  model: IlqlModel,
  tokenizer: Tokenizer,
  history: readonly Segment[],
  utterances: readonly string[],
): UtteranceRow[] {
  const items = utterances.map((utterance) => ({ history, utterance }));
  const values = utteranceValues(model, tokenizer, items);
  const logProbs = utteranceLogProbs(model, tokenizer, items);
  return utterances.map((utterance, i) => ({
    utterance,
    logProb: logProbs[i]!.logProb,
    firstLogProb: logProbs[i]!.tokenLogProbs[0]!,
    advantages: values[i]!.qBar.map((q, j) => q - values[i]!.v[j]!),
    lastQ: values[i]!.qBar.at(-1)!,
  }));
}

/** The rows as a Markdown table, with the first token's decoding terms at `beta`. */
export function table(rows: readonly UtteranceRow[], beta: number): string {
  const f = (x: number) => x.toFixed(2);
  return [
    `| utterance | Σ log π | Q̄ − V per token | Σ (Q̄ − V) | first token: log π, β·(Q̄ − V) at β ${beta} | Q̄ last token |`,
    "|---|---:|---|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.utterance} | ${f(r.logProb)} | ${r.advantages.map(f).join(" ")} | ${
        f(r.advantages.reduce((a, x) => a + x, 0))
      } | ${f(r.firstLogProb)}, ${f(beta * r.advantages[0]!)} | ${f(r.lastQ)} |`
    ),
  ].join("\n");
}

if (import.meta.main) await runMain(main);
