/**
 * Task-agnostic episodes and their conversion to training batches, following the reference's
 * `DataPoint.from_obs` (spec 1.2–1.3): every token of an agent utterance, plus its closing `</a>`, is one action;
 * the utterance's reward sits on its last action token; the Bellman backup jumps over environment tokens.
 * @module
 */
import type { Tokenizer } from "./tokenizer.ts";

/** One turn: environment text (`state`) or agent text (`action`, with the reward the environment gave it). */
export interface Segment {
  kind: "state" | "action";
  text: string;
  /** Required for actions, absent for states. */
  reward?: number;
}

/** A dialogue between environment and agent; `terminal` marks a real end (not a cut-off). */
export interface Episode {
  segments: Segment[];
  terminal: boolean;
}

/** An episode as token ids with its action positions and per-action rewards. */
export interface EncodedEpisode {
  tokens: Int32Array;
  /** Positions p whose hidden state chooses the action token `tokens[p + 1]`, in order. */
  actionPositions: Int32Array;
  /** One reward per action position (0 except on an utterance's last token). */
  rewards: Float32Array;
  terminal: boolean;
}

/** Options of {@link encodeEpisode}. */
export interface EncodeOptions {
  /** Maximum sequence length (the model's context). */
  context: number;
  /** Prefix for error messages, e.g. `data.jsonl line 4`. */
  where?: string;
}

function fail(where: string | undefined, message: string): never {
  throw new Error(where ? `${where}: ${message}` : message);
}

/** Checks the shape of an episode (kinds, rewards, at least one action); returns it typed. */
export function validateEpisode(value: unknown, where?: string): Episode {
  if (typeof value !== "object" || value === null) fail(where, "episode must be an object");
  const { segments, terminal } = value as Record<string, unknown>;
  if (!Array.isArray(segments)) fail(where, "episode needs a 'segments' list");
  if (typeof terminal !== "boolean") fail(where, "episode needs a boolean 'terminal'");
  let actions = 0;
  segments.forEach((seg: unknown, i: number) => {
    if (typeof seg !== "object" || seg === null) fail(where, `segment ${i} must be an object`);
    const { kind, text, reward } = seg as Record<string, unknown>;
    if (kind !== "state" && kind !== "action") fail(where, `segment ${i} kind must be 'state' or 'action'`);
    if (typeof text !== "string") fail(where, `segment ${i} text must be a string`);
    if (kind === "action") {
      actions++;
      if (typeof reward !== "number" || !Number.isFinite(reward)) {
        fail(where, `segment ${i} (action) reward must be a finite number, got ${String(reward)}`);
      }
    } else if (reward !== undefined && reward !== null) {
      fail(where, `segment ${i} (state) must not carry a reward`);
    }
  });
  if (actions === 0) fail(where, "episode has no action segment");
  return value as Episode;
}

/** Token ids of a dialogue prefix, as the model sees it before the agent speaks (no `</eod>`). */
export function encodeSegments(segments: readonly Segment[], tokenizer: Tokenizer): number[] {
  const sp = tokenizer.special;
  const tokens = [segments.length === 0 || segments[0]!.kind === "action" ? sp.boa : sp.bos];
  for (const seg of segments) {
    tokens.push(...tokenizer.encode(seg.text), seg.kind === "action" ? sp.eoa : sp.eos);
  }
  return tokens;
}

/**
 * Serialises an episode (spec 1.2) and finds its action positions and rewards (spec 1.3).
 * @throws on a malformed episode, text the tokenizer cannot encode, or a sequence longer than the context
 */
export function encodeEpisode(episode: Episode, tokenizer: Tokenizer, options: EncodeOptions): EncodedEpisode {
  const { where } = options;
  validateEpisode(episode, where);
  const sp = tokenizer.special;
  const tokens: number[] = [episode.segments[0]!.kind === "action" ? sp.boa : sp.bos];
  const positions: number[] = [];
  const rewards: number[] = [];
  episode.segments.forEach((seg, i) => {
    let ids: number[];
    try {
      ids = tokenizer.encode(seg.text);
    } catch (e) {
      fail(where, `segment ${i}: ${(e as Error).message}`);
    }
    // the delimiter before this segment is the last token so far; its hidden state chooses the first action
    const start = tokens.length - 1;
    tokens.push(...ids, seg.kind === "action" ? sp.eoa : sp.eos);
    if (seg.kind === "action") {
      for (let p = start; p < tokens.length - 1; p++) {
        positions.push(p);
        rewards.push(0);
      }
      rewards[rewards.length - 1]! += seg.reward!;
    }
  });
  if (episode.terminal) tokens.push(sp.eod);
  if (tokens.length > options.context) {
    fail(where, `sequence of ${tokens.length} tokens exceeds the model context of ${options.context}`);
  }
  return {
    tokens: Int32Array.from(tokens),
    actionPositions: Int32Array.from(positions),
    rewards: Float32Array.from(rewards),
    terminal: episode.terminal,
  };
}

/** One agent utterance of an episode, after what was said before it. */
export interface AgentUtterance {
  /** Index of its episode in the list it came from. */
  episode: number;
  history: Segment[];
  utterance: string;
}

/** Every agent utterance of `episodes`, in order, each after its history: what likelihood and value scorers read. */
export function agentUtterances(episodes: readonly Episode[]): AgentUtterance[] {
  return episodes.flatMap((e, episode) =>
    e.segments.flatMap((s, i) =>
      s.kind === "action" ? [{ episode, history: e.segments.slice(0, i), utterance: s.text }] : []
    )
  );
}

/**
 * A padded batch of encoded episodes, flat row-major. With B rows, T tokens and K action slots:
 * action and state indices are flat (`b·T + p`) so heads can gather hidden states of a `[B·T, D]` matrix.
 */
export interface Batch {
  size: number;
  length: number;
  numActions: number;
  /** [B·T] token ids, right-padded with `<|pad|>`. */
  tokens: Int32Array;
  /** [B·T] 1 for real tokens, 0 for padding. */
  attention: Float32Array;
  /** [B·K] flat positions whose hidden state chooses each action (padding: the row's position 0). */
  actionIndex: Int32Array;
  /** [B·(K+1)] flat state positions: the action positions plus the final token (padding: position 0). */
  stateIndex: Int32Array;
  /** [B·K] the dataset action token at each action slot (padding: 0). */
  actions: Int32Array;
  /** [B·K] rewards. */
  rewards: Float32Array;
  /** [B·K] 1 for real actions, 0 for padding. */
  actionMask: Float32Array;
  /** [B·(K+1)] 1 where the state is terminal or padding (spec 1.3: terminals are padded with 1). */
  terminals: Float32Array;
  /** [B·T] for each token position, 1 + its action slot (`b·K + k`), or 0 when it chooses no action. */
  positionSlot: Int32Array;
  /** [B] each episode's return (sum of its rewards): what a return-conditioned model is conditioned on. */
  returns: Float32Array;
}

/** Right-pads encoded episodes into one batch (the reference's `RL_Dataset.collate`). */
export function collate(episodes: readonly EncodedEpisode[], padId: number): Batch {
  if (episodes.length === 0) throw new Error("collate needs at least one episode");
  const B = episodes.length;
  const T = Math.max(...episodes.map((e) => e.tokens.length));
  const K = Math.max(...episodes.map((e) => e.actionPositions.length));
  const batch: Batch = {
    size: B,
    length: T,
    numActions: K,
    tokens: new Int32Array(B * T).fill(padId),
    attention: new Float32Array(B * T),
    actionIndex: new Int32Array(B * K),
    stateIndex: new Int32Array(B * (K + 1)),
    actions: new Int32Array(B * K),
    rewards: new Float32Array(B * K),
    actionMask: new Float32Array(B * K),
    terminals: new Float32Array(B * (K + 1)).fill(1),
    positionSlot: new Int32Array(B * T),
    returns: new Float32Array(B),
  };
  episodes.forEach((ep, b) => {
    const n = ep.tokens.length;
    const k = ep.actionPositions.length;
    batch.tokens.set(ep.tokens, b * T);
    batch.attention.fill(1, b * T, b * T + n);
    batch.actionIndex.fill(b * T, b * K, (b + 1) * K);
    batch.stateIndex.fill(b * T, b * (K + 1), (b + 1) * (K + 1));
    for (let j = 0; j < k; j++) {
      const p = ep.actionPositions[j]!;
      batch.actionIndex[b * K + j] = b * T + p;
      batch.stateIndex[b * (K + 1) + j] = b * T + p;
      batch.actions[b * K + j] = ep.tokens[p + 1]!;
      batch.rewards[b * K + j] = ep.rewards[j]!;
      batch.actionMask[b * K + j] = 1;
      batch.terminals[b * (K + 1) + j] = 0;
      batch.positionSlot[b * T + p] = b * K + j + 1;
      batch.returns[b]! += ep.rewards[j]!;
    }
    // the state after the last action is the final token; it is terminal only if the episode ended for real
    batch.stateIndex[b * (K + 1) + k] = b * T + n - 1;
    batch.terminals[b * (K + 1) + k] = ep.terminal ? 1 : 0;
  });
  return batch;
}

/** Episodes read from JSON Lines, with the optional header line (`{"header": {...}}`) that describes the file. */
export interface EpisodeFile {
  header: Record<string, unknown> | null;
  episodes: Episode[];
  /** The 1-based line of each episode, for error messages. */
  lines: number[];
}

/**
 * Parses JSON Lines of episodes (`{"segments": [...], "terminal": true}` per line; blank lines skipped; the first
 * line may be `{"header": {...}}`).
 * @throws a one-line error naming `source` and the line on invalid JSON or a malformed episode, or naming `source`
 * when it holds no episode
 */
export function parseEpisodesJsonl(text: string, source: string): EpisodeFile {
  const out: EpisodeFile = { header: null, episodes: [], lines: [] };
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      fail(where, `not valid JSON (${(e as Error).message.split("\n")[0]})`);
    }
    if (typeof value === "object" && value !== null && "header" in value) {
      if (out.header !== null || out.episodes.length > 0) fail(where, "a header is only allowed on the first line");
      out.header = (value as { header: Record<string, unknown> }).header;
      return;
    }
    out.episodes.push(validateEpisode(value, where));
    out.lines.push(i + 1);
  });
  if (out.episodes.length === 0) {
    fail(
      source,
      out.header === null ? "the file holds no episode (it is empty)" : "the file holds only a header, no episode",
    );
  }
  return out;
}
