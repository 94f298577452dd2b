/**
 * Behaviour cloning and filtered (%) BC: the policy head trained alone with the cross-entropy of the action tokens
 * (the reference's `BC_LM`), decoded from the policy head without values (β = 0). Filtered BC is the same preset on
 * the episodes whose return is in the top `data.topFraction`, or at least `data.minReturn` (`topFraction = 1` and
 * no cut-off is plain BC).
 * @module
 */
import { type AlgorithmDefinition, mergeOverrides, type Overrides, type RunConfig, runConfig } from "./algorithm.ts";

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

/**
 * The config of the behaviour-cloning run that makes a run's shared start: the run's model (without a return
 * embedding, in the shared layout whatever the run's), optimizer at `start.lr`, batch, seed and curve settings, `start.steps` steps of BC on all the data,
 * with `start.transitionWeight` on the environment's tokens.
 * Everything else is at its default, so every algorithm of a seed gets the same start.
 */
export function startConfig(config: RunConfig): RunConfig {
  return runConfig(mergeOverrides(
    {
      // a start is a policy trunk and LM head only: one start serves both layouts (copyPolicyWeights)
      model: { ...config.model, returnConditioned: false, layout: "shared" },
      // the start's own schedule (constant, or decaying over its last start.decaySteps) is not the fine-tunings'
      optim: {
        ...config.optim,
        lr: config.start.lr,
        schedule: config.start.decaySteps === 0 ? "constant" : "cosine",
        decaySteps: config.start.decaySteps,
      },
      train: { ...config.train, steps: config.start.steps, checkpointEvery: 0 },
      // decoding never changes the start's weights (its identity leaves it out); it decodes the start's curve
      decode: { ...config.decode, targetReturn: null },
      ilql: { transitionWeight: config.start.transitionWeight },
    },
    BC_PRESET,
  ));
}
