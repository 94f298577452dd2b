import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020";
import { type Episode, parseEpisodesJsonl } from "../ilql/episode.ts";
import type { ModelScorer } from "../tasks/task.ts";
import { fileTask, fileTaskHeader, heldOutScores, isHeldOut } from "./file_task.ts";
import { spearman } from "./stats.ts";
import { task as reverseTask } from "../examples/reverse_task.ts";
import { CharTokenizer } from "../ilql/tokenizer.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function file(text: string): Promise<string> {
  const path = `${await Deno.makeTempDir()}/episodes.jsonl`;
  await Deno.writeTextFile(path, text);
  return path;
}

const episode = (word: string, reply: string, reward: number) =>
  JSON.stringify({
    segments: [{ kind: "state", text: word }, { kind: "action", text: reply, reward }],
    terminal: true,
  });

Deno.test("docs/episode.schema.json accepts exactly the lines the parser accepts", () => {
  const schema = JSON.parse(Deno.readTextFileSync(`${ROOT}docs/episode.schema.json`));
  // deno-lint-ignore no-explicit-any
  const validate = new (Ajv2020 as any)({ strict: false }).compile(schema);
  const lines: Array<[string, boolean]> = [
    [episode("ab", "ba", 1), true],
    ['{"segments":[{"kind":"action","text":"x","reward":0}],"terminal":false,"meta":{"who":"me"}}', true],
    ['{"header":{"tokenizer":"gpt2","heldOut":0.2,"environment":"env.ts","maxTurns":3}}', true],
    ['{"segments":[{"kind":"state","text":"x"}],"terminal":true}', false], // no action
    ['{"segments":[{"kind":"action","text":"x"}],"terminal":true}', false], // action without reward
    [
      '{"segments":[{"kind":"state","text":"x","reward":1},{"kind":"action","text":"y","reward":0}],"terminal":true}',
      false,
    ],
    ['{"segments":[{"kind":"action","text":"x","reward":"1"}],"terminal":true}', false],
    ['{"segments":[{"kind":"speech","text":"x","reward":1}],"terminal":true}', false],
    ['{"segments":[{"kind":"action","text":"x","reward":1}]}', false], // no terminal
  ];
  for (const [line, ok] of lines) {
    assert.equal(validate(JSON.parse(line)), ok, `schema on ${line}`);
    const parses = (() => {
      try {
        parseEpisodesJsonl(`${line}\n${episode("a", "a", 0)}`, "f");
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(parses, ok, `parser on ${line}`);
  }
  // a header the parser reads is one fileTaskHeader takes; unknown header keys are refused by both
  assert.equal(validate({ header: { colour: "red" } }), false);
  assert.throws(
    () => fileTaskHeader({ colour: "red" }, "f.jsonl"),
    /^UsageError: f.jsonl line 1 \(header\): unknown key 'colour'/,
  );
});

Deno.test("a file task holds out every k-th episode, names its content hash, and picks the tokenizer its header asks for", async () => {
  assert.deepEqual([...Array(20).keys()].filter((i) => isHeldOut(i, 0.1)), [9, 19]);
  assert.deepEqual([...Array(6).keys()].filter((i) => isHeldOut(i, 0.5)), [1, 3, 5]);
  const lines = Array.from({ length: 20 }, (_, i) => episode("abc", i % 2 ? "cba" : "abc", i % 2 ? 3 : 1));
  const a = await fileTask(await file(lines.join("\n")));
  assert.equal(a.train.length, 18);
  assert.equal(a.heldOut.length, 2);
  assert.equal(a.task.tokenizer.vocabSize, 6 + 3); // the specials and a, b, c
  assert.match(a.task.dataVersion!, /^sha256:[0-9a-f]{16}$/);
  assert.deepEqual(a.task.anchors(), { floor: -Math.log(9), ceiling: 0 });
  assert.equal(a.task.defaults.model!.context, 10);
  // one changed reward: another identity
  const b = await fileTask(await file([...lines.slice(0, 19), episode("abc", "abc", 2)].join("\n")));
  assert.notEqual(b.task.dataVersion, a.task.dataVersion);
  const gpt2 = await fileTask(await file(['{"header":{"tokenizer":"gpt2"}}', ...lines].join("\n")));
  // the BPE pieces of the file's texts, no more: "cba" is one piece, a space is not one the file has
  assert.equal(gpt2.task.tokenizer.decode(gpt2.task.tokenizer.encode("cbaabc")), "cbaabc");
  assert.ok(gpt2.task.tokenizer.vocabSize < 20, String(gpt2.task.tokenizer.vocabSize));
  assert.throws(() => a.task.dataset(19, 0), /--dataset-size 19 is more than its 18 training episodes/);
});

Deno.test("bad files name the file and line, before anything is trained", async () => {
  const good = episode("ab", "ba", 1);
  const cases: Array<[string, RegExp]> = [
    [`${good}\n{"segments": [}`, /episodes\.jsonl line 2: not valid JSON/],
    [
      `${good}\n${good}\n{"segments":[{"kind":"action","text":"x"}],"terminal":true}`,
      /line 3: segment 0 \(action\) reward/,
    ],
    [`{"header":{"tokenizer":"words"}}\n${good}`, /line 1 \(header\): 'tokenizer' must be "char" or "gpt2"/],
    [
      `{"header":{"environment":"missing.ts"}}\n${Array(10).fill(good).join("\n")}`,
      /line 1 \(header\): cannot load environment/,
    ],
    [`${good}\n${good}`, /2 episode\(s\) leave too few to train on and hold out/],
    ["", /the file holds no episode/],
  ];
  for (const [text, message] of cases) {
    const path = await file(text);
    await assert.rejects(fileTask(path), (e: Error) => {
      assert.ok(e.message.startsWith(path), e.message);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  await assert.rejects(fileTask("/nonexistent.jsonl"), /^UsageError: \/nonexistent.jsonl: cannot read the file/);
});

Deno.test("held-out scores: mean log-probability per action token, and V against the discounted return that followed", () => {
  const tokenizer = new CharTokenizer({ alphabet: "ab" });
  const episodes: Episode[] = [
    {
      segments: [
        { kind: "state", text: "a" },
        { kind: "action", text: "b", reward: 1 },
        { kind: "state", text: "a" },
        { kind: "action", text: "ab", reward: 2 },
      ],
      terminal: true,
    },
    { segments: [{ kind: "action", text: "a", reward: -1 }], terminal: true },
  ];
  const scorer: ModelScorer = {
    // every token log-probability −0.5, so per-episode means are −0.5
    logProbs: (items) =>
      items.map((i) => {
        const n = i.utterance.length + 1;
        return { logProb: -0.5 * n, tokens: n, tokenLogProbs: Array(n).fill(-0.5) };
      }),
    values: (items) => items.map((_, j) => ({ v: [[1, 2, -1][j]!], q: [], qBar: [] })),
    gamma: 0.5,
  };
  const { perEpisode, metrics } = heldOutScores(episodes, scorer, tokenizer);
  assert.deepEqual(perEpisode, [-0.5, -0.5]);
  assert.equal(metrics.heldout_nll, 0.5);
  // returns to go: 1 + 0.5² · 2 = 1.5 (the utterance "b" is 2 tokens), 2, −1
  assert.equal(metrics.value_mae, (0.5 + 0 + 0) / 3);
  assert.equal(metrics.value_spearman, 1);
  assert.equal(heldOutScores(episodes, { ...scorer, values: null }, tokenizer).metrics.value_spearman, undefined);
  assert.equal(spearman([1, 2, 3, 4], [10, 30, 20, 40]), 0.8);
  assert.ok(Math.abs(spearman([1, 1, 2], [1, 2, 3]) - Math.sqrt(3) / 2) < 1e-12);
});

Deno.test("examples/reverse.jsonl is the reverse example's data (400 games, seed 0) under its header", () => {
  const text = Deno.readTextFileSync(`${ROOT}examples/reverse.jsonl`);
  const parsed = parseEpisodesJsonl(text, "examples/reverse.jsonl");
  assert.deepEqual(parsed.header, { tokenizer: "char", environment: "reverse_task.ts", floor: 0, ceiling: 3 });
  assert.deepEqual(parsed.episodes, reverseTask.dataset(400, 0));
});
