import assert from "node:assert/strict";
import { defaultsOf } from "./config.ts";
import { DATA_SPEC, episodeReturn, EpisodeSampler, filterEpisodes } from "./data.ts";
import type { EncodedEpisode, Episode } from "./episode.ts";
import { Prng } from "./prng.ts";

/** An episode whose actions have these rewards. */
const ep = (...rewards: number[]): Episode => ({
  segments: rewards.map((reward, i) => ({ kind: "action" as const, text: `a${i}`, reward })),
  terminal: true,
});

// returns: −1, 0, −3, 0, −2, −1
const DATA = [ep(-1), ep(0, 0), ep(-1, -2), ep(0), ep(-2), ep(0, -1)];

Deno.test("episodeReturn() sums action rewards", () => {
  assert.deepEqual(DATA.map(episodeReturn), [-1, 0, -3, 0, -2, -1]);
});

Deno.test("filterEpisodes(): the defaults keep every episode in order (filtered BC at fraction 1 is BC)", () => {
  const kept = filterEpisodes(DATA, defaultsOf(DATA_SPEC));
  assert.equal(kept.length, DATA.length);
  kept.forEach((e, i) => assert.equal(e, DATA[i]));
});

Deno.test("filterEpisodes(): top fraction by return (ties in dataset order), return cut-off, both", () => {
  const f = (topFraction: number, minReturn: number | null) =>
    filterEpisodes(DATA, { topFraction, minReturn }).map((e) => DATA.indexOf(e));
  assert.deepEqual(f(0.5, null), [0, 1, 3]); // ceil(3): the two 0s, then the first −1; dataset order kept
  assert.deepEqual(f(0.1, null), [1]); // ceil(0.6) = 1
  assert.deepEqual(f(1, -1), [0, 1, 3, 5]);
  assert.deepEqual(f(0.5, -1), [1, 3]); // half of the four at or above −1
  assert.throws(() => f(1, 1), /no episode is left after the data filter \(minReturn 1, topFraction 1\)/);
});

/** Encoded episodes of lengths 1..n (the length names the episode). */
const ofLengths = (n: number): EncodedEpisode[] =>
  Array.from({ length: n }, (_, i) => ({
    tokens: new Int32Array(i + 1),
    actionPositions: new Int32Array(0),
    rewards: new Float32Array(0),
    terminal: true,
  }));

Deno.test("EpisodeSampler with a length pool: each epoch serves every episode once, in batches of neighbouring lengths, seeded", () => {
  const episodes = ofLengths(48);
  const lengths = (pool: number, seed: number, batches: number) => {
    const sampler = new EpisodeSampler(episodes, 0, new Prng(seed), pool);
    return Array.from({ length: batches }, () => sampler.draw(4).map((e) => e.tokens.length));
  };
  const epoch = lengths(4, 7, 12); // 12 batches of 4 = one epoch, 3 pools of 16
  assert.deepEqual(epoch.flat().sort((a, b) => a - b), Array.from({ length: 48 }, (_, i) => i + 1));
  for (const [p, pool] of [epoch.slice(0, 4), epoch.slice(4, 8), epoch.slice(8)].entries()) {
    // a pool's 16 episodes cut into 4 batches of consecutive lengths, served in a shuffled order
    const sorted = [...pool].sort((a, b) => a[0]! - b[0]!);
    for (const b of sorted) assert.deepEqual(b, [...b].sort((x, y) => x - y), `pool ${p}`);
    for (let i = 1; i < 4; i++) assert.ok(sorted[i]![0]! > sorted[i - 1]![3]!, `pool ${p}: batches overlap`);
  }
  // a random batch of 4 out of 48 spans far more lengths than a pooled one
  const spread = (bs: number[][]) => bs.reduce((s, b) => s + Math.max(...b) - Math.min(...b), 0) / bs.length;
  assert.ok(spread(epoch) < spread(lengths(1, 7, 12)) / 2);
  assert.deepEqual(lengths(4, 7, 12), epoch);
  assert.notDeepEqual(lengths(4, 8, 12), epoch);
  // pool 1 is the plain sampler: the same draws as before pools existed
  const plain = new EpisodeSampler(episodes, 0, new Prng(7));
  assert.deepEqual(lengths(1, 7, 3), Array.from({ length: 3 }, () => plain.draw(4).map((e) => e.tokens.length)));
  assert.throws(() => new EpisodeSampler(episodes, 0, new Prng(7), 0), /lengthPool must be an integer ≥ 1/);
  const sampler = new EpisodeSampler(episodes, 0, new Prng(7), 4);
  sampler.draw(4);
  assert.throws(() => sampler.draw(5), /one size/);
});
