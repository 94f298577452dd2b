import assert from "node:assert/strict";
import {
  collate,
  type EncodedEpisode,
  encodeEpisode,
  encodeSegments,
  type Episode,
  parseEpisodesJsonl,
  type Segment,
  validateEpisode,
} from "./episode.ts";
import { Prng } from "./prng.ts";
import { CharTokenizer, SPECIAL_TOKENS } from "./tokenizer.ts";

// ids: <|pad|> 0, <s> 1, </s> 2, <a> 3, </a> 4, </eod> 5, <g> 6, <y> 7, <b> 8, a 9, b 10, c 11, d 12, e 13
const tok = new CharTokenizer({ alphabet: "abcde", symbols: ["<g>", "<y>", "<b>"] });
const [PAD, BOS, EOS, BOA, EOA, EOD] = [0, 1, 2, 3, 4, 5];
const [G, Y, A, B, C, D, E] = [6, 7, 9, 10, 11, 12, 13];

const enc = (episode: Episode, context = 64) => encodeEpisode(episode, tok, { context });

/** Wordle-like: the agent speaks first; two guesses with feedback in between, ending for real. */
const WORDLE: Episode = {
  segments: [
    { kind: "action", text: "ab", reward: -1 },
    { kind: "state", text: "<g><y>" },
    { kind: "action", text: "c", reward: 2 },
  ],
  terminal: true,
};
/** Starts with the environment, cut off after a trailing environment turn. */
const STATE_FIRST: Episode = {
  segments: [
    { kind: "state", text: "ab" },
    { kind: "action", text: "cde", reward: 0.5 },
    { kind: "state", text: "a" },
  ],
  terminal: false,
};
/** Two agent turns in a row. */
const TWO_ACTIONS: Episode = {
  segments: [
    { kind: "action", text: "a", reward: 1 },
    { kind: "action", text: "bc", reward: -2 },
  ],
  terminal: true,
};
/** An empty agent turn is the single action `</a>`. */
const EMPTY_ACTION: Episode = {
  segments: [
    { kind: "state", text: "c" },
    { kind: "action", text: "", reward: -3 },
  ],
  terminal: true,
};

function checkEncoded(
  actual: EncodedEpisode,
  expected: { tokens: number[]; positions: number[]; rewards: number[]; terminal: boolean },
) {
  assert.deepEqual(Array.from(actual.tokens), expected.tokens, "tokens");
  assert.deepEqual(Array.from(actual.actionPositions), expected.positions, "action positions");
  assert.deepEqual(Array.from(actual.rewards), expected.rewards, "rewards");
  assert.equal(actual.terminal, expected.terminal, "terminal");
  assert.ok(actual.tokens instanceof Int32Array);
  assert.ok(actual.actionPositions instanceof Int32Array);
  assert.ok(actual.rewards instanceof Float32Array);
}

// ---- encodeEpisode: hand-worked examples of spec 1.2 / 1.3 ----

Deno.test("encodeEpisode() serialises an agent-first terminal episode with <a> and finds its action positions", () => {
  // <a> a b </a> <g> <y> </s> c </a> </eod>
  //  0  1 2  3    4   5   6  7  8    9
  // spec 1.3: curr=0; </a>@3 → A += 0,1,2 (R[-1] += -1), curr=3; </s>@6 → curr=6; </a>@8 → A += 6,7 (R[-1] += 2)
  const e = enc(WORDLE);
  checkEncoded(e, {
    tokens: [BOA, A, B, EOA, G, Y, EOS, C, EOA, EOD],
    positions: [0, 1, 2, 6, 7],
    rewards: [0, 0, -1, 0, 2],
    terminal: true,
  });
  // each position p chooses tokens[p + 1]: the utterance tokens plus their </a>
  assert.deepEqual(Array.from(e.actionPositions, (p) => e.tokens[p + 1]), [A, B, EOA, C, EOA]);
});

Deno.test("encodeEpisode() starts an environment-first episode with <s> and writes no </eod> when cut off", () => {
  // <s> a b </s> c d e </a> a </s>
  //  0  1 2  3   4 5 6  7   8  9
  // spec 1.3: </s>@3 → curr=3; </a>@7 → A += 3,4,5,6 (R[-1] += 0.5), curr=7; </s>@9 → curr=9
  const e = enc(STATE_FIRST);
  checkEncoded(e, {
    tokens: [BOS, A, B, EOS, C, D, E, EOA, A, EOS],
    positions: [3, 4, 5, 6],
    rewards: [0, 0, 0, 0.5],
    terminal: false,
  });
  assert.deepEqual(Array.from(e.actionPositions, (p) => e.tokens[p + 1]), [C, D, E, EOA]);
  assert.ok(!Array.from(e.tokens).includes(EOD));
});

Deno.test("encodeEpisode() chains two consecutive agent turns from one </a> to the next", () => {
  // <a> a </a> b c </a> </eod>
  //  0  1  2   3 4  5     6
  // spec 1.3: </a>@2 → A += 0,1 (R[-1] += 1), curr=2; </a>@5 → A += 2,3,4 (R[-1] += -2)
  const e = enc(TWO_ACTIONS);
  checkEncoded(e, {
    tokens: [BOA, A, EOA, B, C, EOA, EOD],
    positions: [0, 1, 2, 3, 4],
    rewards: [0, 1, 0, 0, -2],
    terminal: true,
  });
  assert.deepEqual(Array.from(e.actionPositions, (p) => e.tokens[p + 1]), [A, EOA, B, C, EOA]);
});

Deno.test("encodeEpisode() makes an empty agent turn the single action </a> carrying its reward", () => {
  // <s> c </s> </a> </eod>: </s>@2 → curr=2; </a>@3 → A += 2 (R[-1] += -3)
  checkEncoded(enc(EMPTY_ACTION), {
    tokens: [BOS, C, EOS, EOA, EOD],
    positions: [2],
    rewards: [-3],
    terminal: true,
  });
  // an episode that is only an empty agent turn: <a> </a>
  checkEncoded(enc({ segments: [{ kind: "action", text: "", reward: 1 }], terminal: false }), {
    tokens: [BOA, EOA],
    positions: [0],
    rewards: [1],
    terminal: false,
  });
});

Deno.test("encodeEpisode() keeps a zero utterance reward and fractional rewards exactly", () => {
  const e = enc({
    segments: [
      { kind: "state", text: "" },
      { kind: "action", text: "a", reward: 0 },
      { kind: "state", text: "b" },
      { kind: "action", text: "c", reward: -0.25 },
    ],
    terminal: true,
  });
  // <s> </s> a </a> b </s> c </a> </eod>
  //  0   1   2  3   4  5   6  7    8
  checkEncoded(e, {
    tokens: [BOS, EOS, A, EOA, B, EOS, C, EOA, EOD],
    positions: [1, 2, 5, 6],
    rewards: [0, 0, 0, -0.25],
    terminal: true,
  });
});

/** Spec 1.2: the serialised string, split into special and text pieces and tokenized. */
function specSerialise(episode: Episode): number[] {
  let s = episode.segments.length === 0 || episode.segments[0]!.kind === "action" ? "<a>" : "<s>";
  for (const seg of episode.segments) s += seg.text + (seg.kind === "state" ? "</s>" : "</a>");
  if (episode.terminal) s += "</eod>";
  const specials = new Map(Object.entries(SPECIAL_TOKENS).map(([role, text]) => [text, role]));
  const out: number[] = [];
  for (const piece of s.split(/(<s>|<\/s>|<a>|<\/a>|<\/eod>)/)) {
    const role = specials.get(piece as never);
    if (role !== undefined) out.push(tok.special[role as keyof typeof SPECIAL_TOKENS]);
    else out.push(...tok.encode(piece));
  }
  return out;
}

/** Spec 1.3, transcribed: action indices, state indices, rewards and terminals of a token sequence. */
function specIndices(tokens: number[], utteranceRewards: number[], terminal: boolean) {
  let curr = 0;
  let kUtt = 0;
  const A: number[] = [];
  const S: number[] = [];
  const R: number[] = [];
  tokens.forEach((t, i) => {
    if (t === EOS) curr = i;
    else if (t === EOA) {
      for (let x = curr; x < i; x++) {
        A.push(x);
        S.push(x);
        R.push(0);
      }
      R[R.length - 1]! += utteranceRewards[kUtt++]!;
      curr = i;
    }
  });
  S.push(tokens.length - 1);
  const terminals = [...new Array<number>(S.length - 1).fill(0), terminal ? 1 : 0];
  return { A, S, R, terminals };
}

function randomEpisode(prng: Prng): Episode {
  const pieces = ["a", "b", "c", "d", "e", "<g>", "<y>", "<b>"];
  const n = 1 + prng.int(6);
  const segments: Segment[] = [];
  for (let i = 0; i < n; i++) {
    const text = Array.from({ length: prng.int(5) }, () => prng.pick(pieces)).join("");
    if (prng.next() < 0.5) segments.push({ kind: "state", text });
    else segments.push({ kind: "action", text, reward: prng.int(9) - 4 + prng.int(4) / 4 });
  }
  if (!segments.some((s) => s.kind === "action")) segments.push({ kind: "action", text: "ab", reward: 1 });
  return { segments, terminal: prng.next() < 0.5 };
}

Deno.test("encodeEpisode() agrees with the spec 1.2 / 1.3 algorithm on 500 random episodes", () => {
  const prng = new Prng(2024);
  for (let i = 0; i < 500; i++) {
    const episode = randomEpisode(prng);
    const e = enc(episode, 1000);
    const tokens = specSerialise(episode);
    const rewards = episode.segments.filter((s) => s.kind === "action").map((s) => s.reward!);
    const ref = specIndices(tokens, rewards, episode.terminal);
    const what = JSON.stringify(episode);
    assert.deepEqual(Array.from(e.tokens), tokens, what);
    assert.deepEqual(Array.from(e.actionPositions), ref.A, what);
    assert.deepEqual(Array.from(e.rewards), ref.R, what);
    // collate's state indices and terminals of a one-row batch are S and the spec terminals
    const batch = collate([e], PAD);
    assert.deepEqual(Array.from(batch.stateIndex), ref.S, what);
    assert.deepEqual(Array.from(batch.terminals), ref.terminals, what);
  }
});

// ---- collate ----

Deno.test("collate() pads three hand-worked episodes into flat row-major arrays", () => {
  // rows: STATE_FIRST (n=10, K=4, cut off), TWO_ACTIONS (n=7, K=5, terminal), EMPTY_ACTION (n=5, K=1, terminal)
  const b = collate([enc(STATE_FIRST), enc(TWO_ACTIONS), enc(EMPTY_ACTION)], PAD);
  assert.equal(b.size, 3);
  assert.equal(b.length, 10);
  assert.equal(b.numActions, 5);
  const _ = PAD;
  assert.deepEqual(Array.from(b.tokens), [
    ...[BOS, A, B, EOS, C, D, E, EOA, A, EOS],
    ...[BOA, A, EOA, B, C, EOA, EOD, _, _, _],
    ...[BOS, C, EOS, EOA, EOD, _, _, _, _, _],
  ]);
  assert.deepEqual(Array.from(b.attention), [
    ...[1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ...[1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    ...[1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  ]);
  // flat b·T + p; padded slots point at the row's position 0
  assert.deepEqual(Array.from(b.actionIndex), [
    ...[3, 4, 5, 6, 0],
    ...[10, 11, 12, 13, 14],
    ...[22, 20, 20, 20, 20],
  ]);
  // action positions plus the final token, then padding
  assert.deepEqual(Array.from(b.stateIndex), [
    ...[3, 4, 5, 6, 9, 0],
    ...[10, 11, 12, 13, 14, 16],
    ...[22, 24, 20, 20, 20, 20],
  ]);
  // the final state is terminal only for a real end; padding is 1
  assert.deepEqual(Array.from(b.terminals), [
    ...[0, 0, 0, 0, 0, 1],
    ...[0, 0, 0, 0, 0, 1],
    ...[0, 1, 1, 1, 1, 1],
  ]);
  assert.deepEqual(Array.from(b.actionMask), [
    ...[1, 1, 1, 1, 0],
    ...[1, 1, 1, 1, 1],
    ...[1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(Array.from(b.rewards), [
    ...[0, 0, 0, 0.5, 0],
    ...[0, 1, 0, 0, -2],
    ...[-3, 0, 0, 0, 0],
  ]);
  // actions[b·K + k] = the row's token at p + 1; padding 0
  assert.deepEqual(Array.from(b.actions), [
    ...[C, D, E, EOA, 0],
    ...[A, EOA, B, C, EOA],
    ...[EOA, 0, 0, 0, 0],
  ]);
  // 1 + b·K + k at action positions, else 0
  assert.deepEqual(Array.from(b.positionSlot), [
    ...[0, 0, 0, 1, 2, 3, 4, 0, 0, 0],
    ...[6, 7, 8, 9, 10, 0, 0, 0, 0, 0],
    ...[0, 0, 11, 0, 0, 0, 0, 0, 0, 0],
  ]);
  assert.ok(b.tokens instanceof Int32Array && b.actionIndex instanceof Int32Array);
  assert.ok(b.stateIndex instanceof Int32Array && b.actions instanceof Int32Array);
  assert.ok(b.positionSlot instanceof Int32Array && b.attention instanceof Float32Array);
  assert.ok(b.rewards instanceof Float32Array && b.actionMask instanceof Float32Array);
  assert.ok(b.terminals instanceof Float32Array);
});

Deno.test("collate() of a cut-off episode shorter than the batch marks its final state 0 and the padding 1", () => {
  // WORDLE: n=10, K=5, terminal; EMPTY_ACTION cut off: <s> c </s> </a>, n=4, K=1
  const cut: Episode = { ...EMPTY_ACTION, terminal: false };
  const b = collate([enc(WORDLE), enc(cut)], PAD);
  assert.equal(b.length, 10);
  assert.equal(b.numActions, 5);
  assert.deepEqual(Array.from(b.tokens.subarray(10)), [BOS, C, EOS, EOA, PAD, PAD, PAD, PAD, PAD, PAD]);
  assert.deepEqual(Array.from(b.stateIndex), [...[0, 1, 2, 6, 7, 9], ...[12, 13, 10, 10, 10, 10]]);
  assert.deepEqual(Array.from(b.terminals), [...[0, 0, 0, 0, 0, 1], ...[0, 0, 1, 1, 1, 1]]);
  assert.deepEqual(Array.from(b.actions), [...[A, B, EOA, C, EOA], ...[EOA, 0, 0, 0, 0]]);
  assert.deepEqual(Array.from(b.positionSlot), [
    ...[1, 2, 3, 0, 0, 0, 4, 5, 0, 0],
    ...[0, 0, 6, 0, 0, 0, 0, 0, 0, 0],
  ]);
});

Deno.test("collate() pads tokens with the given pad id; the attention mask follows episode lengths", () => {
  const b = collate([enc(WORDLE), enc(EMPTY_ACTION)], 99);
  assert.deepEqual(Array.from(b.tokens.subarray(10)), [BOS, C, EOS, EOA, EOD, 99, 99, 99, 99, 99]);
  assert.deepEqual(Array.from(b.attention.subarray(10)), [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.tokens.subarray(0, 10)), [BOA, A, B, EOA, G, Y, EOS, C, EOA, EOD]);
});

Deno.test("collate() of one episode needs no padding", () => {
  const e = enc(WORDLE);
  const b = collate([e], PAD);
  assert.deepEqual(b.tokens, e.tokens);
  assert.ok(b.attention.every((x) => x === 1));
  assert.deepEqual(Array.from(b.actionIndex), Array.from(e.actionPositions));
  assert.ok(b.actionMask.every((x) => x === 1));
  assert.deepEqual(b.rewards, e.rewards);
});

Deno.test("collate() rejects an empty list", () => {
  assert.throws(() => collate([], PAD), { message: "collate needs at least one episode" });
});

// ---- errors ----

function throwsOneLine(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

const W = { context: 64, where: "data.jsonl line 3" };

Deno.test("encodeEpisode() rejects an episode without an action segment, prefixed by `where`", () => {
  const noAction: Episode = { segments: [{ kind: "state", text: "a" }], terminal: true };
  throwsOneLine(() => encodeEpisode(noAction, tok, W), "data.jsonl line 3: episode has no action segment");
  throwsOneLine(() => encodeEpisode(noAction, tok, { context: 64 }), "episode has no action segment");
  throwsOneLine(
    () => encodeEpisode({ segments: [], terminal: true }, tok, W),
    "data.jsonl line 3: episode has no action segment",
  );
});

Deno.test("encodeEpisode() rejects a non-finite or missing action reward", () => {
  const withReward = (reward: unknown) =>
    ({
      segments: [{ kind: "state", text: "a" }, { kind: "action", text: "b", reward }],
      terminal: true,
    }) as Episode;
  const cases: [unknown, string][] = [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"], [
    undefined,
    "undefined",
  ]];
  for (const [reward, shown] of cases) {
    throwsOneLine(
      () => encodeEpisode(withReward(reward), tok, W),
      `data.jsonl line 3: segment 1 (action) reward must be a finite number, got ${shown}`,
    );
  }
  throwsOneLine(
    () => encodeEpisode(withReward(null), tok, W),
    "data.jsonl line 3: segment 1 (action) reward must be a finite number, got null",
  );
  assert.throws(() => encodeEpisode(withReward("1"), tok, W), /segment 1 \(action\) reward must be a finite number/);
});

Deno.test("encodeEpisode() rejects a reward on a state segment", () => {
  const episode = {
    segments: [{ kind: "state", text: "a", reward: 1 }, { kind: "action", text: "b", reward: 0 }],
    terminal: true,
  } as Episode;
  throwsOneLine(() => encodeEpisode(episode, tok, W), "data.jsonl line 3: segment 0 (state) must not carry a reward");
  // reward 0 on a state is a reward too
  const zero = { ...episode, segments: [{ kind: "state", text: "a", reward: 0 }, episode.segments[1]!] } as Episode;
  throwsOneLine(() => encodeEpisode(zero, tok, W), "data.jsonl line 3: segment 0 (state) must not carry a reward");
});

Deno.test("encodeEpisode() rejects a bad kind and non-string text", () => {
  const badKind = { segments: [{ kind: "agent", text: "a", reward: 1 }], terminal: true } as unknown as Episode;
  throwsOneLine(() => encodeEpisode(badKind, tok, W), "data.jsonl line 3: segment 0 kind must be 'state' or 'action'");
  const badText = {
    segments: [{ kind: "action", text: "a", reward: 1 }, { kind: "state", text: 5 }],
    terminal: true,
  } as unknown as Episode;
  throwsOneLine(() => encodeEpisode(badText, tok, W), "data.jsonl line 3: segment 1 text must be a string");
  const noText = { segments: [{ kind: "action", reward: 1 }], terminal: true } as unknown as Episode;
  throwsOneLine(() => encodeEpisode(noText, tok, W), "data.jsonl line 3: segment 0 text must be a string");
});

Deno.test("encodeEpisode() rejects a sequence longer than the context and accepts one that fits exactly", () => {
  // WORDLE serialises to 10 tokens
  assert.equal(encodeEpisode(WORDLE, tok, { context: 10 }).tokens.length, 10);
  throwsOneLine(
    () => encodeEpisode(WORDLE, tok, { context: 9, where: "data.jsonl line 3" }),
    "data.jsonl line 3: sequence of 10 tokens exceeds the model context of 9",
  );
  // the </eod> counts
  assert.equal(encodeEpisode({ ...WORDLE, terminal: false }, tok, { context: 9 }).tokens.length, 9);
});

Deno.test("encodeEpisode() names the segment and the character the tokenizer cannot encode", () => {
  const episode: Episode = {
    segments: [{ kind: "action", text: "ab", reward: 1 }, { kind: "state", text: "<g>z" }],
    terminal: true,
  };
  throwsOneLine(
    () => encodeEpisode(episode, tok, W),
    "data.jsonl line 3: segment 1: Character 'z' (U+007A) at offset 3 is not in the tokenizer's alphabet",
  );
  // a special-token string in the text is not a special token
  const special: Episode = { segments: [{ kind: "action", text: "a</a>", reward: 1 }], terminal: true };
  throwsOneLine(
    () => encodeEpisode(special, tok, { context: 64 }),
    "segment 0: Character '<' (U+003C) at offset 1 is not in the tokenizer's alphabet",
  );
});

Deno.test("validateEpisode() rejects non-objects and malformed fields, and returns a valid episode as is", () => {
  for (const value of [null, undefined, 3, "episode", true]) {
    throwsOneLine(() => validateEpisode(value, "x"), "x: episode must be an object");
  }
  throwsOneLine(() => validateEpisode(null), "episode must be an object");
  throwsOneLine(() => validateEpisode([], "x"), "x: episode needs a 'segments' list");
  throwsOneLine(() => validateEpisode({ segments: "ab", terminal: true }), "episode needs a 'segments' list");
  throwsOneLine(() => validateEpisode({ segments: [] }), "episode needs a boolean 'terminal'");
  throwsOneLine(() => validateEpisode({ segments: [], terminal: 1 }), "episode needs a boolean 'terminal'");
  throwsOneLine(() => validateEpisode({ segments: [null], terminal: true }), "segment 0 must be an object");
  throwsOneLine(
    () => validateEpisode({ segments: [{ kind: "action", text: "a", reward: 1 }, "b"], terminal: true }),
    "segment 1 must be an object",
  );
  assert.equal(validateEpisode(WORDLE), WORDLE);
  // a state may carry an explicit null reward (the reference's None)
  const nullReward = { segments: [{ kind: "state", text: "a", reward: null }, WORDLE.segments[0]], terminal: false };
  assert.equal(validateEpisode(nullReward), nullReward);
});

// ---- encodeSegments ----

Deno.test("encodeSegments() gives the prefix of encodeEpisode()'s tokens for every prefix of segments", () => {
  for (const episode of [WORDLE, STATE_FIRST, TWO_ACTIONS, EMPTY_ACTION]) {
    const tokens = Array.from(enc(episode).tokens);
    for (let k = 1; k <= episode.segments.length; k++) {
      const prefix = encodeSegments(episode.segments.slice(0, k), tok);
      assert.deepEqual(prefix, tokens.slice(0, prefix.length), `${JSON.stringify(episode)} prefix ${k}`);
    }
    // all segments: the full sequence less the </eod>
    assert.deepEqual(encodeSegments(episode.segments, tok), tokens.slice(0, episode.terminal ? -1 : undefined));
  }
  assert.deepEqual(encodeSegments([{ kind: "state", text: "<g>a" }], tok), [BOS, G, A, EOS]);
  const stateThenAction: Segment[] = [{ kind: "state", text: "<g>" }, { kind: "action", text: "b", reward: 1 }];
  assert.deepEqual(encodeSegments(stateThenAction, tok), [BOS, G, EOS, B, EOA]);
  // the empty dialogue starts with <a> (spec 1.2)
  assert.deepEqual(encodeSegments([], tok), [BOA]);
});

Deno.test("parseEpisodesJsonl() reads a header and episodes, skipping blank lines", () => {
  const text = [
    JSON.stringify({ header: { task: "demo", seed: 3 } }),
    JSON.stringify({ segments: [{ kind: "action", text: "ab", reward: -1 }], terminal: true }),
    "",
    JSON.stringify({
      segments: [{ kind: "state", text: "c" }, { kind: "action", text: "", reward: 0 }],
      terminal: false,
    }),
  ].join("\n");
  const file = parseEpisodesJsonl(text, "data.jsonl");
  assert.deepEqual(file.header, { task: "demo", seed: 3 });
  assert.equal(file.episodes.length, 2);
  assert.equal(file.episodes[1]!.terminal, false);
});

Deno.test("parseEpisodesJsonl() names the file and line of a bad line", () => {
  const ok = JSON.stringify({ segments: [{ kind: "action", text: "a", reward: 0 }], terminal: true });
  assert.throws(
    () => parseEpisodesJsonl(`${ok}\n{"segments": [`, "d.jsonl"),
    /^Error: d\.jsonl line 2: not valid JSON \(/,
  );
  assert.throws(
    () => parseEpisodesJsonl(`${ok}\n\n{"segments": [{"kind": "state", "text": "a"}], "terminal": true}`, "d.jsonl"),
    { message: "d.jsonl line 3: episode has no action segment" },
  );
  assert.throws(
    () => parseEpisodesJsonl(`${ok}\n{"header": {}}`, "d.jsonl"),
    { message: "d.jsonl line 2: a header is only allowed on the first line" },
  );
  assert.throws(
    () => parseEpisodesJsonl('{"segments": [{"kind": "action", "text": "a", "reward": "x"}], "terminal": true}', "d"),
    { message: "d line 1: segment 0 (action) reward must be a finite number, got x" },
  );
});
