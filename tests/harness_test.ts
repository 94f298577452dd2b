/**
 * End-to-end tests of the benchmark harness (`deno task bench`) on the seconds-long `smoke` suite, in child
 * processes: resume, a run killed halfway, two shards at once, bad input.
 */
import assert from "node:assert/strict";
import { ALGORITHMS } from "../eval/registry.ts";
import { readRecords } from "../eval/store.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const BENCH = new URL("../eval/bench.ts", import.meta.url).pathname;

function bench(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${CONFIG}`,
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      "--allow-ffi",
      "--allow-env",
      BENCH,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
}

async function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await bench(args).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

/** What must not depend on how the suite was run: each run's evaluation and training losses, and the table. */
function outcome(dir: string) {
  const runs = Object.fromEntries(
    readRecords(dir).map((r) => [r.spec.id, { returns: r.eval.returns, losses: r.history.map((h) => h.info) }]),
  );
  const csv = Deno.readTextFileSync(`${dir}/table.csv`).trim().split("\n")
    .map((line) => line.split(",").slice(0, -1).join(",")); // without steps_per_s (a timing)
  return { runs, csv };
}

/** Runs of the smoke suite. */
const N = expandSuite(SUITES.smoke!).length;

let reference: ReturnType<typeof outcome> | null = null;
let referenceDir = "";

Deno.test("bench runs the smoke suite, writes records and tables, and a rerun skips every finished run", async () => {
  referenceDir = await Deno.makeTempDir();
  const first = await runBench(["--suite", "smoke", "--out", referenceDir]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`${N} of ${N} runs, 0 already done`));
  reference = outcome(referenceDir);
  assert.equal(Object.keys(reference.runs).length, N);
  assert.equal(reference.csv.length, 1 + Object.keys(ALGORITHMS).length); // header + one row per algorithm
  assert.match(Deno.readTextFileSync(`${referenceDir}/table.md`), /\| stitch \| bc \|/);
  const stamp = (name: string) => Deno.statSync(`${referenceDir}/records/${name}`).mtime!.getTime();
  const names = [...Deno.readDirSync(`${referenceDir}/records`)].map((e) => e.name);
  const before = names.map(stamp);
  const again = await runBench(["--suite", "smoke", "--out", referenceDir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`${N} of ${N} runs, ${N} already done`));
  assert.doesNotMatch(again.stdout, /: training$/m);
  assert.deepEqual(names.map(stamp), before);
});

Deno.test("a bench killed halfway is redone by the next run and ends with the uninterrupted run's results", async () => {
  assert.ok(reference !== null, "runs after the first test");
  const dir = await Deno.makeTempDir();
  const child = bench(["--suite", "smoke", "--out", dir]).spawn();
  // kill it as soon as the first run is recorded (the second is then training)
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const count = (() => {
      try {
        return [...Deno.readDirSync(`${dir}/records`)].filter((e) => e.name.endsWith(".json")).length;
      } catch {
        return 0;
      }
    })();
    if (count >= 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
  const status = await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  assert.equal(status.success, false, "the child was killed before it finished");
  const left = readRecords(dir).length; // every record left behind parses
  assert.ok(left >= 1 && left < N, `records after the kill: ${left}`);
  const resumed = await runBench(["--suite", "smoke", "--out", dir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`${N} of ${N} runs, ${left} already done`));
  assert.deepEqual(outcome(dir), reference);
});

Deno.test("two shards running at once into one directory give the one-process results", async () => {
  assert.ok(reference !== null, "runs after the first test");
  const dir = await Deno.makeTempDir();
  const shards = await Promise.all(
    [0, 1].map((i) => runBench(["--suite", "smoke", "--out", dir, "--shard", `${i}/2`])),
  );
  for (const s of shards) {
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`^shard \\d/2: ${N / 2} of ${N} runs`));
  }
  // the last shard to finish may have reported before the other's records existed: report again
  const report = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${CONFIG}`,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      new URL("../eval/report.ts", import.meta.url).pathname,
      dir,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(report.code, 0, new TextDecoder().decode(report.stderr));
  assert.deepEqual(outcome(dir), reference);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(referenceDir, { recursive: true });
});

Deno.test("bad bench input gives one line, exit code 2, and writes nothing", async () => {
  const parent = await Deno.makeTempDir();
  const dir = `${parent}/out`;
  const cases: Array<[string[], RegExp]> = [
    [["--algos", "dqn"], /^error: unknown algorithm 'dqn' \(registered: bc, filtered-bc, ilql/],
    [["--tasks", "chess"], /^error: unknown task 'chess'/],
    [["--set", "ilql.expectiles=0.9"], /^error: .*ilql\.expectiles/],
    [["--set", "ilql.expectile=high"], /^error: .*ilql\.expectile/],
    [["--sweep", "decode.beta=1,,2"], /^error: --sweep decode\.beta: empty value/],
    [["--sweep", "decode.beta"], /^error: --sweep expects section\.key=v1,v2/],
    [["--shard", "2/2"], /^error: --shard expects i\/n/],
    [["--suite", "huge"], /^error: unknown suite 'huge'/],
    [["--frobnicate"], /^error: Unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = await runBench(["--suite", "smoke", "--out", dir, ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trim(), message);
  }
  assert.deepEqual([...Deno.readDirSync(parent)], [], "nothing written");
  await Deno.remove(parent, { recursive: true });
});
