/**
 * Behaviour cloning and filtered (%) BC: the policy head trained alone with the cross-entropy of the action tokens
 * (the reference's `BC_LM`), decoded from the policy head without values (β = 0). Filtered BC is the same preset on
 * the episodes whose return is in the top `data.topFraction`, or at least `data.minReturn` (`topFraction = 1` and
 * no cut-off is plain BC).
 * @module
 */
import type { AlgorithmDefinition, Overrides } from "./algorithm.ts";

/** Only the policy loss; no value trunk or heads are computed. */
export const BC_PRESET: Overrides = { ilql: { qWeight: 0, vWeight: 0, cqlWeight: 0 }, decode: { beta: 0 } };

/** Behaviour cloning. */
export const BC: AlgorithmDefinition = {
  description: "behaviour cloning: the policy head trained alone, decoded without values (β = 0)",
  preset: BC_PRESET,
};

/** Filtered BC: a named preset of BC with its own default data fraction. */
export const FILTERED_BC: AlgorithmDefinition = {
  description: "filtered (%) BC: behaviour cloning on the episodes whose return is in the top `data.topFraction` " +
    "(default 0.1) or at least `data.minReturn`",
  preset: BC_PRESET,
  defaults: { data: { topFraction: 0.1 } },
};
