/**
 * MC-return values (the reference's `mc_returns`): V regresses on each action's discounted reward-to-go in the data
 * instead of on Q̄; Q stays a TD regression on V, and decoding uses the same advantage Q̄ − V.
 * @module
 */
import type { AlgorithmDefinition } from "./algorithm.ts";

/** MC returns: a preset of ILQL. */
export const MC_RETURNS: AlgorithmDefinition = {
  description: "MC-return values: ILQL whose V regresses on the discounted reward-to-go instead of Q̄, same decoding",
  preset: { ilql: { mcReturns: true } },
};
