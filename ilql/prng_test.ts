import assert from "node:assert/strict";
import { fillDropoutMask, Prng } from "./prng.ts";

function draws(prng: Prng, n: number): number[] {
  return Array.from({ length: n }, () => prng.nextUint32());
}

function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  return sum / xs.length;
}

Deno.test("Prng.nextUint32() matches xoshiro128** seeded by splitmix32 (independent reference values)", () => {
  // computed by a separate Python implementation of splitmix32 seeding + xoshiro128** (Blackman & Vigna);
  // the last row was recomputed after the high-word scrambling was added to the seeding
  const expected: Record<number, number[]> = {
    0: [3809008728, 1133695204, 53579671, 2891528803, 139681546],
    1: [2442144158, 3238099751, 3819917871, 2104621829, 2021136066],
    42: [2837322924, 544945897, 479756282, 3500138142, 339756180],
    [-7]: [4105674630, 1549025917, 1462909597, 1494321277, 4127257517],
    [2 ** 40 + 3]: [3417062142, 4202854872, 1590332075, 3530267677, 3928237723], // high word scrambled by 0x9e3779b1
  };
  for (const [seed, values] of Object.entries(expected)) {
    assert.deepEqual(draws(new Prng(Number(seed)), 5), values, `seed ${seed}`);
  }
});

Deno.test("Prng with the same seed gives identical streams of every kind", () => {
  const a = new Prng(1234);
  const b = new Prng(1234);
  assert.deepEqual(draws(a, 1000), draws(b, 1000));
  for (let i = 0; i < 100; i++) {
    assert.equal(a.next(), b.next());
    assert.equal(a.int(17), b.int(17));
    assert.equal(a.normal(), b.normal());
  }
});

Deno.test("Prng with different seeds gives different streams", () => {
  const seeds = [0, 1, 2, 3, -1, 42, 2 ** 31, 2 ** 32 + 5, 1e15];
  const streams = seeds.map((s) => draws(new Prng(s), 8).join(","));
  assert.equal(new Set(streams).size, seeds.length, "two seeds gave the same stream");
  // seeds that differ only above bit 32 still differ
  assert.notDeepEqual(draws(new Prng(5), 8), draws(new Prng(5 + 2 ** 32), 8));
});

Deno.test("Prng.fork() gives reproducible streams independent of the parent and of each other", () => {
  const parentA = new Prng(99);
  const parentB = new Prng(99);
  const childA1 = parentA.fork();
  const childA2 = parentA.fork();
  const childB1 = parentB.fork();
  const childB2 = parentB.fork();
  // reproducible
  const c1 = draws(childA1, 100);
  assert.deepEqual(c1, draws(childB1, 100));
  const c2 = draws(childA2, 100);
  assert.deepEqual(c2, draws(childB2, 100));
  // independent of each other and of the parent
  assert.notDeepEqual(c1, c2);
  const parentDraws = draws(parentA, 100);
  assert.notDeepEqual(parentDraws, c1);
  assert.notDeepEqual(parentDraws, c2);
  // drawing from the children does not move the parent: a parent whose children are never used continues the same
  const parentC = new Prng(99);
  parentC.fork();
  parentC.fork();
  assert.deepEqual(draws(parentC, 100), parentDraws);
  assert.deepEqual(draws(parentB, 100), parentDraws);
});

Deno.test("Prng.next() lies in [0, 1) with mean 0.5 over 100k draws", () => {
  const prng = new Prng(7);
  const xs = new Float64Array(100_000);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = prng.next();
    xs[i] = x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  assert.ok(min >= 0, `min ${min}`);
  assert.ok(max < 1, `max ${max}`);
  assert.ok(Math.abs(mean(xs) - 0.5) < 0.01, `mean ${mean(xs)}`);
  // the four quarters are about equally full
  const quarters = [0, 0, 0, 0];
  for (const x of xs) quarters[Math.floor(x * 4)]!++;
  for (const q of quarters) assert.ok(Math.abs(q / xs.length - 0.25) < 0.01, `quarters ${quarters}`);
});

Deno.test("Prng.next() is nextUint32() / 2^32", () => {
  const a = new Prng(3);
  const b = new Prng(3);
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.nextUint32() / 4294967296);
});

Deno.test("Prng.int(n) covers 0..n-1 uniformly (chi-square bound)", () => {
  const prng = new Prng(11);
  const n = 10;
  const draws = 100_000;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) {
    const k = prng.int(n);
    assert.ok(Number.isInteger(k) && k >= 0 && k < n, `int(${n}) gave ${k}`);
    counts[k]!++;
  }
  const expected = draws / n;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  // 9 degrees of freedom: P(chi2 > 40) < 1e-5
  assert.ok(chi2 < 40, `chi-square ${chi2} for counts ${counts}`);
  assert.ok(counts.every((c) => c > 0));
  // int(1) is always 0
  for (let i = 0; i < 100; i++) assert.equal(prng.int(1), 0);
});

Deno.test("Prng.int() rejects n < 1 and NaN", () => {
  const prng = new Prng(1);
  assert.throws(() => prng.int(0), { message: "Prng.int needs n >= 1, got 0" });
  assert.throws(() => prng.int(-3), { message: "Prng.int needs n >= 1, got -3" });
  assert.throws(() => prng.int(NaN), { message: "Prng.int needs n >= 1, got NaN" });
});

Deno.test("Prng.normal() has mean 0 and standard deviation 1 over 100k draws", () => {
  const prng = new Prng(5);
  const n = 100_000;
  let sum = 0;
  let sumSq = 0;
  let beyond3 = 0;
  for (let i = 0; i < n; i++) {
    const x = prng.normal();
    assert.ok(Number.isFinite(x));
    sum += x;
    sumSq += x * x;
    if (Math.abs(x) > 3) beyond3++;
  }
  const m = sum / n;
  const std = Math.sqrt(sumSq / n - m * m);
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(std - 1) < 0.01, `std ${std}`);
  // P(|x| > 3) = 0.0027 for a standard normal
  assert.ok(Math.abs(beyond3 / n - 0.0027) < 0.001, `tail fraction ${beyond3 / n}`);
});

Deno.test("Prng.normal() is Box-Muller over two uniform draws, returning the cached sine half second", () => {
  const a = new Prng(8);
  const b = new Prng(8);
  for (let i = 0; i < 50; i++) {
    const u = b.next();
    const v = b.next();
    assert.ok(u > 0);
    const r = Math.sqrt(-2 * Math.log(u));
    assert.equal(a.normal(), r * Math.cos(2 * Math.PI * v));
    assert.equal(a.normal(), r * Math.sin(2 * Math.PI * v));
  }
});

Deno.test("Prng.shuffle() returns the same array as a reproducible permutation", () => {
  const original = Array.from({ length: 100 }, (_, i) => i);
  const a = [...original];
  const result = new Prng(21).shuffle(a);
  assert.equal(result, a, "shuffles in place and returns the array");
  assert.deepEqual([...a].sort((x, y) => x - y), original, "is a permutation");
  assert.notDeepEqual(a, original, "moves elements");
  assert.deepEqual(new Prng(21).shuffle([...original]), a, "same seed, same permutation");
  assert.notDeepEqual(new Prng(22).shuffle([...original]), a, "another seed, another permutation");
  assert.deepEqual(new Prng(1).shuffle([]), []);
  assert.deepEqual(new Prng(1).shuffle(["x"]), ["x"]);
});

Deno.test("Prng.shuffle() of three items gives all six orders about equally often", () => {
  const prng = new Prng(4);
  const counts = new Map<string, number>();
  const n = 60_000;
  for (let i = 0; i < n; i++) {
    const key = prng.shuffle(["a", "b", "c"]).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [key, c] of counts) assert.ok(Math.abs(c / n - 1 / 6) < 0.01, `${key}: ${c}`);
});

Deno.test("Prng.pick() returns items[int(length)] and rejects an empty array", () => {
  const items = ["a", "b", "c", "d", "e"];
  const a = new Prng(13);
  const b = new Prng(13);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const x = a.pick(items);
    assert.equal(x, items[b.int(items.length)]);
    seen.add(x);
  }
  assert.equal(seen.size, items.length);
  assert.throws(() => a.pick([]), { message: "Prng.pick needs a non-empty array" });
});

Deno.test("fillDropoutMask() writes 0 or 1/(1-rate) with a zero fraction close to rate, the same for the same seed", () => {
  for (const rate of [0.1, 0.25, 0.5]) {
    const out = new Float32Array(100_000);
    fillDropoutMask(out, 17, rate);
    const scale = Math.fround(1 / (1 - rate));
    let zeros = 0;
    for (const x of out) {
      if (x === 0) zeros++;
      else assert.equal(x, scale, `rate ${rate}`);
    }
    assert.ok(Math.abs(zeros / out.length - rate) < 0.01, `rate ${rate}: zero fraction ${zeros / out.length}`);
    const again = new Float32Array(100_000);
    fillDropoutMask(again, 17, rate);
    assert.deepEqual(again, out);
  }
});

Deno.test("fillDropoutMask(): neighbouring elements and neighbouring seeds give unrelated masks", () => {
  const n = 200_000;
  const rate = 0.5;
  const [a, b] = [new Float32Array(n), new Float32Array(n)];
  fillDropoutMask(a, 1, rate);
  fillDropoutMask(b, 2, rate);
  // for independent fair coins each agreement rate is 0.5 ± 0.003 (3 standard errors at this n)
  let sameAsNext = 0;
  let sameAcrossSeeds = 0;
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && a[i] === a[i + 1]) sameAsNext++;
    if (a[i] === b[i]) sameAcrossSeeds++;
  }
  assert.ok(Math.abs(sameAsNext / (n - 1) - 0.5) < 0.003, `neighbours agree ${sameAsNext / (n - 1)}`);
  assert.ok(Math.abs(sameAcrossSeeds / n - 0.5) < 0.003, `seeds 1 and 2 agree ${sameAcrossSeeds / n}`);
});

Deno.test("fillDropoutMask() with rate 0 keeps everything at scale 1", () => {
  const out = new Float32Array(1000).fill(-1);
  fillDropoutMask(out, 3, 0);
  assert.ok(out.every((x) => x === 1));
});

Deno.test("Prng constructor rejects a non-finite seed", () => {
  for (const seed of [NaN, Infinity, -Infinity]) {
    assert.throws(() => new Prng(seed), { message: `Prng seed must be a finite number, got ${seed}` });
  }
});

Deno.test("Prng seeds above 2^32 do not collide with small seeds", () => {
  for (const [big, small] of [[2 ** 32, 1], [2 ** 32 + 5, 4], [2 ** 33, 0]]) {
    assert.notDeepEqual(draws(new Prng(big!), 3), draws(new Prng(small!), 3));
  }
});

Deno.test("weighted() draws in proportion to the weights and never picks a zero weight", () => {
  const prng = new Prng(5);
  const counts = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 20_000; i++) counts[prng.weighted([["a", 1], ["b", 0], ["c", 3]] as const)]++;
  assert.equal(counts.b, 0);
  assert.ok(Math.abs(counts.c / 20_000 - 0.75) < 0.01, String(counts.c));
});

Deno.test("snapshot() and restore(): a restored generator continues the stream, a cached normal included", () => {
  const a = new Prng(5);
  a.normal(); // leaves the second normal of the pair cached
  const state = a.snapshot();
  const ahead = [a.normal(), a.next(), a.nextUint32()];
  const b = new Prng(99);
  b.restore(state);
  assert.deepEqual([b.normal(), b.next(), b.nextUint32()], ahead);
  // a plain-data state survives JSON (a checkpoint's metadata)
  const c = new Prng(0);
  c.restore(JSON.parse(JSON.stringify(state)));
  assert.equal(c.normal(), ahead[0]);
  assert.throws(() => c.restore({ words: [1, 2, 3], spareNormal: null }), /four unsigned 32-bit words/);
  assert.throws(() => c.restore({ words: [1, 2, 3, -1], spareNormal: null }), /four unsigned 32-bit words/);
});
