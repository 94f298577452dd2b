import assert from "node:assert/strict";
import type { Episode } from "../../ilql/episode.ts";
import type { DialogueReward } from "./reward.ts";
import { cutoffTurn, loadVisDial, visDialEpisodes, type VisDialOptions } from "./visdial.ts";

const round = (question: string, answer: string) => ({ question, answer });
const progress = (p0: number, ...deltas: number[]) => [p0, ...deltas, ...Array(10 - deltas.length).fill(0)];

const DIALOGS = [
  {
    caption: " two dogs on a couch ",
    image_id: 42,
    dialog: [
      round("is it indoors", "yes"),
      round("are the dogs sleeping", "no, it is not"),
      round("what color is the couch", "brown"),
    ],
  },
  {
    caption: "a kitchen",
    dialog: [
      round("  how many animals  ", "two dogs"),
      round("is it big?", "i think so"),
      round("q3", "nothing"),
      round("q4", "Yes."),
      ...[5, 6, 7, 8, 9].map((i) => round(`q${i}`, "red")),
      round("q10", "no"),
      round("q11", "blue"),
    ],
  },
  { caption: "a cat", dialog: [round("is it a cat", "maybe"), round("what color", "black")] },
  { caption: "a street", dialog: [round("q1", "a man"), round("q2", "two"), round("q3", "I can't tell")] },
];
const PROGRESS = [
  progress(0.2, 0.1, 0.3, 0.1), // 0.4 / 0.8 = 0.5 after question 2
  progress(0.5, ...Array(10).fill(0.01)), // 0.1 / 0.5 never reaches 0.5: the 10-question limit ends it
  progress(1, 0.5), // already at the top rank: one question
  progress(0, 0.1, 0.1, 0.1, 0.9), // the dialog ends after 3 rounds, before the cut-off: its last question costs −1
];

/** Expected episode from the trimmed caption and (question as serialized, answer, reward) triples. */
function episode(caption: string, rounds: [string, string, number][]): Episode {
  return {
    segments: [
      { kind: "state", text: caption },
      ...rounds.flatMap(([q, a, reward]) => [
        { kind: "action" as const, text: q, reward },
        { kind: "state" as const, text: a },
      ]),
    ],
    terminal: true,
  };
}

/** Rewards of the four dialogues, by variant, computed by hand. */
const REWARDS: Record<DialogueReward, number[][]> = {
  standard: [[-1, 0], [-1, -1, -1, -1, -1, -1, -1, -1, -1, 0], [0], [-1, -1, -1]],
  yn: [[-3, 0], [-1, -1, -1, -3, -1, -1, -1, -1, -1, -2], [0], [-1, -1, -1]],
  conservative: [[-3, -2], [-1, -3, -3, -3, -1, -1, -1, -1, -1, -2], [-2], [-1, -1, -3]],
};

function expected(variant: DialogueReward): Episode[] {
  const [a, b, c, d] = REWARDS[variant];
  return [
    episode("two dogs on a couch", [
      ["is it indoors?", "yes", a![0]!],
      ["are the dogs sleeping?", "no, it is not", a![1]!],
    ]),
    episode("a kitchen", [
      ["how many animals?", "two dogs", b![0]!],
      ["is it big?", "i think so", b![1]!],
      ["q3?", "nothing", b![2]!],
      ["q4?", "Yes.", b![3]!],
      ...[5, 6, 7, 8, 9].map((i): [string, string, number] => [`q${i}?`, "red", b![i - 1]!]),
      ["q10?", "no", b![9]!],
    ]),
    episode("a cat", [["is it a cat?", "maybe", c![0]!]]),
    episode("a street", [["q1?", "a man", d![0]!], ["q2?", "two", d![1]!], ["q3?", "I can't tell", d![2]!]]),
  ];
}

Deno.test("cutoffTurn: progress threshold, p_0 = 1, turn limit and dialog length", () => {
  assert.equal(cutoffTurn(progress(0.2, 0.1, 0.3, 0.1), 10), 2);
  assert.equal(cutoffTurn(progress(0.2, 0.1, 0.3, 0.1), 10, 0.6), 3);
  assert.equal(cutoffTurn(progress(0.2, 0.5, -0.3, 0.1), 10), 1);
  assert.equal(cutoffTurn(progress(0.2, -0.1, 0.3, 0.3), 10), 3);
  assert.equal(cutoffTurn(progress(1, 0.5), 10), 1);
  assert.equal(cutoffTurn(progress(0.5, 0.01), 10), 10);
  assert.equal(cutoffTurn(progress(0.5, 0.01), 10, 0.5, 4), 4);
  assert.equal(cutoffTurn(progress(0.5, 0.01), 3), 3);
  assert.equal(cutoffTurn(progress(0.5, 0.01), 20), 10);
  assert.throws(() => cutoffTurn([0.5, 0.01], 10, 0.5, 4), RangeError);
});

Deno.test("VisDial files: hand-computed episodes for every reward variant", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/visdial_0.5_val.json`, JSON.stringify(DIALOGS));
    Deno.writeTextFileSync(`${dir}/val_rank_reward_cache1.json`, JSON.stringify(PROGRESS));
    for (const variant of ["standard", "yn", "conservative"] as const) {
      const episodes = loadVisDial(`${dir}/visdial_0.5_val.json`, `${dir}/val_rank_reward_cache1.json`, {
        reward: variant,
      });
      assert.deepEqual(episodes, expected(variant), variant);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("VisDial options: cutoff, maxTurns and hedges change the episodes", () => {
  const dialogs = JSON.stringify(DIALOGS), cache = JSON.stringify(PROGRESS);
  const turns = (options: VisDialOptions) =>
    visDialEpisodes(dialogs, cache, options).map((e) => e.segments.filter((s) => s.kind === "action").length);
  assert.deepEqual(turns({ reward: "standard" }), [2, 10, 1, 3]);
  assert.deepEqual(turns({ reward: "standard", cutoff: 0.6 }), [3, 10, 1, 3]);
  assert.deepEqual(turns({ reward: "standard", maxTurns: 2 }), [2, 2, 1, 2]);
  const short = visDialEpisodes(dialogs, cache, { reward: "standard", maxTurns: 2 })[1]!;
  assert.deepEqual(short.segments.map((s) => s.reward), [undefined, -1, undefined, 0, undefined]);
  const custom = visDialEpisodes(dialogs, cache, { reward: "conservative", hedges: ["RED"] })[1]!;
  const penalisedRed = [-1, -1, -1, -1, -3, -3, -3, -3, -3, 0];
  assert.deepEqual(custom.segments.filter((s) => s.kind === "action").map((s) => s.reward), penalisedRed);
});

Deno.test("malformed dialogue files: errors name the file, item and field", () => {
  const cache = (n: number) => JSON.stringify(Array(n).fill(progress(0)));
  const fails = (dialogs: string, message: string) =>
    assert.throws(() => visDialEpisodes(dialogs, cache(4), { reward: "standard" }, { dialogs: "d.json" }), {
      name: "Error",
      message,
    });
  const ok = { caption: "c", dialog: [round("q", "a")] };
  const withItem = (item: unknown, at = 1) => JSON.stringify([ok, ok, ok, ok].map((x, i) => i === at ? item : x));
  assert.throws(() => visDialEpisodes("[{oops", cache(1), { reward: "standard" }, { dialogs: "d.json" }), (e) => {
    assert.match((e as Error).message, /^d\.json: invalid JSON: [^\n]+$/);
    return true;
  });
  fails("{}", "d.json: expected a JSON list of dialogues");
  fails(withItem(3), "d.json: item 1: expected an object");
  fails(withItem({ dialog: [round("q", "a")] }), "d.json: item 1: caption must be a string");
  fails(withItem({ caption: "c", dialog: "q a" }), "d.json: item 1: dialog must be a list");
  fails(withItem({ caption: "c" }), "d.json: item 1: dialog must be a list");
  fails(withItem({ caption: "c", dialog: [] }), "d.json: item 1: dialog has no round");
  fails(withItem({ caption: "c", dialog: [round("q", "a"), null] }), "d.json: item 1: dialog[1] must be an object");
  fails(withItem({ caption: "c", dialog: [{ answer: "a" }] }), "d.json: item 1: dialog[0].question must be a string");
  fails(
    withItem({ caption: "c", dialog: [round("q", "a"), round("q", "a"), { question: "q", answer: 2 }] }, 3),
    "d.json: item 3: dialog[2].answer must be a string",
  );
  // the default name when none is given
  assert.throws(() => visDialEpisodes("{}", cache(1), { reward: "standard" }), {
    message: "dialogue file: expected a JSON list of dialogues",
  });
});

Deno.test("malformed progress caches and mismatched lengths: errors name the file and item", () => {
  const dialogs = JSON.stringify(DIALOGS.slice(0, 2));
  const names = { dialogs: "d.json", progress: "p.json" };
  const fails = (cache: string, message: string) =>
    assert.throws(() => visDialEpisodes(dialogs, cache, { reward: "yn" }, names), { name: "Error", message });
  const withEntry = (entry: unknown) => `[${JSON.stringify(progress(0))}, ${entry}]`;
  assert.throws(() => visDialEpisodes(dialogs, "[[0.1,", { reward: "yn" }, names), /^Error: p\.json: invalid JSON: /);
  fails(`{"0": []}`, "p.json: expected a JSON list of progress entries");
  fails(withEntry("0.5"), "p.json: item 1: progress must be a list of 11 numbers [p_0, Δp_1, …], got 0.5");
  fails(
    withEntry(JSON.stringify(progress(0).slice(1))),
    "p.json: item 1: progress must be a list of 11 numbers [p_0, Δp_1, …], got 10 values",
  );
  fails(
    withEntry(`[0, 0.1, "0.2", 0, 0, 0, 0, 0, 0, 0, 0]`),
    `p.json: item 1: progress[2] must be a finite number, got "0.2"`,
  );
  fails(
    withEntry(`[0, 0, 0, 1e400, 0, 0, 0, 0, 0, 0, 0]`),
    "p.json: item 1: progress[3] must be a finite number, got null",
  );
  fails(JSON.stringify([progress(0)]), "p.json: 1 entries, but d.json has 2 dialogues");
  fails(JSON.stringify(PROGRESS), "p.json: 4 entries, but d.json has 2 dialogues");
});

Deno.test("options out of range and unreadable files are errors", () => {
  const dialogs = JSON.stringify(DIALOGS), cache = JSON.stringify(PROGRESS);
  const fails = (options: VisDialOptions, message: string) =>
    assert.throws(() => visDialEpisodes(dialogs, cache, options), { message });
  fails({ reward: "standard", cutoff: 0 }, "VisDial options: cutoff must be in (0, 1], got 0");
  fails({ reward: "standard", cutoff: 1.5 }, "VisDial options: cutoff must be in (0, 1], got 1.5");
  fails({ reward: "standard", cutoff: NaN }, "VisDial options: cutoff must be in (0, 1], got NaN");
  fails({ reward: "standard", maxTurns: 0 }, "VisDial options: maxTurns must be an integer from 1 to 10, got 0");
  fails({ reward: "standard", maxTurns: 2.5 }, "VisDial options: maxTurns must be an integer from 1 to 10, got 2.5");
  fails({ reward: "standard", maxTurns: 11 }, "VisDial options: maxTurns must be an integer from 1 to 10, got 11");
  assert.deepEqual(visDialEpisodes(dialogs, cache, { reward: "standard", cutoff: 1 }).length, 4);
  assert.throws(
    () => loadVisDial("/nonexistent/visdial_0.5_val.json", "/nonexistent/c.json", { reward: "standard" }),
    /^Error: \/nonexistent\/visdial_0\.5_val\.json: cannot read the file \(/,
  );
});
