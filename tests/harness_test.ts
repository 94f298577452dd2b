/**
 * End-to-end tests of the benchmark harness (`deno task bench`) on the seconds-long `smoke` suite, in child
 * processes: resume, a run killed halfway, two shards at once, bad input.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ALGORITHMS } from "../eval/registry.ts";
import { openBlas, runsPinnedCore } from "../ilql/blas.ts";
import { PINNED_THREADS } from "../ilql/backend.ts";
import { readRecords } from "../eval/store.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const BENCH = new URL("../eval/bench.ts", import.meta.url).pathname;

/** The bench in a child process; `writable` scopes its write permission as the deno task does (default: anywhere). */
function bench(args: string[], env: Record<string, string> = {}, writable?: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    env,
    args: [
      "run",
      `--config=${CONFIG}`,
      "--allow-read",
      writable === undefined ? "--allow-write" : `--allow-write=${writable}`,
      "--allow-sys",
      "--allow-ffi",
      "--allow-env",
      "--allow-run",
      BENCH,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
}

async function runBench(
  args: string[],
  writable?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await bench(args, {}, writable).output();
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
  // by default one 1-thread job per core (every smoke run is a group of its own)
  const cores = Math.min(navigator.hardwareConcurrency || 1, N);
  if (cores > 1) assert.match(first.stdout, new RegExp(`^${cores} jobs, 1 thread\\(s\\) each$`, "m"));
  reference = outcome(referenceDir);
  assert.equal(Object.keys(reference.runs).length, N);
  assert.equal(reference.csv.length, 1 + Object.keys(ALGORITHMS).length); // header + one row per algorithm
  assert.match(Deno.readTextFileSync(`${referenceDir}/table.md`), /\| stitch \| bc \|/);
  // every record names the CPU it trained on, so steps/s are compared only on one
  for (const r of readRecords(referenceDir)) {
    assert.ok(r.provenance.machine!.cpu.length > 0 && r.provenance.machine!.cores >= 1, JSON.stringify(r.provenance));
  }
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
  // one process: a SIGKILL cannot reach the workers of --jobs (they would finish their runs on their own)
  const child = bench(["--suite", "smoke", "--out", dir, "--jobs", "1"]).spawn();
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
  const resumed = await runBench(["--suite", "smoke", "--out", dir, "--jobs", "1"]);
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

Deno.test("--jobs 2 runs the suite as two worker processes and gives the one-process results", async () => {
  assert.ok(reference !== null, "runs after the first test");
  const dir = await Deno.makeTempDir();
  try {
    // pinned kernels: one thread per job, whatever the core count, so the digits are the one-process digits
    const r = await runBench(["--suite", "smoke", "--out", dir, "--jobs", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^2 jobs, 1 thread\(s\) each$/m);
    assert.equal((r.stdout.match(/^shard \d\/2: /gm) ?? []).length, 2);
    assert.deepEqual(outcome(dir), reference);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
    [["--jobs", "0"], /^error: --jobs must be a positive integer, got '0'/],
    [["--jobs", "2", "--shard", "0/2"], /^error: --jobs splits the runs into shards itself; drop --shard/],
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

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? filesUnder(`${dir}/${e.name}`, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  ).sort();
}

Deno.test("runs that are meaningless or could only fail late stop the bench before training, with one line", async () => {
  const parent = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${parent}/file`, "");
    const one = ["--suite", "smoke", "--algos", "bc", "--seeds", "0"];
    const cases: Array<[string[], RegExp]> = [
      [["--set", "train.steps=0"], /^error: stitch\/bc seed 0: train\.steps is 0: the run would evaluate an untrained/],
      [
        ["--set", "train.batchSize=500"],
        /^error: stitch\/bc seed 0: train\.batchSize 500 is larger than the 200 training/,
      ],
      [["--set", "model.heads=3"], /^error: stitch\/bc seed 0: model\.heads 3 does not divide model\.width 32$/],
      [["--set", "model.context=4"], /^error: stitch\/bc seed 0: stitch dataset 0: .*exceeds the model context of 4$/],
      [["--out", `${parent}/file/out`], new RegExp(`^error: --out ${parent}/file/out: cannot write there \\(`)],
    ];
    for (const [args, message] of cases) {
      const r = await runBench([...one, "--out", `${parent}/out`, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.doesNotMatch(r.stdout, /training|backend:/, "failed before the backend started");
    }
    // an --out the command may not write to (the deno task may write under results/, runs/ and .cache/ only)
    const denied = await runBench([...one, "--out", `${parent}/elsewhere`], `${parent}/allowed`);
    assert.equal(denied.code, 2, denied.stderr);
    assert.match(
      denied.stderr.trim(),
      new RegExp(`^error: --out ${parent}/elsewhere: outside this command's write permission \\(.*\\)$`),
    );
    assert.deepEqual(filesUnder(parent), ["file"], "nothing written: no record, no checkpoint, no report");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a results directory never mixes configs: refused without --allow-mixed, separate rows with it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const one = ["--suite", "smoke", "--algos", "bc", "--seeds", "0,1", "--out", dir];
    const first = await runBench([...one, "--set", "train.steps=10"]);
    assert.equal(first.code, 0, first.stderr);
    const before = filesUnder(`${dir}/records`);
    const refused = await runBench(one);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(
      refused.stderr.trim(),
      `error: ${dir} already holds stitch/bc runs of another config (train.steps 10 there, 30 here): use another ` +
        "--out, or --allow-mixed to keep both as separate rows",
    );
    assert.deepEqual(filesUnder(`${dir}/records`), before, "no run was added");
    const mixed = await runBench([...one, "--allow-mixed"]);
    assert.equal(mixed.code, 0, mixed.stderr);
    const rows = Deno.readTextFileSync(`${dir}/table.csv`).trim().split("\n").slice(1).map((l) => l.split(","));
    // one row per config, each named by the key it differs in, each holding its own two seeds
    assert.deepEqual(rows.map((r) => [r[1], r[2], r[4]]), [["bc", "train.steps=10", "0 1"], [
      "bc",
      "train.steps=30",
      "0 1",
    ]]);
    assert.notEqual(rows[0]![3], rows[1]![3], "different config hashes");
    assert.match(
      Deno.readTextFileSync(`${dir}/table.md`),
      /4 runs .* in 2 rows; every row holds the seeds of one resolved config/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt record is named with what to do; --dry-run lists it; --skip-corrupt redoes its run and keeps it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const one = ["--suite", "smoke", "--algos", "bc", "--seeds", "0", "--out", dir];
    assert.equal((await runBench(one)).code, 0);
    const [name] = filesUnder(`${dir}/records`);
    const path = `${dir}/records/${name}`;
    const good = JSON.parse(Deno.readTextFileSync(path));
    const broken = Deno.readTextFileSync(path).slice(0, 100);
    Deno.writeTextFileSync(path, broken);
    const advice = "a corrupt run record; move it aside (its run is then redone) or pass --skip-corrupt to leave it out"
      .replace(/[()]/g, "\\$&");
    const stopped = await runBench(one);
    assert.equal(stopped.code, 2, stopped.stderr);
    assert.match(stopped.stderr.trim(), new RegExp(`^error: ${path}: not valid JSON \\(.*\\): ${advice}$`));
    const report = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--config=${CONFIG}`, "-A", new URL("../eval/report.ts", import.meta.url).pathname, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(report.code, 2);
    assert.match(
      new TextDecoder().decode(report.stderr).trim(),
      new RegExp(`^error: ${path}: not valid JSON .*${advice}$`),
    );
    const dry = await runBench([...one, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`${good.spec.id}  stitch/bc seed 0  \\(corrupt record: not valid JSON`));
    assert.equal(Deno.readTextFileSync(path), broken, "--dry-run changes nothing");
    const redo = await runBench([...one, "--skip-corrupt"]);
    assert.equal(redo.code, 0, redo.stderr);
    assert.equal(Deno.readTextFileSync(`${path}.corrupt`), broken, "the corrupt file is kept");
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(path)).eval.returns, good.eval.returns, "the run was redone");
    // a stray bad file left out of the report, which says so
    Deno.writeTextFileSync(`${dir}/records/stray.json`, "{}");
    assert.equal((await runBench(one)).code, 2);
    const skipped = await runBench([...one, "--skip-corrupt"]);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(Deno.readTextFileSync(`${dir}/table.md`), /1 corrupt record file\(s\) left out \(--skip-corrupt\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "pinned kernels: two OpenBLAS kernel settings that differ natively give identical records",
  // needs OpenBLAS and a CPU that runs the pinned (AVX2) kernels, as CI's machines do
  ignore: openBlas(1).blas === null || !runsPinnedCore(),
  fn: async () => {
    const parent = await Deno.makeTempDir();
    try {
      // OPENBLAS_CORETYPE stands in for two machines whose OpenBLAS picks different kernels
      const result = async (core: string, kernels: string) => {
        const dir = `${parent}/${core}-${kernels}`;
        const args = ["--suite", "smoke", "--algos", "bc,ilql", "--seeds", "0", "--out", dir, "--no-report"];
        const out = await bench([...args, "--kernels", kernels], { OPENBLAS_CORETYPE: core }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        const records = readRecords(dir);
        return {
          runs: records.map((r) => ({ returns: r.eval.returns, losses: r.history.map((h) => h.info) })),
          numerics: records.map((r) => r.provenance.numerics),
        };
      };
      const sandyNative = await result("Sandybridge", "native"), sandyPinned = await result("Sandybridge", "pinned");
      const nehalemNative = await result("Nehalem", "native"), nehalemPinned = await result("Nehalem", "pinned");
      assert.notDeepEqual(sandyNative.runs, nehalemNative.runs, "the two kernel settings change the digits natively");
      assert.deepEqual(sandyPinned.runs, nehalemPinned.runs, "pinned, they give the same digits");
      for (const n of [...sandyPinned.numerics, ...nehalemPinned.numerics]) {
        assert.equal(n?.pinned, true);
        assert.equal(n?.blas?.core, "Haswell");
        assert.equal(n?.blas?.threads, PINNED_THREADS);
      }
      assert.equal(sandyNative.numerics[0]?.pinned, false);
      assert.equal(sandyNative.numerics[0]?.blas?.core, "Sandybridge");
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test("two shards that need one shared start at once: one trains it, both fine-tune from it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = [
      "--suite",
      "smoke",
      "--algos",
      "bc,ilql",
      "--seeds",
      "0",
      "--out",
      `${dir}/out`,
      "--starts",
      `${dir}/starts`,
      "--no-report",
      "--set",
      "start.steps=40",
      "--set",
      "train.evalEvery=10",
      "--set",
      "train.validationEpisodes=2",
    ];
    const shards = await Promise.all([0, 1].map((i) => runBench([...args, "--shard", `${i}/2`])));
    for (const s of shards) assert.equal(s.code, 0, s.stderr);
    const trainedIt = shards.filter((s) => /shared start: validation return/.test(s.stdout));
    assert.equal(trainedIt.length, 1, "exactly one process trained the start");
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/starts`)].map((e) => e.name).filter((n) =>
        !/^[0-9a-f]{16}\.(safetensors|weights\.sha256)$/.test(n)
      ),
      [],
      "no lock and no half-written start left",
    );
    const records = readRecords(`${dir}/out`);
    assert.equal(records.length, 2);
    const [a, b] = records.map((r) => r.start!);
    assert.equal(a!.id, b!.id);
    assert.deepEqual(a!.curve, b!.curve);
    assert.deepEqual(a!.curve.map((p) => p.step), [0, 10, 20, 30, 40]);
    for (const r of records) assert.deepEqual(r.curve!.map((p) => p.step), [0, 10, 20, 30]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a user's task and algorithm modules run through the bench end to end, in worker processes too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const examples = new URL("../examples/", import.meta.url).pathname;
    const args = [
      "--task-module",
      `${examples}reverse_task.ts`,
      "--algo-module",
      `${examples}median_bc.ts`,
      "--algos",
      "bc,median-bc",
      "--seeds",
      "0",
      "--out",
      dir,
      "--jobs",
      "2",
    ];
    const r = await runBench(args);
    assert.equal(r.code, 0, r.stderr);
    const records = readRecords(dir);
    const returns = Object.fromEntries(records.map((rec) => [`${rec.spec.task}/${rec.spec.algorithm}`, rec.eval.mean]));
    assert.deepEqual(Object.keys(returns).sort(), ["reverse/bc", "reverse/median-bc"]);
    // the data reverses 30 % of the words: cloning the better half says every word backwards, cloning all repeats it
    assert.equal(returns["reverse/median-bc"], 3);
    assert.ok(returns["reverse/bc"]! < 2, String(returns["reverse/bc"]));
    assert.match(Deno.readTextFileSync(`${dir}/table.md`), /\| median-bc \| \*\*3\.00/);
    // a module that is not there: one line, exit 2, nothing written
    const bad = await runBench(["--task-module", `${dir}/missing.ts`, "--out", `${dir}/none`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), new RegExp(`^error: ${dir}/missing.ts: cannot load the module: [^\\n]*$`));
    assert.ok(!existsSync(`${dir}/none`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a user's episode file trains every algorithm asked for: scored by play with its environment, else by held-out likelihood", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const played = new URL("../examples/reverse.jsonl", import.meta.url).pathname;
    // the same episodes without the header: no environment, so held-out likelihood
    const bare = `${dir}/bare.jsonl`;
    Deno.writeTextFileSync(bare, Deno.readTextFileSync(played).split("\n").slice(1).join("\n"));
    const out = `${dir}/out`;
    const r = await runBench([
      "--tasks",
      `file:${played},file:${bare}`,
      "--algos",
      "bc,filtered-bc,ilql",
      "--seeds",
      "0",
      "--set",
      "train.steps=400",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const records = readRecords(out);
    assert.equal(records.length, 6);
    const of = (task: string, algorithm: string) =>
      records.find((rec) => rec.spec.task === `file:${task}` && rec.spec.algorithm === algorithm)!;
    // by play: cloning the best episodes says the words backwards, cloning all mostly repeats them
    assert.ok(of(played, "filtered-bc").eval.mean > 2.5 && of(played, "bc").eval.mean < 2.2);
    // held out: the return column is the mean log-probability per action token; value methods add calibration
    for (const a of ["bc", "filtered-bc", "ilql"]) {
      const rec = of(bare, a);
      assert.ok(rec.eval.mean < 0 && rec.eval.mean > -Math.log(10), `${a}: ${rec.eval.mean}`);
      assert.ok(Math.abs(rec.eval.metrics.heldout_nll! + rec.eval.mean) < 0.2);
    }
    assert.ok(of(bare, "bc").eval.metrics.heldout_nll! < of(bare, "filtered-bc").eval.metrics.heldout_nll!);
    assert.ok(
      of(bare, "ilql").eval.metrics.value_spearman! > 0.3,
      String(of(bare, "ilql").eval.metrics.value_spearman),
    );
    assert.equal(of(bare, "bc").eval.metrics.value_spearman, undefined);
    // the same episodes, another file identity (the header changed the bytes): another run id
    assert.notEqual(of(played, "bc").spec.id, of(bare, "bc").spec.id);
    // a bad line: one line naming file and line, exit 2, nothing written
    Deno.writeTextFileSync(bare, `${Deno.readTextFileSync(bare)}\n{"segments": 3, "terminal": true}\n`);
    const bad = await runBench(["--tasks", `file:${bare}`, "--out", `${dir}/none`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), new RegExp(`^error: ${bare} line 402: episode needs a 'segments' list$`));
    assert.ok(!existsSync(`${dir}/none`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--set model.init=DIR fine-tunes from a GPT-2 folder; a model shape it does not fit stops the bench first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { writeTinyGpt2, writeTinyGpt2Vocab } = await import("./fixtures/gpt2_tiny.ts");
    const gpt2 = `${dir}/gpt2`;
    writeTinyGpt2(gpt2);
    writeTinyGpt2Vocab(gpt2);
    const data = new URL("../examples/reverse.jsonl", import.meta.url).pathname;
    const shape = ["--set", "model.width=16", "--set", "model.layers=2", "--set", "model.heads=2"];
    const args = ["--tasks", `file:${data}`, "--algos", "bc", "--seeds", "0", "--set", "train.steps=50", ...shape];
    const r = await runBench([...args, "--set", `model.init=${gpt2}`, "--out", `${dir}/out`, "--keep-checkpoints"]);
    assert.equal(r.code, 0, r.stderr);
    const [record] = readRecords(`${dir}/out`);
    assert.equal(record!.spec.config.model.init, gpt2);
    assert.ok(record!.eval.mean >= 0 && record!.eval.mean <= 3);
    // the trained policy back as a GPT-2 folder, with the run's own (character) tokenizer beside it
    const checkpoint = `${dir}/out/runs/${record!.spec.id}/checkpoint.safetensors`;
    const exported = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "export:gpt2", checkpoint, `${dir}/export`],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(exported.code, 0, new TextDecoder().decode(exported.stderr));
    const { readGpt2 } = await import("../ilql/gpt2.ts");
    const back = readGpt2(`${dir}/export`);
    assert.equal(back.config.width, 16);
    assert.ok(existsSync(`${dir}/export/ilql_tokenizer.json`));
    const bad = await runBench([...args.slice(0, -6), "--set", `model.init=${gpt2}`, "--out", `${dir}/bad`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), new RegExp(`model.init ${gpt2} has width 16: set model.width=16 \\(it is 64\\)$`));
    assert.ok(!existsSync(`${dir}/bad`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
