/**
 * GPT-2's byte-level BPE tokenizer, read from a Hugging Face folder's `vocab.json` and `merges.txt` (never the
 * network): text is split by GPT-2's pattern, each piece's UTF-8 bytes are written as GPT-2's printable stand-ins, and
 * adjacent symbols are merged by rank until no listed merge applies. The project's six special tokens follow GPT-2's
 * ids (`<|endoftext|>` stays a vocabulary entry that `encode` never produces).
 * @module
 */
import { SPECIAL_TOKENS, type SpecialIds, type Tokenizer, type TokenizerJSON } from "./tokenizer.ts";
import { registerTokenizerType } from "./tokenizer.ts";

/** GPT-2's split of text into pieces before BPE (contractions, letters, digits, other symbols, whitespace). */
const PIECES = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's printable stand-in for each byte (`bytes_to_unicode`), and back. */
function byteTables(): { toChar: string[]; toByte: Map<string, number> } {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const toChar: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) toChar[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++);
  return { toChar, toByte: new Map(toChar.map((c, b) => [c, b])) };
}
const BYTES = byteTables();

const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/** The GPT-2 BPE of a `vocab.json` (symbol → id) and the merges of a `merges.txt`, in rank order. */
export class Gpt2Tokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialIds;
  readonly #vocab: Map<string, number>;
  readonly #pieces: string[];
  readonly #ranks = new Map<string, number>();
  readonly #merges: string[];
  readonly #cache = new Map<string, number[]>();
  /** Special id → its role, for decoding. */
  readonly #specialRoles: Map<number, keyof typeof SPECIAL_TOKENS>;

  constructor(vocab: Record<string, number>, merges: readonly string[]) {
    this.#vocab = new Map(Object.entries(vocab));
    const size = Math.max(...this.#vocab.values()) + 1;
    this.#pieces = new Array<string>(size);
    for (const [piece, id] of this.#vocab) this.#pieces[id] = piece;
    this.#merges = merges.filter((m) => m.trim() !== "" && !m.startsWith("#version"));
    this.#merges.forEach((m, rank) => {
      if (m.split(" ").length !== 2) throw new Error(`merges.txt line '${m}' is not two symbols`);
      this.#ranks.set(m, rank);
    });
    const roles = Object.keys(SPECIAL_TOKENS) as Array<keyof typeof SPECIAL_TOKENS>;
    this.special = Object.fromEntries(roles.map((r, i) => [r, size + i])) as unknown as SpecialIds;
    this.vocabSize = size + roles.length;
    this.#specialRoles = new Map(roles.map((r, i) => [size + i, r]));
  }

  /**
   * Reads `vocab.json` and `merges.txt` from a Hugging Face folder.
   * @throws one line naming the file when it is missing or malformed
   */
  static fromFolder(dir: string): Gpt2Tokenizer {
    let vocab: Record<string, number>, merges: string;
    try {
      vocab = JSON.parse(Deno.readTextFileSync(`${dir}/vocab.json`));
      merges = Deno.readTextFileSync(`${dir}/merges.txt`);
    } catch (e) {
      throw new Error(`${dir}: cannot read vocab.json and merges.txt (${(e as Error).message.split("\n")[0]})`);
    }
    try {
      return new Gpt2Tokenizer(vocab, merges.split("\n"));
    } catch (e) {
      throw new Error(`${dir}/merges.txt: ${(e as Error).message}`);
    }
  }

  /** Symbols of one piece (its bytes as stand-ins) merged by rank. */
  #bpe(piece: string): number[] {
    const cached = this.#cache.get(piece);
    if (cached) return cached;
    let symbols = [...UTF8.encode(piece)].map((b) => BYTES.toChar[b]!);
    while (symbols.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
      }
      if (best < 0) break;
      const [a, b] = [symbols[best]!, symbols[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) merged.push(a + b), i++;
        else merged.push(symbols[i]!);
      }
      symbols = merged;
    }
    const ids = symbols.map((s) => {
      const id = this.#vocab.get(s);
      if (id === undefined) throw new Error(`symbol '${s}' of '${piece}' is not in vocab.json`);
      return id;
    });
    if (this.#cache.size < 100_000) this.#cache.set(piece, ids);
    return ids;
  }

  encode(text: string): number[] {
    return [...text.matchAll(PIECES)].flatMap((m) => this.#bpe(m[0]));
  }

  decode(ids: readonly number[]): string {
    let out = "", bytes: number[] = [];
    const flush = () => {
      out += UTF8_DECODER.decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const role = this.#specialRoles.get(id);
      if (role !== undefined) {
        flush();
        out += SPECIAL_TOKENS[role];
        continue;
      }
      for (const c of this.#pieces[id] ?? "") bytes.push(BYTES.toByte.get(c)!);
    }
    flush();
    return out;
  }

  toJSON(): TokenizerJSON {
    return { type: "gpt2-bpe", vocab: Object.fromEntries(this.#vocab), merges: this.#merges };
  }
}

registerTokenizerType(
  "gpt2-bpe",
  (json) => new Gpt2Tokenizer(json.vocab as Record<string, number>, json.merges as string[]),
);
