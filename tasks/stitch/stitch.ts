/**
 * A two-turn diagnostic task where the best behaviour must be stitched from parts of suboptimal demonstrations.
 * The agent first says `up` (reward 0) or `dn` (−1), hears `mid`, then says `ok` (0) or `no` (−1); any other
 * utterance counts as the bad choice. The dataset mixes (up, no) 35 %, (dn, ok) 35 %, (dn, no) 25 % and the optimal
 * (up, ok) only 5 %, so imitating the data picks `dn` then `ok` (return −1), while values learned from the data
 * pick `up` then `ok` (return 0).
 * @module
 */
import type { Episode } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import { CharTokenizer } from "../../ilql/tokenizer.ts";
import { TwoTurnEnv } from "../two_turn.ts";

/** Letters only; every utterance of the task is lowercase. */
export const STITCH_TOKENIZER = new CharTokenizer({ alphabet: "abcdefghijklmnopqrstuvwxyz" });

const MIX: Array<[string, string, number]> = [["up", "no", 0.35], ["dn", "ok", 0.35], ["dn", "no", 0.25], [
  "up",
  "ok",
  0.05,
]];

/** The environment: deterministic, two turns. */
export class StitchEnv extends TwoTurnEnv {
  protected stateAfter(): string {
    return "mid";
  }

  protected firstReward(first: string): number {
    return first === "up" ? 0 : -1;
  }

  protected secondReward(_first: string, second: string): number {
    return second === "ok" ? 0 : -1;
  }
}

/** `n` demonstrations drawn from the suboptimal mixture. */
export function stitchDataset(n: number, prng: Prng): Episode[] {
  return Array.from({ length: n }, () => {
    let u = prng.next();
    const [first, second] = MIX.find(([, , p]) => (u -= p) < 0) ?? MIX[0]!;
    return {
      segments: [
        { kind: "state", text: "go" },
        { kind: "action", text: first, reward: first === "up" ? 0 : -1 },
        { kind: "state", text: "mid" },
        { kind: "action", text: second, reward: second === "ok" ? 0 : -1 },
      ],
      terminal: true,
    };
  });
}
