import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { habitDataset, lavaDataset, mixedDataset } from "./data.ts";
import { loadWordleDataset } from "./files.ts";
import { loadWordList, officialAllowed, WORD_LISTS } from "./words.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `deno task data wordle …` (tasks/data.ts) as a subprocess from the repository root. */
async function data(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "tasks/data.ts", "wordle", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("data wordle mixed: the same command and seed write an identical file with a header line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/a.jsonl`;
    const args = ["mixed", "--games", "20", "--seed", "3", "--out", out];
    const first = await data(...args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^wrote 20 episodes \\(mean return -?[\\d.]+\\) to ${out}\\n$`));
    const bytes = await Deno.readFile(out);
    const second = await data(...args);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await Deno.readFile(out), bytes, "byte-identical on a rerun");

    const lines = new TextDecoder().decode(bytes).trimEnd().split("\n");
    assert.equal(lines.length, 21);
    const { header } = JSON.parse(lines[0]!);
    assert.equal(header.task, "wordle");
    assert.equal(header.kind, "mixed");
    assert.equal(header.seed, 3);
    assert.equal(header.games, 20);
    assert.equal(header.smart, 0.5);
    assert.equal(header.rule, "official");
    assert.equal(header.episodes, 20);
    assert.equal(header.answers, WORD_LISTS.eval200);
    assert.equal(header.command, `deno task data wordle ${args.join(" ")}`);
    const loaded = loadWordleDataset(out);
    assert.equal(loaded.episodes.length, 20);
    const mean = loaded.episodes.reduce((s, e) => s + e.segments.reduce((t, x) => t + (x.reward ?? 0), 0), 0) / 20;
    assert.equal(header.mean_return, +mean.toFixed(4));

    // another seed, another file
    const other = await data("mixed", "--games", "20", "--seed", "4", "--out", out);
    assert.equal(other.code, 0, other.stderr);
    assert.notDeepEqual(await Deno.readFile(out), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle lava --iterations 3 writes expert, adversarial and suboptimal games", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/lava.jsonl`;
    const r = await data("lava", "--iterations", "3", "--seed", "1", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const { header, episodes } = loadWordleDataset(out);
    assert.equal(header?.kind, "lava");
    assert.equal(header?.iterations, 3);
    assert.equal(header?.episodes, episodes.length);
    const count = (kind: string) => episodes.filter((e) => e.meta.kind === kind).length;
    assert.equal(count("expert"), 3);
    assert.equal(count("suboptimal"), 15);
    const branched = episodes.filter((e) => e.meta.kind === "expert" && e.meta.branch).length;
    assert.equal(count("adversarial"), 5 * branched);
    assert.equal(episodes.length, 18 + 5 * branched);
    assert.equal(header?.branches, branched, "the header says how many branches the file holds");
    assert.equal((header?.openers as string[]).length, 28);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle tweets / human-json retrofit the input's games", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [G, Y, B] = ["\u{1F7E9}", "\u{1F7E8}", "\u2B1B"];
    await Deno.writeTextFile(
      `${dir}/tweets.csv`,
      `210,1,2,3,"Wordle 210 2/6\n${B}${Y}${B}${B}${B}\n${G}${G}${G}${G}${G}"\n211,1,2,3,no grid\n`,
    );
    const r = await data("tweets", "--input", `${dir}/tweets.csv`, "--seed", "2", "--out", `${dir}/t.jsonl`);
    assert.equal(r.code, 0, r.stderr);
    const tweets = loadWordleDataset(`${dir}/t.jsonl`);
    assert.equal(tweets.header?.dropped, 0);
    assert.equal(tweets.episodes.length, 1);
    assert.deepEqual(tweets.episodes[0]!.segments.map((s) => s.kind === "state" ? s.text : s.reward), [
      -1,
      "<b><y><b><b><b>",
      0,
      "<g><g><g><g><g>",
    ]);

    await Deno.writeTextFile(
      `${dir}/human.json`,
      JSON.stringify({ games: [["crane", ["<b><b><b><b><b>", "<g><g><g><g><g>"]]], transitions: {} }),
    );
    const h = await data("human-json", "--input", `${dir}/human.json`, "--out", `${dir}/h.jsonl`);
    assert.equal(h.code, 0, h.stderr);
    assert.equal(loadWordleDataset(`${dir}/h.jsonl`).episodes.length, 1);

    const missing = await data("tweets", "--out", `${dir}/x.jsonl`);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "error: tweets needs --input FILE\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle: usage errors exit with code 2 and one `error:` line on stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: Array<[string[], RegExp]> = [
      [["bogus", "--out", `${dir}/x.jsonl`], /unknown Wordle dataset 'bogus'/],
      [["mixed", "--bogus", "1", "--out", `${dir}/x.jsonl`], /--bogus/],
      [["mixed", "--games", "many", "--out", `${dir}/x.jsonl`], /--games must be an integer >= 1, got 'many'/],
      // a negative number is the flag's value (parseArgs alone calls it "ambiguous")
      [["mixed", "--games", "-3", "--out", `${dir}/x.jsonl`], /--games must be an integer >= 1, got '-3'/],
      [["mixed", "--rule", "strict", "--out", `${dir}/x.jsonl`], /--rule must be official or reference/],
      [["mixed", "--smart", "2", "--out", `${dir}/x.jsonl`], /--smart must be in \[0, 1\]/],
      [["habit", "--habit", "-0.5", "--out", `${dir}/x.jsonl`], /--habit must be in \[0, 1\], got '-0.5'/],
      [[], /which dataset\?/],
    ];
    for (const [args, message] of cases) {
      const r = await data(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^error: [^\n]*\n$/, args.join(" "));
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "");
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle eval-vocab reproduces the committed eval200.txt byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await data("eval-vocab", "--out", `${dir}/v.txt`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote 200 words to ${dir}/v.txt\n`);
    assert.deepEqual(await Deno.readFile(`${dir}/v.txt`), await Deno.readFile(WORD_LISTS.eval200));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle habit writes the wordle-habit task's games, its opener in the header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await data("habit", "--games", "40", "--seed", "2", "--out", `${dir}/h.jsonl`);
    assert.equal(r.code, 0, r.stderr);
    const { header, episodes } = loadWordleDataset(`${dir}/h.jsonl`);
    assert.deepEqual([header?.kind, header?.games, header?.habit, header?.opener], ["habit", 40, 0.6, "puppy"]);
    const source = { answers: loadWordList(WORD_LISTS.eval200), allowed: officialAllowed(), rule: "official" as const };
    assert.deepEqual(episodes, habitDataset(source, 40, new Prng(2)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data wordle mixed and lava write the library's datasets (lava on the reference's 2,315 answers)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vocabulary = loadWordList(WORD_LISTS.eval200);
    const allowed = officialAllowed();
    const mixed = await data("mixed", "--games", "30", "--out", `${dir}/m.jsonl`);
    assert.equal(mixed.code, 0, mixed.stderr);
    const expectedMixed = mixedDataset({ answers: vocabulary, allowed, rule: "official" }, 30, new Prng(0));
    assert.deepEqual(loadWordleDataset(`${dir}/m.jsonl`).episodes, expectedMixed);
    // lava defaults to the reference's 2,315 answers
    const lava = await data("lava", "--iterations", "4", "--out", `${dir}/l.jsonl`);
    assert.equal(lava.code, 0, lava.stderr);
    const file = loadWordleDataset(`${dir}/l.jsonl`);
    assert.equal(file.header?.answers, WORD_LISTS.answers);
    const source = { answers: loadWordList(WORD_LISTS.answers), allowed, rule: "official" as const };
    assert.deepEqual(file.episodes, lavaDataset(source, 4, new Prng(0)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
