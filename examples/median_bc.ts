/**
 * An example algorithm module for `deno task bench --algo-module`: behaviour cloning on the better half of the data
 * (the episodes whose return is at least the median), a milder filter than filtered BC's default top 10 %. It is a
 * preset of the built-in BC, as filtered BC is; an algorithm with its own training loop sets `train` instead (see
 * `baselines/ppo.ts`).
 *
 * ```sh
 * npx -y deno@2.9.6 task bench --suite smoke --algo-module examples/median_bc.ts --algos bc,median-bc --seeds 0
 * ```
 * @module
 */
import { type AlgorithmDefinition, BC_PRESET } from "../mod.ts";

/** The name the algorithm's runs, records and tables carry. */
export const name = "median-bc";

/** The algorithm definition, of the type the built-in algorithms use. */
export const algorithm: AlgorithmDefinition = {
  description: "behaviour cloning on the episodes whose return is in the top half",
  preset: BC_PRESET,
  defaults: { data: { topFraction: 0.5 } },
};
