/**
 * Minibatches of encoded episodes: shuffled epochs drawn with a seeded generator, so the batch sequence is a pure
 * function of the seed.
 * @module
 */
import { type Batch, collate, type EncodedEpisode } from "./episode.ts";
import type { Prng } from "./prng.ts";

/** Draws batches without replacement within an epoch, reshuffling between epochs. */
export class EpisodeSampler {
  #order: number[] = [];
  #cursor = 0;

  constructor(readonly episodes: readonly EncodedEpisode[], readonly padId: number, private prng: Prng) {
    if (episodes.length === 0) throw new Error("EpisodeSampler needs at least one episode");
  }

  /** The next batch of `size` episodes. */
  next(size: number): Batch {
    const picked: EncodedEpisode[] = [];
    while (picked.length < size) {
      if (this.#cursor >= this.#order.length) {
        this.#order = this.prng.shuffle([...this.episodes.keys()]);
        this.#cursor = 0;
      }
      picked.push(this.episodes[this.#order[this.#cursor++]!]!);
    }
    return collate(picked, this.padId);
  }
}
