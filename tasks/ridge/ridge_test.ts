import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { rollout } from "../task.ts";
import { ridgeDataset, RidgeEnv, ridgeReturn, WIN_CHANCE } from "./ridge.ts";

const data = ridgeDataset(1000, new Prng(0));
const moves = (e: (typeof data)[number]) => e.segments.filter((s) => s.kind === "action").map((s) => s.text);
const returnOf = (e: (typeof data)[number]) => e.segments.reduce((r, s) => r + (s.reward ?? 0), 0);
const meanAfter = (first: string) => {
  const rs = data.filter((e) => moves(e)[0] === first).map(returnOf);
  return rs.reduce((a, b) => a + b, 0) / rs.length;
};

Deno.test("ridge data: the best play is rare, the data's averages rank the ridge below the valley, wagers pay by luck", () => {
  const share = (first: string, second?: string) =>
    data.filter((e) => moves(e)[0] === first && (second === undefined || moves(e)[1] === second)).length / data.length;
  assert.ok(Math.abs(share("up", "ok") - 0.03) < 0.015, `best play ${share("up", "ok")}`);
  assert.ok(Math.abs(share("in") - 0.65) < 0.04 && Math.abs(share("bet") - 0.2) < 0.03);
  // single-step values: the ridge about −0.6, the valley about −0.2, the wager about −1
  assert.ok(meanAfter("up") < meanAfter("in") - 0.25, `${meanAfter("up")} vs ${meanAfter("in")}`);
  assert.ok(meanAfter("bet") < meanAfter("up"));
  // the top tenth by return: lucky wagers (+2) and the best play (+1), then safe valleys
  const top = [...data].sort((a, b) => returnOf(b) - returnOf(a)).slice(0, 100);
  const wagers = top.filter((e) => moves(e)[0] === "bet").length;
  assert.ok(wagers > top.filter((e) => moves(e)[0] === "up").length, `${wagers} wagers in the top tenth`);
  // every reward comes with the second move
  for (const e of data) assert.equal(e.segments[1]!.reward, 0);
});

Deno.test("RidgeEnv scores both moves at the end; the wager pays +2 a quarter of the time, whatever is said", () => {
  const play = (first: string, second: string, n: number, seed = 3) => {
    const prng = new Prng(seed);
    const envs = Array.from({ length: n }, () => new RidgeEnv(prng.fork()));
    return rollout(envs, (histories) => histories.map((h) => (h.length === 1 ? first : second)));
  };
  assert.deepEqual(play("up", "ok", 1)[0]!.return, 1);
  assert.deepEqual(play("up", "no", 1)[0]!.return, -1);
  assert.deepEqual(play("in", "ok", 1)[0]!.return, 0);
  assert.deepEqual(play("xx", "zz", 1)[0]!.return, -1, "anything else is the valley, then a miss");
  const wagers = play("bet", "ok", 2000).map((r) => r.return);
  const wins = wagers.filter((r) => r === 2).length / wagers.length;
  assert.ok(Math.abs(wins - WIN_CHANCE) < 0.03 && wagers.every((r) => r === 2 || r === -2), `${wins}`);
  assert.equal(ridgeReturn("bet", "no", true), 2);
});
