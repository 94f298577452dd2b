/**
 * `deno task report [DIR]`: merges every run record in a results directory (all shards) into `table.md` and
 * `table.csv`.
 * @module
 */
import { runMain, UsageError } from "../ilql/cli.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { readRecords } from "./store.ts";
import { csvTable, groupResults, markdownTable } from "./table.ts";

/** Writes the report files of `dir`; returns their paths. */
export async function writeReport(dir: string): Promise<string[]> {
  const records = readRecords(dir);
  if (records.length === 0) throw new Error(`${dir}: no run records (run \`deno task bench --out ${dir}\` first)`);
  const groups = groupResults(records);
  const commits = [...new Set(records.map((r) => r.provenance.commit.slice(0, 10)))];
  const backends = [...new Set(records.map((r) => r.provenance.backend))];
  const wall = records.reduce((s, r) => s + r.provenance.wallSeconds, 0);
  const header = [
    `# Results: ${dir}`,
    "",
    `${records.length} runs (commit ${commits.join(", ")}; ${backends.join("; ")}; ${
      (wall / 60).toFixed(1)
    } run-minutes in all). Regenerate the runs with \`deno task bench\` (see each record's spec in records/), this`,
    "report with `deno task report " + dir + "`.",
    "",
    "",
  ].join("\n");
  const paths = [`${dir}/table.md`, `${dir}/table.csv`];
  await writeFileAtomic(paths[0]!, header + markdownTable(groups));
  await writeFileAtomic(paths[1]!, csvTable(groups));
  return paths;
}

async function main() {
  if (Deno.args.includes("--help")) {
    return console.log(
      "deno task report [DIR]\n\nWrites DIR/table.md and DIR/table.csv from DIR/records (default DIR: results/quick).",
    );
  }
  if (Deno.args.length > 1 || Deno.args[0]?.startsWith("--")) {
    throw new UsageError(`expected one directory, got ${Deno.args.join(" ")}`);
  }
  const written = await writeReport(Deno.args[0] ?? "results/quick");
  console.log(`wrote ${written.join(", ")}`);
}

if (import.meta.main) await runMain(main);
