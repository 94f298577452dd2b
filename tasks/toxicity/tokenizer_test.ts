import assert from "node:assert/strict";
import { tokenizerFromJSON } from "../../ilql/tokenizer.ts";
import { RemappedBpeTokenizer, UNK_ID } from "./tokenizer.ts";

Deno.test("the remapped GPT-2 tokenizer: small vocabulary, exact round trip, <unk> for unseen pieces", () => {
  const tok = RemappedBpeTokenizer.fromTexts(["Hello world, how are you?", "I am fine, thanks!"]);
  assert.ok(tok.vocabSize < 30, `vocabulary ${tok.vocabSize}`);
  for (const text of ["Hello world, how are you?", "I am fine, thanks!", "Hello, how are you?"]) {
    const ids = tok.encode(text);
    assert.ok(ids.every((id) => id > UNK_ID && id < tok.vocabSize), text);
    assert.equal(tok.decode(ids), text);
  }
  const unseen = tok.encode("Hello zebra");
  assert.ok(unseen.includes(UNK_ID));
  assert.match(tok.decode(unseen), /^Hello(<unk>)+$/); // " zebra" is two GPT-2 pieces, both unseen
  assert.equal(tok.decode([tok.special.bos, ...tok.encode("Hello"), tok.special.eoa]), "<s>Hello</a>");
  // special strings in text are ordinary characters, never special ids
  assert.ok(tok.encode("<s>").every((id) => id > UNK_ID || id === UNK_ID));
  const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(copy.encode("Hello world, how are you?"), tok.encode("Hello world, how are you?"));
  assert.equal(copy.vocabSize, tok.vocabSize);
  assert.throws(() => tok.decode([tok.vocabSize]), /outside the vocabulary/);
  assert.throws(() => tokenizerFromJSON({ type: "gpt2-remapped", gpt2Ids: [-1] }), /gpt2Ids/);
});
