import assert from "node:assert/strict";
import { curveLabel } from "./plots.ts";
import type { RunRecord } from "./store.ts";
import type { ResultGroup } from "./table.ts";

/** Only the fields a curve label reads. */
const group = (algorithm: string) => ({ algorithm, setting: 'decode.method="greedy"' }) as ResultGroup;
const runs = (steps: number) => [{ spec: { config: { train: { steps } } } }] as unknown as RunRecord[];

Deno.test("a curve's label says where its steps stop being offline optimizer steps (PPO's play iterations)", () => {
  const offline = [0, 1000, 12_000].map((step) => ({ step }));
  assert.equal(curveLabel(group("bc"), runs(12_000), offline), 'bc (decode.method="greedy")');
  assert.equal(
    curveLabel(group("ppo"), runs(0), [{ step: 0 }, { step: 800 }]),
    'ppo (decode.method="greedy"), steps past 0 = play iterations',
  );
  assert.equal(
    curveLabel(group("ppo"), runs(12_000), [...offline, { step: 12_100 }]),
    'ppo (decode.method="greedy"), steps past 12000 = play iterations',
  );
});
