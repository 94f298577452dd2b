/**
 * Exact values of a dataset: what a value function would hold if it could memorise every history. Episodes form a
 * tree (a node per history; an edge per utterance the data plays there, then per observation that followed it), and
 * on that tree Q(h, a) = r(a) + γ · mean over the data's observations o of V(h a o), V(h) = the `expectile` of Q(h, ·)
 * over the data's utterances at h, weighted by how often each was played (V = 0 where the data stops). Expectile 0.5
 * gives the behaviour policy's values (single-step / SARSA), expectiles near 1 the best in-support play (ILQL's
 * target as τ → 1). Utterance-level: ILQL's per-token values reach the same numbers at a word's last token.
 *
 * A dataset diagnostic, not an algorithm: it says what each method's values can reach on given data (e.g. whether the
 * lava data can show the paper's Q-ranking at all), independent of model capacity and training budget.
 * @module
 */
import type { Episode, Segment } from "../ilql/episode.ts";

interface Edge {
  count: number;
  rewardSum: number;
  /** Histories after this utterance, by the observation that followed ("" for none). */
  next: Map<string, { count: number; node: Node }>;
}
type Node = Map<string, Edge>;

/** The observation segments from `i` up to the next utterance, joined, and where they end. */
function observation(segments: readonly Segment[], i: number): [string, number] {
  const texts: string[] = [];
  while (i < segments.length && segments[i]!.kind === "state") texts.push(segments[i++]!.text);
  return [texts.join("\n"), i];
}

/** Exact values of a dataset at one expectile. */
export interface ExactValues {
  /** Q(h, a) of an utterance the data plays after `history`; throws for one it never plays there. */
  q(history: readonly Segment[], action: string): number;
  /** V(h) of a history the data reaches. */
  v(history: readonly Segment[]): number;
}

/** The `tau`-expectile of `values` weighted by `weights` (fixed-point iteration; exact for two-point data). */
export function expectile(values: readonly number[], weights: readonly number[], tau: number): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let m = values.reduce((s, x, i) => s + x * weights[i]!, 0) / total;
  for (let it = 0; it < 200; it++) {
    let num = 0, den = 0;
    values.forEach((x, i) => {
      const w = weights[i]! * (x > m ? tau : 1 - tau);
      num += w * x;
      den += w;
    });
    const next = num / den;
    if (Math.abs(next - m) < 1e-12) return next;
    m = next;
  }
  return m;
}

/** Builds the tree of `episodes` and answers exact Q and V at expectile `tau`, discount `discount`. */
export function exactValues(episodes: readonly Episode[], tau: number, discount = 1): ExactValues {
  if (!(tau > 0 && tau < 1)) throw new Error(`expectile must be in (0, 1), got ${tau}`);
  // the first level: the observation an episode opens with
  const roots = new Map<string, Node>();
  for (const episode of episodes) {
    const segs = episode.segments;
    const [opening, start] = observation(segs, 0);
    let i = start;
    let node: Node = roots.get(opening) ?? new Map();
    roots.set(opening, node);
    while (i < segs.length) {
      const seg = segs[i]!;
      let edge: Edge | undefined = node.get(seg.text);
      if (edge === undefined) node.set(seg.text, edge = { count: 0, rewardSum: 0, next: new Map() });
      edge.count++;
      edge.rewardSum += seg.reward ?? 0;
      let seen: string;
      [seen, i] = observation(segs, i + 1);
      let branch: { count: number; node: Node } | undefined = edge.next.get(seen);
      if (branch === undefined) edge.next.set(seen, branch = { count: 0, node: new Map() });
      branch.count++;
      node = branch.node;
    }
  }
  const values = new Map<Node, number>();
  const qOf = (edge: Edge): number => {
    let sum = 0, n = 0;
    for (const { count, node } of edge.next.values()) {
      sum += count * vOf(node);
      n += count;
    }
    return edge.rewardSum / edge.count + discount * sum / n;
  };
  const vOf = (node: Node): number => {
    let v = values.get(node);
    if (v === undefined) {
      const edges = [...node.values()];
      v = edges.length === 0 ? 0 : expectile(edges.map(qOf), edges.map((e) => e.count), tau);
      values.set(node, v);
    }
    return v;
  };
  const find = (history: readonly Segment[]): Node => {
    const [opening, start] = observation(history, 0);
    let i = start;
    const first = roots.get(opening);
    if (first === undefined) throw new Error(`history: the data never opens with '${opening}'`);
    let node: Node = first;
    while (i < history.length) {
      const action = history[i]!.text;
      let seen: string;
      [seen, i] = observation(history, i + 1);
      const next: Node | undefined = node.get(action)?.next.get(seen)?.node;
      if (next === undefined) throw new Error(`history: the data never reaches '${action}' then '${seen}'`);
      node = next;
    }
    return node;
  };
  return {
    q: (history, action) => {
      const edge = find(history).get(action);
      if (edge === undefined) throw new Error(`the data never plays '${action}' after this history`);
      return qOf(edge);
    },
    v: (history) => vOf(find(history)),
  };
}
