/**
 * Token-level CQL (Kumar et al. 2020, as the reference's `CQLModel`): the same network, with the Q heads' TD target
 * a max backup r + γ·max_a' Q̄(s', a') over the next action position's target Q (zero after a terminal), the
 * conservative cross-entropy term at weight `ilql.cqlWeight` (the reference sweeps 0.1, 1, 10), V fitted at
 * expectile 0.5 (only used by decoding), and the same value-guided decoding Q̄ − V. With weight 0 it differs from
 * single-step RL only in the backup: both use one TD target function (`tdTarget`).
 * @module
 */
import type { AlgorithmDefinition } from "./algorithm.ts";

/** Token-level CQL: a preset of the ILQL update with the max backup. */
export const CQL: AlgorithmDefinition = {
  description: "token-level CQL: max backup over the next position's target Q plus the conservative term " +
    "(`ilql.cqlWeight`, default 0.1), same value-guided decoding",
  preset: { ilql: { backup: "max", expectile: 0.5 } },
  defaults: { ilql: { cqlWeight: 0.1 } },
};
