import assert from "node:assert/strict";
import { defaultsOf } from "./config.ts";
import { DATA_SPEC, episodeReturn, filterEpisodes } from "./data.ts";
import type { Episode } from "./episode.ts";

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
