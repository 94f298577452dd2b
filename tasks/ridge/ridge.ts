/**
 * A two-turn diagnostic that separates multi-step, in-support maximisation of values (ILQL) from imitation, from
 * single-step values and from methods that chase lucky returns. The agent first says `up` (onto the ridge), `in`
 * (into the valley) or `bet` (a wager), hears `hi`, `lo` or `spin`, then says `ok` or anything else. The whole return
 * comes at the end: ridge then `ok` +1 (the best play), ridge then anything else −1 (the fall); valley then `ok` 0,
 * else −1; the wager +2 with probability 1/4, else −2, whatever is said (−1 on average).
 *
 * The demonstrations mostly take the valley, climb the ridge 15 % of the time and fall off it four times in five, and
 * wager 20 % of the time: `up ok` 3 %, `up no` 12 %, `in ok` 52 %, `in no` 13 %, `bet ok` 20 %. So:
 * - behaviour cloning copies the common valley (0);
 * - filtered BC keeps the top 10 % of episodes by return, half of them lucky wagers, and wagers (−1);
 * - single-step values (expectile 0.5) are the data's averages, −0.6 for the ridge, −0.2 for the valley and −1 for the
 *   wager: one step of improvement keeps the valley (0);
 * - ILQL's V is an upper expectile (0.9) over the actions the data shows, of Q̄, itself a mean over what the
 *   environment does: about +0.4 after climbing (one ending in five is good), −1 after wagering, so it climbs and says
 *   `ok` (+1). Token-level CQL's max backup does the same;
 * - MC-return values take the same upper expectile of the observed returns, where the wager's luck counts as a good
 *   action (+1 at 0.9), and wager (−1); the Decision Transformer, conditioned on the best return in the data (+2),
 *   wagers too.
 * The best play appears whole in 3 % of the data: no method that acts on the whole history can do better than the
 * histories its data contains, so what filtered BC lacks is not the path but a way to prefer it to the lucky wagers
 * and safe valleys that share its top tenth.
 * @module
 */
import type { Episode } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import { CharTokenizer } from "../../ilql/tokenizer.ts";
import { TwoTurnEnv } from "../two_turn.ts";

/** Letters only; every utterance of the task is lowercase. */
export const RIDGE_TOKENIZER = new CharTokenizer({ alphabet: "abcdefghijklmnopqrstuvwxyz" });

/** Chance that the wager pays. */
export const WIN_CHANCE = 0.25;

/** The state the agent hears after its first move. */
function stateAfter(first: string): string {
  return first === "up" ? "hi" : first === "bet" ? "spin" : "lo";
}

/** The return of a first and second move; `lucky` decides the wager. Any first move but `up` and `bet` is the valley. */
export function ridgeReturn(first: string, second: string, lucky: boolean): number {
  if (first === "bet") return lucky ? 2 : -2;
  if (first === "up") return second === "ok" ? 1 : -1;
  return second === "ok" ? 0 : -1;
}

/** The demonstrations' mixture of (first move, second move, share). */
export const RIDGE_MIX: ReadonlyArray<readonly [string, string, number]> = [
  ["up", "ok", 0.03],
  ["up", "no", 0.12],
  ["in", "ok", 0.52],
  ["in", "no", 0.13],
  ["bet", "ok", 0.20],
];

/** The environment: two turns, the whole return on the second; the wager's luck from `prng`. */
export class RidgeEnv extends TwoTurnEnv {
  constructor(private readonly prng: Prng) {
    super();
  }

  protected stateAfter(first: string): string {
    return stateAfter(first);
  }

  protected firstReward(): number {
    return 0;
  }

  protected secondReward(first: string, second: string): number {
    return ridgeReturn(first, second, this.prng.next() < WIN_CHANCE);
  }
}

/** `n` demonstrations drawn from {@link RIDGE_MIX}. */
export function ridgeDataset(n: number, prng: Prng): Episode[] {
  return Array.from({ length: n }, () => {
    let u = prng.next();
    const [first, second] = RIDGE_MIX.find(([, , p]) => (u -= p) < 0) ?? RIDGE_MIX[0]!;
    const lucky = prng.next() < WIN_CHANCE;
    return {
      segments: [
        { kind: "state", text: "go" },
        { kind: "action", text: first, reward: 0 },
        { kind: "state", text: stateAfter(first) },
        { kind: "action", text: second, reward: ridgeReturn(first, second, lucky) },
      ],
      terminal: true,
    };
  });
}
