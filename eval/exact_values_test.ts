import assert from "node:assert/strict";
import type { Episode, Segment } from "../ilql/episode.ts";
import { exactValues, expectile } from "./exact_values.ts";

const act = (text: string, reward: number): Segment => ({ kind: "action", text, reward });
const see = (text: string): Segment => ({ kind: "state", text });
const episode = (...segments: Segment[]): Episode => ({ segments, terminal: true });

// a safe utterance (−1, done) against a risky one whose continuation the data mostly wastes (1 good, 5 lava)
const DATA: Episode[] = [
  ...Array.from({ length: 4 }, () => episode(see("start"), act("safe", -1))),
  episode(see("start"), act("risky", 0), see("o"), act("good", 0)),
  ...Array.from({ length: 5 }, () => episode(see("start"), act("risky", 0), see("o"), act("bad", -4))),
];

Deno.test("expectile(): the mean at 0.5, the two-point closed form elsewhere", () => {
  assert.ok(Math.abs(expectile([0, -4], [1, 5], 0.5) - -20 / 6) < 1e-9);
  // τ·w₁·(0 − m) = (1 − τ)·w₂·(m + 4)  ⇒  m = −4(1 − τ)·5 / (τ + 5(1 − τ))
  for (const tau of [0.7, 0.9, 0.99]) {
    const closed = -4 * (1 - tau) * 5 / (tau + 5 * (1 - tau));
    assert.ok(Math.abs(expectile([0, -4], [1, 5], tau) - closed) < 1e-9, String(tau));
  }
});

Deno.test("exactValues(): behaviour values rank the wasted move below the safe one, high expectiles above", () => {
  const start = [see("start")];
  const at = (tau: number) => exactValues(DATA, tau);
  assert.ok(Math.abs(at(0.5).q(start, "risky") - -20 / 6) < 1e-9);
  assert.equal(at(0.5).q(start, "safe"), -1);
  assert.ok(Math.abs(at(0.9).v([...start, act("risky", 0), see("o")]) - -2 / 1.4) < 1e-9);
  assert.ok(at(0.9).q(start, "risky") < -1, "τ 0.9 is not optimistic enough here");
  assert.ok(at(0.99).q(start, "risky") > -1, "τ 0.99 recovers the in-support best");
  assert.equal(at(0.9).q([...start, act("risky", 0), see("o")], "good"), 0);
});

Deno.test("exactValues(): rewards of one (history, utterance) are averaged; openings and observations branch", () => {
  const data = [
    episode(see("a"), act("x", 0)),
    episode(see("a"), act("x", -1), see("p"), act("y", -1)),
    episode(see("b"), act("x", -3)),
  ];
  const values = exactValues(data, 0.5);
  // mean reward −0.5; the observations: "" (ended, V 0) once, "p" (V −1) once
  assert.equal(values.q([see("a")], "x"), -0.5 + (0 + -1) / 2);
  assert.equal(values.q([see("b")], "x"), -3);
  assert.throws(() => values.q([see("c")], "x"), /never opens with 'c'/);
  assert.throws(() => values.q([see("a")], "z"), /never plays 'z'/);
  assert.throws(() => values.v([see("a"), act("x", 0), see("q")]), /never reaches 'x' then 'q'/);
  assert.throws(() => exactValues(data, 1), /expectile must be in \(0, 1\)/);
});
