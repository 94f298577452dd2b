import assert from "node:assert/strict";
import {
  CharTokenizer,
  registerTokenizerType,
  SPECIAL_TOKENS,
  type Tokenizer,
  tokenizerFromJSON,
  type TokenizerJSON,
} from "./tokenizer.ts";

// ids: 0-5 specials, 6 <g>, 7 <gg>, 8 a, 9 b, 10 c, 11 g, 12 space
const tok = new CharTokenizer({ alphabet: "abcg ", symbols: ["<g>", "<gg>"] });

Deno.test("CharTokenizer gives the six specials ids 0..5 and `special` maps roles to them", () => {
  assert.deepEqual(tok.special, { pad: 0, bos: 1, eos: 2, boa: 3, eoa: 4, eod: 5 });
  assert.equal(tok.decode([0, 1, 2, 3, 4, 5]), "<|pad|><s></s><a></a></eod>");
  for (const [role, text] of Object.entries(SPECIAL_TOKENS)) {
    assert.equal(tok.decode([tok.special[role as keyof typeof SPECIAL_TOKENS]]), text);
  }
});

Deno.test("CharTokenizer numbers symbols after the specials, then the alphabet, and counts them in vocabSize", () => {
  assert.equal(tok.vocabSize, 6 + 2 + 5);
  assert.deepEqual(tok.encode("<g><gg>abcg "), [6, 7, 8, 9, 10, 11, 12]);
  assert.equal(new CharTokenizer({ alphabet: "" }).vocabSize, 6);
  // duplicate alphabet characters and symbols are ignored
  const dup = new CharTokenizer({ alphabet: "abab", symbols: ["<x>", "<x>"] });
  assert.equal(dup.vocabSize, 6 + 1 + 2);
  assert.deepEqual(dup.encode("ba<x>"), [8, 7, 6]);
});

Deno.test("CharTokenizer encode → decode round-trips text", () => {
  for (const text of ["", "a", "abc", "g<g>g", "<gg><g> cab", "  "]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
  const uni = new CharTokenizer({ alphabet: "héllo😀 " });
  const text = "hé 😀 llo";
  const ids = uni.encode(text);
  assert.equal(ids.length, 8, "one token per code point, the emoji included");
  assert.equal(uni.decode(ids), text);
});

Deno.test("CharTokenizer matches symbols longest first", () => {
  // "abc" must win over "ab" wherever both match, whatever the order they were given in
  for (const symbols of [["ab", "abc"], ["abc", "ab"]]) {
    const t = new CharTokenizer({ alphabet: "abc", symbols });
    const ab = 6 + symbols.indexOf("ab");
    const abc = 6 + symbols.indexOf("abc");
    assert.deepEqual(t.encode("abcab"), [abc, ab]);
    assert.deepEqual(t.encode("ababc"), [ab, abc]);
    assert.deepEqual(t.encode("abca"), [abc, 8]);
  }
  // a prefix symbol ("<g") loses to the longer one ("<gg>") but still matches alone
  const t = new CharTokenizer({ alphabet: "g>", symbols: ["<g", "<gg>"] });
  assert.deepEqual(t.encode("<gg><g>"), [7, 6, 9]);
});

Deno.test("CharTokenizer.encode() names the unknown character and its offset", () => {
  assert.throws(() => tok.encode("abz"), {
    message: "Character 'z' (U+007A) at offset 2 is not in the tokenizer's alphabet",
  });
  assert.throws(() => tok.encode("a<g>😀"), {
    message: "Character '😀' (U+1F600) at offset 4 is not in the tokenizer's alphabet",
  });
  // a partial symbol is not a symbol: '<' alone is not in the alphabet
  assert.throws(() => tok.encode("<g"), {
    message: "Character '<' (U+003C) at offset 0 is not in the tokenizer's alphabet",
  });
});

Deno.test("CharTokenizer.encode() never produces special tokens from their strings", () => {
  for (const text of Object.values(SPECIAL_TOKENS)) {
    assert.throws(() => tok.encode(text), {
      message: "Character '<' (U+003C) at offset 0 is not in the tokenizer's alphabet",
    });
  }
  // with the characters in the alphabet, a special string is spelt out character by character
  const t = new CharTokenizer({ alphabet: "<>/sa" });
  const ids = t.encode("<s></a>");
  assert.equal(ids.length, 7);
  assert.ok(ids.every((id) => id >= 6), `ids ${ids}`);
  assert.equal(t.decode(ids), "<s></a>");
});

Deno.test("CharTokenizer.decode() throws on an id outside the vocabulary", () => {
  assert.throws(() => tok.decode([8, 13]), { message: "Token id 13 is outside the vocabulary of 13" });
  assert.throws(() => tok.decode([-1]), { message: "Token id -1 is outside the vocabulary of 13" });
  assert.throws(() => tok.decode([1.5]), { message: "Token id 1.5 is outside the vocabulary of 13" });
  assert.equal(tok.decode([12]), " ");
  assert.equal(tok.decode([]), "");
});

Deno.test("CharTokenizer rejects a piece defined twice and an empty symbol", () => {
  assert.throws(() => new CharTokenizer({ alphabet: "abc", symbols: ["b"] }), {
    message: "CharTokenizer piece 'b' is defined twice",
  });
  assert.throws(() => new CharTokenizer({ alphabet: "abc", symbols: ["</a>"] }), {
    message: "CharTokenizer piece '</a>' is defined twice",
  });
  assert.throws(() => new CharTokenizer({ alphabet: "abc", symbols: [""] }), {
    message: "CharTokenizer symbols must be non-empty strings",
  });
});

Deno.test("toJSON() → tokenizerFromJSON() rebuilds a tokenizer with identical ids", () => {
  const original = new CharTokenizer({ alphabet: "zyxzy é😀", symbols: ["<y>", "<g>", "<gg>"] });
  const json = original.toJSON();
  assert.deepEqual(json, { type: "char", alphabet: "zyx é😀", symbols: ["<y>", "<g>", "<gg>"] });
  const rebuilt = tokenizerFromJSON(JSON.parse(JSON.stringify(json)));
  assert.equal(rebuilt.vocabSize, original.vocabSize);
  assert.deepEqual(rebuilt.special, original.special);
  const text = "<gg>zy<y>x é😀<g>";
  assert.deepEqual(rebuilt.encode(text), original.encode(text));
  const all = Array.from({ length: original.vocabSize }, (_, i) => i);
  assert.equal(rebuilt.decode(all), original.decode(all));
  assert.deepEqual(rebuilt.toJSON(), json);
  // symbols may be left out
  assert.equal(tokenizerFromJSON({ type: "char", alphabet: "ab" }).vocabSize, 8);
});

Deno.test("tokenizerFromJSON() rejects an unknown type and a malformed char description", () => {
  assert.throws(() => tokenizerFromJSON({ type: "bpe-unregistered" }), {
    message: "Unknown tokenizer type 'bpe-unregistered'",
  });
  assert.throws(() => tokenizerFromJSON({ type: "char" }), {
    message: "char tokenizer JSON needs an 'alphabet' string",
  });
  assert.throws(() => tokenizerFromJSON({ type: "char", alphabet: "ab", symbols: [1] }), {
    message: "char tokenizer JSON 'symbols' must be a list of strings",
  });
  assert.throws(() => tokenizerFromJSON({ type: "char", alphabet: "ab", symbols: "<g>" }), {
    message: "char tokenizer JSON 'symbols' must be a list of strings",
  });
});

Deno.test("registerTokenizerType() lets tokenizerFromJSON() rebuild another type", () => {
  /** Upper-cases its input; stands in for a task tokenizer. */
  class UpperTokenizer implements Tokenizer {
    readonly #inner: CharTokenizer;
    constructor(readonly letters: string) {
      this.#inner = new CharTokenizer({ alphabet: letters.toUpperCase() });
    }
    get vocabSize() {
      return this.#inner.vocabSize;
    }
    get special() {
      return this.#inner.special;
    }
    encode(text: string) {
      return this.#inner.encode(text.toUpperCase());
    }
    decode(ids: readonly number[]) {
      return this.#inner.decode(ids);
    }
    toJSON(): TokenizerJSON {
      return { type: "test-upper", letters: this.letters };
    }
  }
  const type = "test-upper";
  assert.throws(() => tokenizerFromJSON({ type }), { message: `Unknown tokenizer type '${type}'` });
  registerTokenizerType(type, (json) => new UpperTokenizer(json.letters as string));
  const original = new UpperTokenizer("abc");
  const rebuilt = tokenizerFromJSON(original.toJSON());
  assert.ok(rebuilt instanceof UpperTokenizer);
  assert.deepEqual(rebuilt.encode("cab"), original.encode("CAB"));
  assert.equal(rebuilt.decode(rebuilt.encode("cab")), "CAB");
  // the built-in char type is still there
  assert.ok(tokenizerFromJSON({ type: "char", alphabet: "a" }) instanceof CharTokenizer);
});
