/**
 * Visual Dialogue v0.5 as offline episodes for the question-asking task (spec 8.2): the human dialogues of
 * `visdial_0.5_{split}.json`, each cut off with the cached percentile-rank progress of
 * `{split}_rank_reward_cache1.json` (`[p_0, Δp_1, …, Δp_10]` per dialogue) and rewarded per question by one of
 * the {@link DialogueReward} variants.
 *
 * An episode is `caption`, then per kept round the question (an action, with "?" appended) and its answer.
 * Every malformed item is an error naming the file, the item and the field.
 * @module
 */
import type { Episode, Segment } from "../../ilql/episode.ts";
import { type DialogueReward, questionReward } from "./reward.ts";

/** How episodes are cut off and rewarded. */
export interface VisDialOptions {
  reward: DialogueReward;
  /** Hedges of the `conservative` variant (default: the reference's list). */
  hedges?: readonly string[];
  /** Fraction of the gap to a perfect rank that ends the game, in (0, 1] (default 0.5). */
  cutoff?: number;
  /** Most questions per episode, 1 to 10 (default 10). */
  maxTurns?: number;
}

/** One dialogue as read (whitespace trimmed, "?" not yet appended). */
export interface VisDialDialog {
  caption: string;
  dialog: { question: string; answer: string }[];
}

/** Progress steps in the cache: one per question of a 10-round dialogue. */
const CACHED_TURNS = 10;

/**
 * Number of questions kept: up to and including the first turn t with `Σ_{j≤t} Δp_j / (1 − p_0) ≥ cutoff`, at
 * most `maxTurns` and `rounds`; one when `p_0 ≥ 1` (no gap left to close).
 * @param progress `[p_0, Δp_1, …]`, with a step for every turn that may be kept
 */
export function cutoffTurn(progress: readonly number[], rounds: number, cutoff = 0.5, maxTurns = 10): number {
  const limit = Math.min(rounds, maxTurns);
  if (limit <= 0) return 0;
  const p0 = progress[0];
  if (p0 === undefined || progress.length <= limit) {
    throw new RangeError(`cutoffTurn needs ${limit + 1} progress values, got ${progress.length}`);
  }
  if (p0 >= 1) return 1;
  let sum = 0;
  for (let t = 1; t < limit; t++) {
    sum += progress[t]!;
    // divided as the reference's PercentileCutoffRule does, so ties at the threshold round the same way
    if (sum / (1 - p0) >= cutoff) return t;
  }
  return limit;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: invalid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseDialogs(text: string, name: string): VisDialDialog[] {
  const value = parseJson(text, name);
  if (!Array.isArray(value)) throw new Error(`${name}: expected a JSON list of dialogues`);
  return value.map((item: unknown, i) => {
    const where = `${name}: item ${i}`;
    if (!isObject(item)) throw new Error(`${where}: expected an object`);
    if (typeof item.caption !== "string") throw new Error(`${where}: caption must be a string`);
    if (!Array.isArray(item.dialog)) throw new Error(`${where}: dialog must be a list`);
    if (item.dialog.length === 0) throw new Error(`${where}: dialog has no round`);
    const dialog = item.dialog.map((round: unknown, r) => {
      if (!isObject(round)) throw new Error(`${where}: dialog[${r}] must be an object`);
      for (const field of ["question", "answer"] as const) {
        if (typeof round[field] !== "string") throw new Error(`${where}: dialog[${r}].${field} must be a string`);
      }
      return { question: (round.question as string).trim(), answer: (round.answer as string).trim() };
    });
    return { caption: item.caption.trim(), dialog };
  });
}

function parseProgress(text: string, name: string): number[][] {
  const value = parseJson(text, name);
  if (!Array.isArray(value)) throw new Error(`${name}: expected a JSON list of progress entries`);
  return value.map((entry: unknown, i) => {
    const where = `${name}: item ${i}`;
    if (!Array.isArray(entry) || entry.length !== CACHED_TURNS + 1) {
      const got = Array.isArray(entry) ? `${entry.length} values` : JSON.stringify(entry);
      throw new Error(`${where}: progress must be a list of ${CACHED_TURNS + 1} numbers [p_0, Δp_1, …], got ${got}`);
    }
    entry.forEach((v: unknown, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new Error(`${where}: progress[${j}] must be a finite number, got ${JSON.stringify(v)}`);
      }
    });
    return entry as number[];
  });
}

/**
 * Parses the two files' contents (already read) into one terminal episode per dialogue; `names` are used in
 * error messages.
 * @throws a one-line error naming the file, item and field of the first problem, or the option out of range
 */
export function visDialEpisodes(
  dialogJson: string,
  progressJson: string,
  options: VisDialOptions,
  names: { dialogs?: string; progress?: string } = {},
): Episode[] {
  const { reward, hedges, cutoff = 0.5, maxTurns = CACHED_TURNS } = options;
  if (!(cutoff > 0 && cutoff <= 1)) throw new Error(`VisDial options: cutoff must be in (0, 1], got ${cutoff}`);
  if (!Number.isInteger(maxTurns) || maxTurns < 1 || maxTurns > CACHED_TURNS) {
    throw new Error(`VisDial options: maxTurns must be an integer from 1 to ${CACHED_TURNS}, got ${maxTurns}`);
  }
  const dialogName = names.dialogs ?? "dialogue file";
  const progressName = names.progress ?? "progress file";
  const dialogs = parseDialogs(dialogJson, dialogName);
  const progress = parseProgress(progressJson, progressName);
  if (progress.length !== dialogs.length) {
    throw new Error(`${progressName}: ${progress.length} entries, but ${dialogName} has ${dialogs.length} dialogues`);
  }
  return dialogs.map((d, i) => {
    const p = progress[i]!;
    const turns = cutoffTurn(p, d.dialog.length, cutoff, maxTurns);
    // as the reference: the last question is free only when the game really ended (cut-off or turn limit), not
    // when a short dialogue ran out of rounds first
    const sum = p.slice(1, turns + 1).reduce((a, b) => a + b, 0);
    const ended = turns === maxTurns || p[0]! >= 1 || sum / (1 - p[0]!) >= cutoff;
    const segments: Segment[] = [{ kind: "state", text: d.caption }];
    d.dialog.slice(0, turns).forEach(({ question, answer }, t) => {
      const text = question.endsWith("?") ? question : `${question}?`;
      segments.push(
        { kind: "action", text, reward: questionReward(answer, ended && t === turns - 1, reward, hedges) },
        { kind: "state", text: answer },
      );
    });
    return { segments, terminal: true };
  });
}

/** Reads a VisDial v0.5 dialogue file and its progress cache and calls {@link visDialEpisodes}. */
export function loadVisDial(dialogPath: string, progressPath: string, options: VisDialOptions): Episode[] {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (e) {
      throw new Error(`${path}: cannot read the file (${(e as Error).message.split("\n")[0]})`);
    }
  };
  return visDialEpisodes(read(dialogPath), read(progressPath), options, {
    dialogs: dialogPath,
    progress: progressPath,
  });
}
