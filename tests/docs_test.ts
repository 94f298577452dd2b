/**
 * The docs' commands and links: every `deno task …` line of a fenced `sh` block in README.md and docs/*.md runs with
 * `--dry-run` (the harness: every run planned and checked, nothing trained or written) or `--help` (the other
 * commands), and every relative link points at a file that exists. `deno task test` is what CI runs itself.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const PAGES = [
  "README.md",
  ...[...Deno.readDirSync(`${ROOT}docs`)].filter((e) => e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
]
  .sort();

/** `deno task` command lines of a page's `sh` blocks, without the `npx -y deno@…` prefix and trailing comments. */
function commands(page: string): string[][] {
  const out: string[][] = [];
  let inSh = false;
  for (const line of Deno.readTextFileSync(`${ROOT}${page}`).split("\n")) {
    if (line.startsWith("```")) {
      inSh = !inSh && line.trim() === "```sh";
      continue;
    }
    const command = line.replace(/\s+#.*$/, "").trim();
    if (!inSh || !/^(npx -y deno@[\d.]+ )?deno task /.test(command) && !command.startsWith("npx -y deno@")) continue;
    const words = command.split(/\s+/);
    out.push(words.slice(words.indexOf("task") + 1));
  }
  return out;
}

Deno.test("the docs are a README of at most 200 lines and one page per part", () => {
  const lines = Deno.readTextFileSync(`${ROOT}README.md`).split("\n").length;
  assert.ok(lines <= 200, `README.md has ${lines} lines`);
  for (const page of ["tasks", "algorithms", "harness", "backends", "data-formats", "extending"]) {
    assert.ok(PAGES.includes(`docs/${page}.md`), page);
  }
});

Deno.test("every fenced deno task command in the docs runs (--dry-run for the harness, --help for the rest)", async () => {
  const seen: string[] = [];
  for (const page of PAGES) {
    for (const [task, ...args] of commands(page)) {
      if (task === "test") continue; // CI runs exactly this command
      const extra = task === "bench" ? "--dry-run" : "--help";
      const full = [task!, ...args, ...(args.includes(extra) ? [] : [extra])];
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", ...full],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${page}: deno task ${full.join(" ")}\n${stderr}`);
      seen.push(`${page}: ${task}`);
    }
  }
  // the quick start's main job, the harness examples and the three bring-your-own commands at least
  assert.ok(seen.filter((s) => s.endsWith(": bench")).length >= 8, seen.join("\n"));
});

Deno.test("every relative link in the docs points at a file that exists", () => {
  for (const page of PAGES) {
    const text = Deno.readTextFileSync(`${ROOT}${page}`);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!) || target!.startsWith("#")) continue;
      const path = target!.split("#")[0]!;
      assert.ok(existsSync(`${ROOT}${dirname(page)}/${path}`), `${page}: link to ${target} (no such file)`);
    }
  }
});
