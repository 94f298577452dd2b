/**
 * Browser test of `report.html`: headless Chromium (Debian `chromium`, installed by `.ci/run`) opens the report from
 * disk with name resolution disabled, and the page's own marks say every chart rendered (painted pixels) with no
 * resource loaded. Also checks the PNG figures are real, non-blank images.
 */
import assert from "node:assert/strict";
import { writeReport } from "../eval/report.ts";
import { readRecords, writeRecord } from "../eval/store.ts";
import { expandSuite, SUITES } from "../eval/suite.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** A results directory with made-up records (so the test needs no training), including a β sweep. */
async function fixture(): Promise<string> {
  const dir = await Deno.makeTempDir();
  const runs = expandSuite(SUITES.smoke!, { sweeps: [{ key: "decode.beta", values: [1, 4, 16] }] });
  let i = 0;
  for (const spec of runs) {
    const returns = [0, -1, -2, -1].map((r) => (spec.algorithm === "ilql" ? r + 1 : r) * (i++ % 2 ? 1 : 0.5));
    await writeRecord(dir, {
      spec,
      configHash: "x",
      datasetReturn: -1.2,
      anchors: { floor: -2, ceiling: 0 },
      eval: {
        returns,
        mean: returns.reduce((s, x) => s + x, 0) / 4,
        se: 0.1,
        metrics: { optimal_rate: 0.5 },
        seconds: 1,
      },
      history: [10, 20, 30].map((step) => ({ step, info: { "losses/policy": 1 / step + spec.seed } })),
      curve: [0, 10, 20, 30].map((step) => ({ step, mean: -2 + step / 30 - spec.seed / 4, se: 0.1, metrics: {} })),
      start: {
        id: `start-${spec.seed}`,
        steps: 40,
        curve: [0, 20, 40].map((step) => ({ step, mean: -2 + step / 40 - spec.seed / 4, se: 0.1, metrics: {} })),
        trainSeconds: 1,
      },
      provenance: {
        commit: "c",
        deno: "2",
        tfjs: "4",
        backend: "b",
        trainSeconds: 1,
        wallSeconds: 1,
        peakRssMiB: 1,
        finished: "t",
      },
    });
  }
  assert.equal(readRecords(dir).length, runs.length);
  return dir;
}

Deno.test({
  name: "report.html renders every chart in headless Chromium from disk, loading nothing",
  ignore: CHROMIUM === undefined,
  fn: async () => {
    const dir = await fixture();
    const written = await writeReport(dir);
    const html = Deno.readTextFileSync(`${dir}/report.html`);
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, "no external scripts, styles or images");
    const profile = await Deno.makeTempDir();
    const out = await new Deno.Command(CHROMIUM!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        `--user-data-dir=${profile}`,
        "--dump-dom",
        `file://${dir}/report.html`,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    const dom = new TextDecoder().decode(out.stdout);
    const charts = Number(/data-charts="(\d+)"/.exec(dom)?.[1]);
    const figures = written.filter((p) => p.endsWith(".png"));
    // returns, training curves and return against β for the one task
    // returns, the learning curves, the starts' curve, return against β
    assert.deepEqual(figures.map((p) => p.replace(/^.*\//, "")).sort(), [
      "beta_stitch.png",
      "curve_stitch.png",
      "returns_stitch.png",
      "start_stitch.png",
    ]);
    assert.equal(charts, figures.length, "one chart.js instance per figure");
    assert.equal(/data-resources="(\d+)"/.exec(dom)?.[1], "0", "no resource requested");
    const painted = [...dom.matchAll(/<canvas id="(\w+)"[^>]*data-painted="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
    assert.equal(painted.length, figures.length);
    for (const [name, pixels] of painted) assert.ok((pixels as number) > 10_000, `${name}: ${pixels} painted pixels`);
    await Deno.remove(profile, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("PNG figures are 800×450 images with drawn content", async () => {
  const dir = await fixture();
  const written = await writeReport(dir);
  const { loadImage, createCanvas } = await import("@napi-rs/canvas");
  for (const path of written.filter((p) => p.endsWith(".png"))) {
    const image = await loadImage(Deno.readFileSync(path));
    assert.equal(image.width, 800, path);
    assert.equal(image.height, 450, path);
    const canvas = createCanvas(800, 450);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(image, 0, 0);
    const { data } = ctx.getImageData(0, 0, 800, 450);
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! < 600) dark++;
    assert.ok(dark > 2_000, `${path}: ${dark} non-white pixels`);
  }
  assert.match(Deno.readTextFileSync(`${dir}/table.md`), /decode\.beta=16/);
  await Deno.remove(dir, { recursive: true });
});
