/**
 * `deno task report [DIR]`: merges every run record in a results directory (all shards) into `table.md`,
 * `table.csv`, PNG figures (`figures/`) and one self-contained `report.html` (chart.js inlined, no network).
 * @module
 */
import { createRequire } from "node:module";
import { parseCommandLine, runMain, UsageError } from "../ilql/cli.ts";
import { writeFileAtomic } from "../ilql/safetensors.ts";
import { type ChartSpec, chartSpecs, renderPng } from "./plots.ts";
import { CorruptRecordError, machinesOf, type RunRecord, scanRecords } from "./store.ts";
import { csvTable, type Grid, groupResults, headlineGrids, markdownTable, type ResultGroup } from "./table.ts";

function provenance(
  dir: string,
  records: readonly RunRecord[],
  groups: readonly ResultGroup[],
  skipped: number,
): string {
  const commits = [...new Set(records.map((r) => r.provenance.commit.slice(0, 10)))];
  const backends = [...new Set(records.map((r) => r.provenance.backend))];
  const wall = records.reduce((s, r) => s + r.provenance.wallSeconds, 0);
  const families = new Set(groups.map((g) => JSON.stringify([g.task, g.algorithm, g.sweep])));
  const mixed = groups.length - families.size;
  return `${records.length} runs (commit ${commits.join(", ")}; ${backends.join("; ")}; CPU ${machinesOf(records)}; ${
    (wall / 60).toFixed(1)
  } run-minutes in all) in ${groups.length} rows; every row holds the seeds of one resolved config${
    mixed > 0
      ? ` (${mixed} row(s) share a task, algorithm and setting with another row and name the keys they differ in)`
      : ""
  }${
    skipped > 0 ? `; ${skipped} corrupt record file(s) left out (--skip-corrupt)` : ""
  }. Regenerate the runs with \`deno task bench\` (each record in records/ holds its spec), this ` +
    `report with \`deno task report ${dir}\`.`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function htmlGrid({ tasks, rows }: Grid): string {
  const head = `<tr><th>algorithm</th>${tasks.map((t) => `<th>${escapeHtml(t)}</th>`).join("")}</tr>`;
  const body = rows.map((r) =>
    `<tr><td>${escapeHtml(r.name)}</td>${
      r.cells.map((c) => `<td>${c === null ? "" : c.best ? `<b>${escapeHtml(c.text)}</b>` : escapeHtml(c.text)}</td>`)
        .join("")
    }</tr>`
  ).join("\n");
  return `<table>\n${head}\n${body}\n</table>`;
}

/** The chart.js UMD build, to inline. */
function chartJsSource(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return Deno.readTextFileSync(main.replace(/chart\.c?js$/, "chart.umd.min.js"));
}

/**
 * A self-contained HTML report: the tables and interactive charts (chart.js inlined). After drawing, the page marks
 * each canvas with the number of painted pixels (`data-painted`) and the body with the chart count (`data-charts`)
 * and the number of resources it loaded (`data-resources`, 0: everything is inline), which the browser test reads.
 */
export function reportHtml(
  dir: string,
  records: readonly RunRecord[],
  groups: readonly ResultGroup[],
  specs: ChartSpec[],
  skipped = 0,
): string {
  const script = (code: string) => `<script>${code.replace(/<\/script/gi, "<\\/script")}</script>`;
  const grids = headlineGrids(groups).map(({ caption, grid }) => `<p>${escapeHtml(caption)}</p>\n${htmlGrid(grid)}`);
  const canvases = specs.map((s) => `<figure><canvas id="${s.name}" width="800" height="450"></canvas></figure>`);
  const draw = `
const specs = ${JSON.stringify(specs)};
Chart.defaults.plugins.legend.labels.filter = (item) => item.text !== "";
for (const s of specs) {
  const canvas = document.getElementById(s.name);
  new Chart(canvas, s.config);
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  canvas.dataset.painted = String(painted);
}
document.body.dataset.charts = String(Object.keys(Chart.instances).length);
document.body.dataset.resources = String(performance.getEntriesByType("resource").length);`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>ilql-bench results: ${escapeHtml(dir)}</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 2em; background: white; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0; }
</style>
</head>
<body>
<h1>ilql-bench results: ${escapeHtml(dir)}</h1>
<p>${escapeHtml(provenance(dir, records, groups, skipped))}</p>
${grids.join("\n")}
<h2>Figures</h2>
${canvases.join("\n")}
${script(chartJsSource())}
${script(draw)}
</body>
</html>
`;
}

/**
 * Writes the report files of `dir` (tables, figures, HTML); returns their paths.
 * @param options.skipCorrupt leave corrupt record files out (the report says how many) instead of throwing
 * @throws CorruptRecordError naming a corrupt record file
 */
export async function writeReport(dir: string, options: { skipCorrupt?: boolean } = {}): Promise<string[]> {
  const { records, corrupt } = scanRecords(dir);
  if (corrupt.length > 0 && !options.skipCorrupt) throw new CorruptRecordError(corrupt[0]!);
  if (records.length === 0) throw new Error(`${dir}: no run records (run \`deno task bench --out ${dir}\` first)`);
  const groups = groupResults(records);
  const specs = chartSpecs(groups, records);
  const files: Array<[string, string | Uint8Array]> = [
    [
      `${dir}/table.md`,
      `# Results: ${dir}\n\n${provenance(dir, records, groups, corrupt.length)}\n\n${markdownTable(groups)}`,
    ],
    [`${dir}/table.csv`, csvTable(groups)],
    [`${dir}/report.html`, reportHtml(dir, records, groups, specs, corrupt.length)],
  ];
  // a task's name may hold a path (file:data/x.jsonl): one flat file name per figure
  for (const spec of specs) {
    files.push([`${dir}/figures/${spec.name.replace(/[^A-Za-z0-9._-]+/g, "_")}.png`, await renderPng(spec)]);
  }
  for (const [path, content] of files) await writeFileAtomic(path, content);
  return files.map(([path]) => path);
}

const HELP = `deno task report [DIR] [--skip-corrupt]

Writes DIR/table.md, DIR/table.csv, DIR/figures/*.png and DIR/report.html from DIR/records (default DIR:
results/quick). A corrupt record file stops it with the file's name; --skip-corrupt leaves such files out (the
report says how many).`;

async function main() {
  const { values, positionals } = parseCommandLine(Deno.args, {
    "skip-corrupt": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  }, {});
  if (values.help) return console.log(HELP);
  if (positionals.length > 1) throw new UsageError(`expected one directory, got ${positionals.join(" ")}`);
  let written: string[];
  try {
    written = await writeReport(positionals[0] ?? "results/quick", { skipCorrupt: values["skip-corrupt"] });
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new UsageError(e.message);
    throw e;
  }
  console.log(`wrote ${written.length} files: ${written.join(", ")}`);
}

if (import.meta.main) await runMain(main);
