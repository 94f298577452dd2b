/**
 * Decision Transformer (Chen et al. 2021; the reference's `DT`): behaviour cloning with a `Linear(1→width)`
 * embedding of the episode's total return placed in front of the tokens (`model.returnConditioned`). At test time
 * the model is conditioned on `decode.targetReturn` (default: the best return in its training data); sweep it with
 * `--sweep decode.targetReturn=…`. With one constant return for every episode it is BC with a fixed extra first
 * token.
 * @module
 */
import type { AlgorithmDefinition } from "./algorithm.ts";
import { BC_PRESET } from "./bc.ts";

/** Decision Transformer: BC on a return-conditioned model. */
export const DECISION_TRANSFORMER: AlgorithmDefinition = {
  description: "Decision Transformer: BC conditioned on the episode return (an embedding in front of the tokens), " +
    "decoded at `decode.targetReturn` (default: the best return in the data)",
  preset: { ...BC_PRESET, model: { returnConditioned: true } },
};
