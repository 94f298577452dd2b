import assert from "node:assert/strict";
import { gitCommit, machinesOf, type RunRecord } from "./store.ts";

Deno.test("gitCommit() reads a clone's and a worktree's checked-out commit without git, and says unknown elsewhere", () => {
  const root = Deno.makeTempDirSync();
  try {
    const write = (path: string, text: string) => {
      Deno.mkdirSync(`${root}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
      Deno.writeTextFileSync(`${root}/${path}`, text);
    };
    const [a, b, c] = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
    write("main/.git/HEAD", "ref: refs/heads/main\n");
    write("main/.git/refs/heads/main", `${a}\n`);
    write("main/.git/packed-refs", `# pack-refs with: peeled\n${b} refs/heads/other\n`);
    write("main/.git/worktrees/w/HEAD", "ref: refs/heads/other\n");
    write("main/.git/worktrees/w/commondir", "../..\n");
    write("main/.git/worktrees/d/HEAD", `${c}\n`);
    write("w/.git", `gitdir: ${root}/main/.git/worktrees/w\n`);
    write("d/.git", `gitdir: ${root}/main/.git/worktrees/d\n`);
    assert.equal(gitCommit(`${root}/main`), a, "a branch of a clone");
    assert.equal(gitCommit(`${root}/w`), b, "a worktree on a branch packed in the main git directory");
    assert.equal(gitCommit(`${root}/d`), c, "a detached worktree");
    assert.equal(gitCommit(`${root}/nowhere`), "unknown");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("machinesOf() counts records per CPU and names records made before the CPU was recorded", () => {
  const rec = (machine?: { cpu: string; cores: number }) => ({ provenance: { machine } }) as unknown as RunRecord;
  const epyc = { cpu: "AMD EPYC", cores: 2 };
  assert.equal(
    machinesOf([rec(epyc), rec(), rec(epyc), rec({ cpu: "Intel Xeon", cores: 8 })]),
    "AMD EPYC, 2 cores: 2 runs; not recorded: 1 run; Intel Xeon, 8 cores: 1 run",
  );
});
