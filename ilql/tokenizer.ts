/**
 * Tokenizers turn segment text into token ids. Every tokenizer carries the six special tokens of the reference
 * serialisation (spec 1.2): `<|pad|>`, `<s>` (starts a dialogue with an environment turn), `</s>` (ends an
 * environment turn), `<a>` (starts a dialogue with an agent turn), `</a>` (ends an agent turn), `</eod>`.
 * @module
 */

/** The special token strings, by role. */
export const SPECIAL_TOKENS = {
  pad: "<|pad|>",
  bos: "<s>",
  eos: "</s>",
  boa: "<a>",
  eoa: "</a>",
  eod: "</eod>",
} as const;

/** Role of a special token. */
export type SpecialRole = keyof typeof SPECIAL_TOKENS;

/** Ids of the special tokens. */
export type SpecialIds = { readonly [K in SpecialRole]: number };

/** A serialisable description of a tokenizer, stored in checkpoints. */
export interface TokenizerJSON {
  type: string;
  [key: string]: unknown;
}

/** What the model, batching and decoding need from a tokenizer. */
export interface Tokenizer {
  /** Number of token ids (the model's vocabulary). */
  readonly vocabSize: number;
  /** Ids of the special tokens. */
  readonly special: SpecialIds;
  /** Text → ids; throws on text the tokenizer cannot represent. Never produces special tokens. */
  encode(text: string): number[];
  /** Ids → text; special tokens are written as their strings. */
  decode(ids: readonly number[]): string;
  /** The description `tokenizerFromJSON` rebuilds it from. */
  toJSON(): TokenizerJSON;
}

/** Options of {@link CharTokenizer}. */
export interface CharTokenizerOptions {
  /** Characters that are one token each (duplicates are ignored). */
  alphabet: string;
  /** Multi-character strings that are one token each, e.g. `<g>` for a green Wordle tile. */
  symbols?: readonly string[];
}

/**
 * One token per character, plus optional multi-character symbols matched longest first. Ids: the six specials
 * (0–5), then the symbols, then the alphabet in order.
 * @example
 * ```ts
 * import { CharTokenizer } from "./tokenizer.ts";
 * const tok = new CharTokenizer({ alphabet: "abc", symbols: ["<g>"] });
 * const ids = tok.encode("ab<g>");
 * console.log(ids.length, tok.decode(ids)); // 3 "ab<g>"
 * ```
 */
export class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialIds;
  readonly #pieces: string[];
  readonly #ids = new Map<string, number>();
  readonly #symbolsLongestFirst: string[];
  readonly #alphabet: string;
  readonly #symbols: string[];

  constructor(options: CharTokenizerOptions) {
    const chars = [...new Set(Array.from(options.alphabet))];
    const symbols = [...new Set(options.symbols ?? [])];
    for (const s of symbols) {
      if (s.length === 0) throw new Error("CharTokenizer symbols must be non-empty strings");
    }
    this.#alphabet = chars.join("");
    this.#symbols = symbols;
    this.#pieces = [...Object.values(SPECIAL_TOKENS), ...symbols, ...chars];
    this.#pieces.forEach((p, i) => {
      if (this.#ids.has(p)) throw new Error(`CharTokenizer piece '${p}' is defined twice`);
      this.#ids.set(p, i);
    });
    const ids = Object.fromEntries(
      Object.entries(SPECIAL_TOKENS).map(([role, text]) => [role, this.#ids.get(text)!]),
    ) as unknown as SpecialIds;
    this.special = ids;
    this.vocabSize = this.#pieces.length;
    this.#symbolsLongestFirst = [...symbols].sort((a, b) => b.length - a.length);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      for (const s of this.#symbolsLongestFirst) {
        if (text.startsWith(s, i)) {
          out.push(this.#ids.get(s)!);
          i += s.length;
          continue outer;
        }
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      const id = this.#ids.get(ch);
      if (id === undefined || id < Object.keys(SPECIAL_TOKENS).length) {
        const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new Error(`Character '${ch}' (U+${code}) at offset ${i} is not in the tokenizer's alphabet`);
      }
      out.push(id);
      i += ch.length;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => {
      const piece = this.#pieces[id];
      if (piece === undefined) throw new Error(`Token id ${id} is outside the vocabulary of ${this.vocabSize}`);
      return piece;
    }).join("");
  }

  toJSON(): TokenizerJSON {
    return { type: "char", alphabet: this.#alphabet, symbols: this.#symbols };
  }
}

type TokenizerFactory = (json: TokenizerJSON) => Tokenizer;

const factories = new Map<string, TokenizerFactory>([
  ["char", (json) => {
    if (typeof json.alphabet !== "string") throw new Error("char tokenizer JSON needs an 'alphabet' string");
    const symbols = json.symbols ?? [];
    if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === "string")) {
      throw new Error("char tokenizer JSON 'symbols' must be a list of strings");
    }
    return new CharTokenizer({ alphabet: json.alphabet, symbols });
  }],
]);

/** Makes `tokenizerFromJSON` able to rebuild tokenizers of another `type` (e.g. a task's BPE tokenizer). */
export function registerTokenizerType(type: string, factory: TokenizerFactory): void {
  factories.set(type, factory);
}

/** Rebuilds a tokenizer from its `toJSON()` description. */
export function tokenizerFromJSON(json: TokenizerJSON): Tokenizer {
  const factory = factories.get(json?.type);
  if (factory === undefined) throw new Error(`Unknown tokenizer type '${json?.type}'`);
  return factory(json);
}
