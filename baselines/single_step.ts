/**
 * Single-step offline RL: ILQL with expectile 0.5, so V is the mean of Q̄ under the data and Q learns the
 * behaviour policy's values (SARSA-style; the reference's "IQL τ = 0.5"). The same value-guided decoding then takes
 * one step of policy improvement.
 * @module
 */
import type { AlgorithmDefinition } from "./algorithm.ts";

/** Single-step RL: a preset of ILQL. */
export const SINGLE_STEP: AlgorithmDefinition = {
  description: "single-step offline RL: ILQL with expectile 0.5 learns the behaviour policy's values (SARSA-style), " +
    "then one step of improvement through the same value-guided decoding",
  preset: { ilql: { expectile: 0.5 } },
};
