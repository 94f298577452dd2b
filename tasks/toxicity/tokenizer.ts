/**
 * GPT-2 byte-pair encoding (the `r50k_base` ranks of `gpt-tokenizer`) with its ids remapped to the ones that occur
 * in a training corpus, so the model's vocabulary (and its Q heads) stays small enough for a CPU. Ids: the six
 * specials (0–5), `<unk>` (6), then the corpus's GPT-2 ids in increasing order. A piece the corpus never used
 * encodes as `<unk>` and decodes as the text `<unk>`. The id list is saved with the model (`toJSON`).
 * @module
 */
import { decode as gpt2Decode, encode as gpt2Encode } from "gpt-tokenizer/r50k_base";
import {
  registerTokenizerType,
  SPECIAL_TOKENS,
  type SpecialIds,
  type Tokenizer,
  type TokenizerJSON,
} from "../../ilql/tokenizer.ts";

const SPECIALS = Object.keys(SPECIAL_TOKENS).length;
/** Id of the unknown piece. */
export const UNK_ID = SPECIALS;
const FIRST_PIECE = SPECIALS + 1;

/** GPT-2 BPE restricted to the pieces of a corpus. */
export class RemappedBpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialIds;
  /** The GPT-2 id of each of our piece ids (from `FIRST_PIECE` on). */
  readonly #gpt2: number[];
  readonly #ours = new Map<number, number>();

  /** @param gpt2Ids the GPT-2 ids to keep (any order; duplicates ignored) */
  constructor(gpt2Ids: Iterable<number>) {
    this.#gpt2 = [...new Set(gpt2Ids)].sort((a, b) => a - b);
    this.#gpt2.forEach((g, i) => this.#ours.set(g, FIRST_PIECE + i));
    this.vocabSize = FIRST_PIECE + this.#gpt2.length;
    this.special = Object.fromEntries(Object.keys(SPECIAL_TOKENS).map((role, i) => [role, i])) as unknown as SpecialIds;
  }

  /** The tokenizer of a corpus: every GPT-2 piece its texts use. */
  static fromTexts(texts: Iterable<string>): RemappedBpeTokenizer {
    const ids = new Set<number>();
    for (const t of texts) for (const id of gpt2Encode(t)) ids.add(id);
    return new RemappedBpeTokenizer(ids);
  }

  encode(text: string): number[] {
    return gpt2Encode(text).map((g) => this.#ours.get(g) ?? UNK_ID);
  }

  decode(ids: readonly number[]): string {
    let out = "";
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out += gpt2Decode(run);
      run = [];
    };
    for (const id of ids) {
      if (id >= FIRST_PIECE && id < this.vocabSize) run.push(this.#gpt2[id - FIRST_PIECE]!);
      else {
        flush();
        if (id === UNK_ID) out += "<unk>";
        else if (id >= 0 && id < SPECIALS) out += Object.values(SPECIAL_TOKENS)[id];
        else throw new Error(`Token id ${id} is outside the vocabulary of ${this.vocabSize}`);
      }
    }
    flush();
    return out;
  }

  toJSON(): TokenizerJSON {
    return { type: "gpt2-remapped", gpt2Ids: this.#gpt2 };
  }
}

registerTokenizerType("gpt2-remapped", (json) => {
  const ids = json.gpt2Ids;
  if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < 50257)) {
    throw new Error("gpt2-remapped tokenizer JSON needs 'gpt2Ids', a list of GPT-2 ids");
  }
  return new RemappedBpeTokenizer(ids as number[]);
});
