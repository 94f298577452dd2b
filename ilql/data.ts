/**
 * Training data: which episodes train the model (return filters, for filtered BC), and minibatches of encoded
 * episodes drawn in shuffled epochs with a seeded generator, so the batch sequence is a pure function of the seed.
 * @module
 */
import { type ConfigOf, num, optionalNum } from "./config.ts";
import { type Batch, collate, type EncodedEpisode, type Episode } from "./episode.ts";
import type { Prng } from "./prng.ts";

/** Which episodes train the model. */
export const DATA_SPEC = {
  topFraction: num("Train on the episodes whose return is in this top fraction; 1 = all [top_p]", 1, {
    above: 0,
    max: 1,
  }),
  minReturn: optionalNum("Train only on episodes with at least this return; null = no cut-off [cuttoff]", null),
};

/** Data config record. */
export type DataConfig = ConfigOf<typeof DATA_SPEC>;

/** Sum of an episode's action rewards. */
export function episodeReturn(episode: Episode): number {
  let total = 0;
  for (const s of episode.segments) if (s.kind === "action") total += s.reward ?? 0;
  return total;
}

/** Mean return over episodes (the "dataset average" of normalized scores). */
export function datasetReturn(episodes: readonly Episode[]): number {
  return episodes.reduce((total, e) => total + episodeReturn(e), 0) / episodes.length;
}

/**
 * The episodes a config trains on: those with return ≥ `minReturn`, then the best `ceil(topFraction·n)` by return
 * (ties keep dataset order). With the defaults, all of them, in order.
 * @throws when no episode is left
 */
export function filterEpisodes<E extends Episode>(episodes: readonly E[], config: DataConfig): E[] {
  let kept = config.minReturn === null ? [...episodes] : episodes.filter((e) => episodeReturn(e) >= config.minReturn!);
  if (config.topFraction < 1) {
    const keep = Math.ceil(config.topFraction * kept.length);
    const best = new Set(
      kept.map((e, i) => ({ i, r: episodeReturn(e) })).sort((a, b) => b.r - a.r || a.i - b.i).slice(0, keep).map((x) =>
        x.i
      ),
    );
    kept = kept.filter((_, i) => best.has(i));
  }
  if (kept.length === 0) {
    throw new Error(
      `no episode is left after the data filter (minReturn ${config.minReturn}, topFraction ${config.topFraction})`,
    );
  }
  return kept;
}

/**
 * Draws batches without replacement within an epoch, reshuffling between epochs. With a `lengthPool` of P > 1 it
 * draws P batches' episodes at once, sorts them by length and serves them as P batches in a shuffled order (length
 * bucketing, as fairseq's): a batch then pads to episodes of similar length, where a random one pads to its longest
 * (on the dialogue data half of a random batch's positions are padding). Every episode is still seen once an epoch.
 */
export class EpisodeSampler {
  #order: number[] = [];
  #cursor = 0;
  #ready: EncodedEpisode[][] = [];

  constructor(
    readonly episodes: readonly EncodedEpisode[],
    readonly padId: number,
    private prng: Prng,
    readonly lengthPool = 1,
  ) {
    if (episodes.length === 0) throw new Error("EpisodeSampler needs at least one episode");
    if (!(Number.isInteger(lengthPool) && lengthPool >= 1)) {
      throw new Error(`EpisodeSampler: lengthPool must be an integer ≥ 1 (got ${lengthPool})`);
    }
  }

  /** The next batch of `size` episodes. */
  next(size: number): Batch {
    return collate(this.draw(size), this.padId);
  }

  /** The episodes of the next batch of `size`. */
  draw(size: number): EncodedEpisode[] {
    if (this.lengthPool === 1) return this.#take(size);
    if (this.#ready.length > 0 && this.#ready[0]!.length !== size) {
      throw new Error(
        `EpisodeSampler: a length pool serves batches of one size (${this.#ready[0]!.length}, asked ${size})`,
      );
    }
    if (this.#ready.length === 0) {
      const pool = this.#take(size * this.lengthPool).sort((a, b) => a.tokens.length - b.tokens.length);
      const batches = Array.from({ length: this.lengthPool }, (_, i) => pool.slice(i * size, (i + 1) * size));
      this.#ready = this.prng.shuffle(batches);
    }
    return this.#ready.pop()!;
  }

  #take(size: number): EncodedEpisode[] {
    const picked: EncodedEpisode[] = [];
    while (picked.length < size) {
      if (this.#cursor >= this.#order.length) {
        this.#order = this.prng.shuffle([...this.episodes.keys()]);
        this.#cursor = 0;
      }
      picked.push(this.episodes[this.#order[this.#cursor++]!]!);
    }
    return picked;
  }
}

/** Where the trainer gets its batches. */
export interface BatchSource {
  /** The next batch of `size` episodes (per seed, for stacked seeds). */
  next(size: number): Batch;
}

/**
 * Batches of S seeds trained as one computation (`run.ts` trainSeeds): each seed's sampler draws the episodes it
 * would draw alone, and one batch holds them as S equal blocks of rows, padded to the longest episode of all.
 */
export class StackedSampler implements BatchSource {
  constructor(readonly samplers: readonly EpisodeSampler[]) {}

  next(size: number): Batch {
    return collate(this.samplers.flatMap((s) => s.draw(size)), this.samplers[0]!.padId);
  }
}
