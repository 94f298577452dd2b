import assert from "node:assert/strict";
import ranks from "gpt-tokenizer/r50k_ranks";
import { decode as gptDecode, encode as gptEncode } from "gpt-tokenizer/r50k_base";
import { Gpt2Tokenizer } from "./bpe.ts";
import { tokenizerFromJSON } from "./tokenizer.ts";

/** GPT-2's byte stand-ins (bytes_to_unicode), written out independently of ilql/bpe.ts. */
function standIn(b: number): string {
  const printable = [...Array(94).keys()].map((i) => 33 + i).concat(
    [...Array(12).keys()].map((i) => 161 + i),
    [...Array(82).keys()].map((i) => 174 + i),
  );
  const i = printable.indexOf(b);
  return String.fromCodePoint(i >= 0 ? b : 256 + [...Array(b).keys()].filter((x) => !printable.includes(x)).length);
}

/**
 * GPT-2's `vocab.json` and `merges.txt` rebuilt from the ranks gpt-tokenizer ships (r50k_base is GPT-2's encoding):
 * token `256 + i` is merge `i`, whose two halves are what BPE with the earlier merges makes of its bytes.
 */
function gpt2Files(): { vocab: Record<string, number>; merges: string[] } {
  const tokens = (ranks as Array<string | number[]>).map((t) =>
    [...(typeof t === "string" ? new TextEncoder().encode(t) : Uint8Array.from(t))].map(standIn).join("")
  );
  const vocab: Record<string, number> = Object.fromEntries(tokens.map((t, id) => [t, id]));
  vocab["<|endoftext|>"] = tokens.length;
  const merges: string[] = [];
  const rank = new Map<string, number>();
  for (const token of tokens.slice(256)) {
    let symbols = [...token];
    while (symbols.length > 2) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      const [a, b] = [symbols[best]!, symbols[best + 1]!];
      const next: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) next.push(a + b), i++;
        else next.push(symbols[i]!);
      }
      symbols = next;
    }
    rank.set(symbols.join(" "), merges.length);
    merges.push(symbols.join(" "));
  }
  return { vocab, merges };
}

const TEXTS = [
  "Hello world! It's a test, isn't it?",
  "  leading spaces, trailing spaces  \n\nnew lines\ttabs",
  "Zürich, naïve café — “quotes” and emoji 🙂🚀 and 中文字符",
  "numbers 12345 and 3.14159, code: x += y[i] * 2; // comment",
  "You're welcome. We'll see; they've gone. I'm here, he'd go.",
  "Which countries does it border? Is it the Netherlands?",
];

Deno.test("the GPT-2 BPE from vocab.json and merges.txt encodes as GPT-2 does (gpt-tokenizer's r50k_base)", async () => {
  const { vocab, merges } = gpt2Files();
  assert.equal(merges.length, 50000);
  assert.equal(merges[0], "Ġ t");
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/vocab.json`, JSON.stringify(vocab));
    Deno.writeTextFileSync(`${dir}/merges.txt`, ["#version: 0.2", ...merges].join("\n") + "\n");
    const tokenizer = Gpt2Tokenizer.fromFolder(dir);
    assert.equal(tokenizer.vocabSize, 50257 + 6);
    assert.equal(tokenizer.special.pad, 50257);
    for (const text of TEXTS) {
      const ids = tokenizer.encode(text);
      assert.deepEqual(ids, gptEncode(text), text);
      assert.equal(tokenizer.decode(ids), text);
      assert.equal(gptDecode(ids), text);
    }
    assert.equal(
      tokenizer.decode([tokenizer.special.bos, ...tokenizer.encode("hi"), tokenizer.special.eoa]),
      "<s>hi</a>",
    );
    // a checkpoint's copy rebuilds the same tokenizer
    const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    assert.deepEqual(copy.encode(TEXTS[2]!), tokenizer.encode(TEXTS[2]!));
    Deno.writeTextFileSync(`${dir}/merges.txt`, "#version: 0.2\na b c\n");
    assert.throws(() => Gpt2Tokenizer.fromFolder(dir), /merges.txt: merges.txt line 'a b c' is not two symbols/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(
    () => Gpt2Tokenizer.fromFolder("/nonexistent"),
    /^Error: \/nonexistent: cannot read vocab.json and merges.txt/,
  );
});
