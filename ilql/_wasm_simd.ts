/**
 * Fused SIMD kernels on the tfjs-backend-wasm heap. A small WebAssembly module, assembled here at start-up from the
 * instructions below (no compiler, no binary in the repo), imports the backend's own memory and works on tensors in
 * place of chains of tfjs kernels: one pass over the data instead of five to twelve, each of which would read and
 * write the whole tensor and pay the engine's per-kernel cost. At the Wordle model's size (width 64, 2 layers) these
 * chains, not the matmuls, are what the training step spends most of its kernels on (`deno task bench:speed
 * --profile`).
 *
 * Elementwise kernels do the same float32 operations in the same order as the chains they replace, so they give the
 * same bits; row reductions (layer norm's mean and variance, softmax's row sums) add four lanes at a time and differ
 * from tfjs's sums in the last bits. Relies on tfjs-backend-wasm 4.22.0 internals, as `_wasm_heap.ts`.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { activeWasmBackend, type WasmBackend } from "./_wasm_heap.ts";

// ---- a minimal WebAssembly assembler ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  while (true) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function f32Bytes(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const simd = (code: number) => [0xfd, ...uleb(code)];

/** Instructions (operands on the stack, as in the text format). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  f32: (v: number) => [0x43, ...f32Bytes(v)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  f32Add: [0x92],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  f32FromU32: [0xb3], // f32.convert_i32_u
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  vLoad: [...simd(0x00), 2, 0],
  vStore: [...simd(0x0b), 2, 0],
  splat: simd(0x13),
  lane: (l: number) => [...simd(0x1f), l],
  vGt: simd(0x44),
  vAnd: simd(0x4e),
  vAdd: simd(0xe4),
  vSub: simd(0xe5),
  vMul: simd(0xe6),
  vDiv: simd(0xe7),
  vMin: simd(0xe8),
  vMax: simd(0xe9),
  vGe: simd(0x46),
  vNearest: simd(0x6a),
  i32Splat: simd(0x11),
  i32x4Add: simd(0xae),
  i32x4Shl: simd(0xab),
  i32x4FromF32: simd(0xf8), // i32x4.trunc_sat_f32x4_s
  f32Max: [0x97],
  i32RemU: [0x70],
  v128: (lanes: number[]) => [...simd(0x0c), ...new Uint8Array(Int32Array.from(lanes).buffer)],
  vXor: simd(0x51),
  i32x4ShrU: simd(0xad),
  i32x4Mul: simd(0xb5),
  i32x4GeU: simd(0x40),
};

const splat = (v: number) => [...op.f32(v), ...op.splat];

/**
 * e^v of the v128 on the stack (Cephes' expf: v = n·ln 2 + r, a degree-5 polynomial in r, times 2ⁿ built in the
 * exponent bits; within 2 ulp), exactly 0 below −87.34 (where float32's e^v leaves the normal range). Uses three v128
 * locals.
 */
function exp(orig: number, n: number, r: number): number[] {
  const poly = [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  return [
    ...op.tee(orig),
    ...splat(88),
    ...op.vMin,
    ...splat(-87.33654),
    ...op.vMax,
    ...op.tee(r),
    ...splat(Math.LOG2E),
    ...op.vMul,
    ...op.vNearest,
    ...op.tee(n),
    ...splat(0.693359375),
    ...op.vMul,
    ...op.get(r),
    ...op.vSub, // n·C1 − x, negated below
    ...op.get(n),
    ...splat(-2.12194440e-4),
    ...op.vMul,
    ...op.vAdd, // n·C1 + n·C2 − x
    ...splat(-1),
    ...op.vMul,
    ...op.tee(r), // r = x − n·C1 − n·C2
    ...splat(1.9875691500e-4),
    ...op.vMul,
    ...poly.flatMap((c, i) => [...splat(c), ...op.vAdd, ...(i < poly.length - 1 ? [...op.get(r), ...op.vMul] : [])]),
    ...op.get(r),
    ...op.get(r),
    ...op.vMul,
    ...op.vMul,
    ...op.get(r),
    ...op.vAdd,
    ...splat(1),
    ...op.vAdd,
    ...op.get(n),
    ...op.i32x4FromF32,
    ...op.i32(127),
    ...op.i32Splat,
    ...op.i32x4Add,
    ...op.i32(23),
    ...op.i32x4Shl,
    ...op.vMul,
    ...op.get(orig),
    ...splat(-87.33654),
    ...op.vGe,
    ...op.vAnd,
  ];
}

/** `for (i = 0; i < end; i += step) body`, with `i` and `end` locals. */
function forLoop(i: number, end: number, step: number, body: number[]): number[] {
  return [
    ...op.i32(0),
    ...op.set(i),
    0x02, // block
    0x40,
    0x03, // loop
    0x40,
    ...op.get(i),
    ...op.get(end),
    ...op.i32GeU,
    0x0d, // br_if to the block's end
    1,
    ...body,
    ...op.get(i),
    ...op.i32(step),
    ...op.i32Add,
    ...op.set(i),
    0x0c, // br to the loop's start
    0,
    0x0b,
    0x0b,
  ];
}

/** `for (r = 0; r < rows; r++) { row = r·width; body }`, all locals: a loop over the rows of a `[rows, width]` array. */
function forRows(r: number, rows: number, width: number, row: number, body: number[]): number[] {
  return forLoop(r, rows, 1, [...op.get(r), ...op.get(width), ...op.i32Mul, ...op.set(row), ...body]);
}

/** `a + 4·i` (the byte address of float `i` of the array at byte address `a`, both locals). */
const at = (a: number, i: number) => [...op.get(a), ...op.get(i), ...op.i32(4), ...op.i32Mul, ...op.i32Add];

/** The four lanes of the v128 on the stack combined in lane order by `combine` (f32.add, f32.max), via local `tmp`. */
const laneReduce = (tmp: number, combine: number[]) => [
  ...op.tee(tmp),
  ...op.lane(0),
  ...[1, 2, 3].flatMap((l) => [...op.get(tmp), ...op.lane(l), ...combine]),
];

/** The mean of the four lanes of the v128 on the stack, taken as `width` floats' sum (via local `tmp`), as an f32. */
const laneMean = (tmp: number, width: number) => [
  ...laneReduce(tmp, op.f32Add),
  ...op.get(width),
  ...op.f32FromU32,
  ...op.f32Div,
];

/** `base + 4·(start + j)`: the byte address of float j of the row starting at float `start` (all three locals). */
const rowAt = (base: number, start: number, j: number) => [
  ...op.get(base),
  ...op.get(start),
  ...op.get(j),
  ...op.i32Add,
  ...op.i32(4),
  ...op.i32Mul,
  ...op.i32Add,
];

interface Func {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[];
}

function assemble(funcs: Func[], shared: boolean): Uint8Array<ArrayBuffer> {
  const memoryLimits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]))),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, ...memoryLimits]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(
      10,
      vec(funcs.map((f) => {
        const code = [...vec(f.locals.map((t) => [1, t])), ...f.body, 0x0b];
        return [...uleb(code.length), ...code];
      })),
    ),
  ]);
}

// ---- kernels (pointers are byte addresses on the heap, sizes are float counts) ----

/** GELU's tanh-form constants, 2·√(2/π) and k, shared with `ops.ts`'s tensor version. */
export const GELU_2C = 2 * Math.sqrt(2 / Math.PI);
/** The cubic term's coefficient of GELU's tanh form. */
export const GELU_K = 0.044715;

/**
 * geluGrad(x, s, y, dy, out, n): out = dy·(s + (y − y·s)·(x²·3k·2c + 2c)), n a multiple of 4. The operations and
 * their order are those of `ops.ts`'s tensor version.
 */
function geluGradFunc(): Func {
  const [x, s, y, dy, out, n, i, xv, sv, yv] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    name: "geluGrad",
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, V128, V128, V128],
    body: forLoop(i, n, 4, [
      ...at(out, i),
      ...at(dy, i),
      ...op.vLoad,
      ...at(s, i),
      ...op.vLoad,
      ...op.tee(sv),
      // y − y·s
      ...at(y, i),
      ...op.vLoad,
      ...op.tee(yv),
      ...op.get(yv),
      ...op.get(sv),
      ...op.vMul,
      ...op.vSub,
      // x²·3k·2c + 2c
      ...at(x, i),
      ...op.vLoad,
      ...op.tee(xv),
      ...op.get(xv),
      ...op.vMul,
      ...splat(3 * GELU_K * GELU_2C),
      ...op.vMul,
      ...splat(GELU_2C),
      ...op.vAdd,
      ...op.vMul,
      ...op.vAdd,
      ...op.vMul,
      ...op.vStore,
    ]),
  };
}

/**
 * layerNorm(x, g, b, y, xHat, invStd, rows, D): per row of D floats (a multiple of 4), x̂ = (x − mean)·invStd with
 * invStd = 1/√(mean((x − mean)²) + 1e-5), y = x̂·g + b.
 */
function layerNormFunc(): Func {
  const [x, g, b, y, xHat, invStd, rows, D] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, j, row, acc, tmp, mean, inv, c] = [8, 9, 10, 11, 12, 13, 14, 15];
  const centred = [...rowAt(x, row, j), ...op.vLoad, ...op.get(mean), ...op.splat, ...op.vSub];
  return {
    name: "layerNorm",
    params: [I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, V128, V128, F32, F32, V128],
    body: forRows(r, rows, D, row, [
      // mean
      ...splat(0),
      ...op.set(acc),
      ...forLoop(j, D, 4, [...op.get(acc), ...rowAt(x, row, j), ...op.vLoad, ...op.vAdd, ...op.set(acc)]),
      ...op.get(acc),
      ...laneMean(tmp, D),
      ...op.set(mean),
      // 1/√(variance + eps)
      ...splat(0),
      ...op.set(acc),
      ...forLoop(j, D, 4, [
        ...op.get(acc),
        ...centred,
        ...op.tee(c),
        ...op.get(c),
        ...op.vMul,
        ...op.vAdd,
        ...op.set(acc),
      ]),
      ...op.f32(1),
      ...op.get(acc),
      ...laneMean(tmp, D),
      ...op.f32(1e-5),
      ...op.f32Add,
      ...op.f32Sqrt,
      ...op.f32Div,
      ...op.set(inv),
      ...at(invStd, r),
      ...op.get(inv),
      ...op.f32Store,
      // x̂ and y
      ...forLoop(j, D, 4, [
        ...rowAt(xHat, row, j),
        ...centred,
        ...op.get(inv),
        ...op.splat,
        ...op.vMul,
        ...op.tee(c),
        ...op.vStore,
        ...rowAt(y, row, j),
        ...op.get(c),
        ...at(g, j),
        ...op.vLoad,
        ...op.vMul,
        ...at(b, j),
        ...op.vLoad,
        ...op.vAdd,
        ...op.vStore,
      ]),
    ]),
  };
}

/**
 * layerNormGrad(dy, xHat, invStd, g, dx, dg, db, rows, D): dx̂ = dy·g, dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))·invStd per
 * row; dg = Σ_rows dy·x̂ and db = Σ_rows dy (dg and db are zeroed first).
 */
function layerNormGradFunc(): Func {
  const [dy, xHat, invStd, g, dx, dg, db, rows, D] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, j, row, acc1, acc2, tmp, m1, m2, dyv, xv, dxh] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const accumulate = (into: number, value: number[]) => [
    ...at(into, j),
    ...at(into, j),
    ...op.vLoad,
    ...value,
    ...op.vAdd,
    ...op.vStore,
  ];
  return {
    name: "layerNormGrad",
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, V128, V128, V128, F32, F32, V128, V128, V128],
    body: [
      ...forLoop(j, D, 4, [
        ...at(dg, j),
        ...splat(0),
        ...op.vStore,
        ...at(db, j),
        ...splat(0),
        ...op.vStore,
      ]),
      ...forRows(r, rows, D, row, [
        ...splat(0),
        ...op.tee(acc1),
        ...op.set(acc2),
        ...forLoop(j, D, 4, [
          ...rowAt(dy, row, j),
          ...op.vLoad,
          ...op.set(dyv),
          ...rowAt(xHat, row, j),
          ...op.vLoad,
          ...op.set(xv),
          ...op.get(dyv),
          ...at(g, j),
          ...op.vLoad,
          ...op.vMul,
          ...op.set(dxh),
          ...op.get(acc1),
          ...op.get(dxh),
          ...op.vAdd,
          ...op.set(acc1),
          ...op.get(acc2),
          ...op.get(dxh),
          ...op.get(xv),
          ...op.vMul,
          ...op.vAdd,
          ...op.set(acc2),
          ...accumulate(dg, [...op.get(dyv), ...op.get(xv), ...op.vMul]),
          ...accumulate(db, op.get(dyv)),
        ]),
        ...op.get(acc1),
        ...laneMean(tmp, D),
        ...op.set(m1),
        ...op.get(acc2),
        ...laneMean(tmp, D),
        ...op.set(m2),
        ...forLoop(j, D, 4, [
          ...rowAt(dx, row, j),
          ...rowAt(dy, row, j),
          ...op.vLoad,
          ...at(g, j),
          ...op.vLoad,
          ...op.vMul,
          ...op.get(m1),
          ...op.splat,
          ...op.vSub,
          ...rowAt(xHat, row, j),
          ...op.vLoad,
          ...op.get(m2),
          ...op.splat,
          ...op.vMul,
          ...op.vSub,
          ...at(invStd, r),
          ...op.f32Load,
          ...op.splat,
          ...op.vMul,
          ...op.vStore,
        ]),
      ]),
    ],
  };
}

/**
 * softmaxGrad(p, dp, kept, ds, rows, S, scale): per row of S floats (a multiple of 4), with dp zeroed where `kept`
 * (the probabilities after dropout, or p without dropout) is not positive: ds = p·(dp − Σ dp·p)·scale.
 */
function softmaxGradFunc(): Func {
  const [p, dp, kept, ds, rows, S, scale] = [0, 1, 2, 3, 4, 5, 6];
  const [r, j, row, acc, tmp, t] = [7, 8, 9, 10, 11, 12];
  // dp where kept > 0 (without dropout the caller passes p itself: where p is 0, p·(…) is 0 either way)
  const dpMasked = [
    ...rowAt(dp, row, j),
    ...op.vLoad,
    ...rowAt(kept, row, j),
    ...op.vLoad,
    ...splat(0),
    ...op.vGt,
    ...op.vAnd,
  ];
  return {
    name: "softmaxGrad",
    params: [I32, I32, I32, I32, I32, I32, F32],
    results: [],
    locals: [I32, I32, I32, V128, V128, F32],
    body: forRows(r, rows, S, row, [
      ...splat(0),
      ...op.set(acc),
      ...forLoop(j, S, 4, [
        ...op.get(acc),
        ...dpMasked,
        ...rowAt(p, row, j),
        ...op.vLoad,
        ...op.vMul,
        ...op.vAdd,
        ...op.set(acc),
      ]),
      ...op.get(acc),
      ...laneReduce(tmp, op.f32Add),
      ...op.set(t),
      ...forLoop(j, S, 4, [
        ...rowAt(ds, row, j),
        ...rowAt(p, row, j),
        ...op.vLoad,
        ...dpMasked,
        ...op.get(t),
        ...op.splat,
        ...op.vSub,
        ...op.vMul,
        ...op.get(scale),
        ...op.splat,
        ...op.vMul,
        ...op.vStore,
      ]),
    ]),
  };
}

/**
 * gelu(x, s, y, n): s = σ(z) = 1/(1 + e^−z) with z = x·(x²·2ck + 2c) (computed as `ops.ts`'s tensor version does),
 * y = x·s; n a multiple of 4.
 */
function geluFunc(): Func {
  const [x, s, y, n, i, xv, sv, e1, e2, e3] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    name: "gelu",
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32, V128, V128, V128, V128, V128],
    body: forLoop(i, n, 4, [
      ...at(s, i),
      ...splat(1),
      ...splat(1),
      ...at(x, i),
      ...op.vLoad,
      ...op.tee(xv),
      ...op.get(xv),
      ...op.vMul,
      ...splat(GELU_2C * GELU_K),
      ...op.vMul,
      ...splat(GELU_2C),
      ...op.vAdd,
      ...op.get(xv),
      ...op.vMul, // z (x·u and u·x are the same product)
      ...splat(-1),
      ...op.vMul,
      ...exp(e1, e2, e3),
      ...op.vAdd,
      ...op.vDiv,
      ...op.tee(sv),
      ...op.vStore,
      ...at(y, i),
      ...op.get(xv),
      ...op.get(sv),
      ...op.vMul,
      ...op.vStore,
    ]),
  };
}

/**
 * maskedSoftmax(x, mask, out, rows, S, maskRows): softmax over each row of S floats (a multiple of 4) of x + mask, the
 * mask's row being the row's index modulo maskRows (a `[Tq, S]` mask under `[B, H, Tq, S]` scores).
 */
function maskedSoftmaxFunc(): Func {
  const [x, mask, out, rows, S, maskRows] = [0, 1, 2, 3, 4, 5];
  const [r, j, row, mrow, acc, tmp, top, e1, e2, e3] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const logit = [...rowAt(x, row, j), ...op.vLoad, ...rowAt(mask, mrow, j), ...op.vLoad, ...op.vAdd];
  return {
    name: "maskedSoftmax",
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, V128, V128, F32, V128, V128, V128],
    body: forRows(r, rows, S, row, [
      ...op.get(r),
      ...op.get(maskRows),
      ...op.i32RemU,
      ...op.get(S),
      ...op.i32Mul,
      ...op.set(mrow),
      ...splat(-Infinity),
      ...op.set(acc),
      ...forLoop(j, S, 4, [...op.get(acc), ...logit, ...op.vMax, ...op.set(acc)]),
      ...op.get(acc),
      ...laneReduce(tmp, op.f32Max),
      ...op.set(top),
      ...splat(0),
      ...op.set(acc),
      ...forLoop(j, S, 4, [
        ...rowAt(out, row, j),
        ...logit,
        ...op.get(top),
        ...op.splat,
        ...op.vSub,
        ...exp(e1, e2, e3),
        ...op.tee(tmp),
        ...op.vStore,
        ...op.get(acc),
        ...op.get(tmp),
        ...op.vAdd,
        ...op.set(acc),
      ]),
      ...op.get(acc),
      ...laneReduce(tmp, op.f32Add),
      ...op.splat,
      ...op.set(acc),
      ...forLoop(j, S, 4, [
        ...rowAt(out, row, j),
        ...rowAt(out, row, j),
        ...op.vLoad,
        ...op.get(acc),
        ...op.vDiv,
        ...op.vStore,
      ]),
    ]),
  };
}

/** Wellons' lowbias32 on each i32 lane of the v128 on the stack (via local `t`), as `prng.ts` computes it. */
function lowbias32(t: number): number[] {
  const xorShift = (k: number) => [...op.tee(t), ...op.get(t), ...op.i32(k), ...op.i32x4ShrU, ...op.vXor];
  return [
    ...xorShift(16),
    ...op.i32(0x7feb352d),
    ...op.i32Splat,
    ...op.i32x4Mul,
    ...xorShift(15),
    ...op.i32(0x846ca68b | 0),
    ...op.i32Splat,
    ...op.i32x4Mul,
    ...xorShift(16),
  ];
}

/**
 * dropout(x, out, n, seed, threshold, scale): x times the mask whose element i is scale where
 * lowbias32(lowbias32(i) ⊕ seed) >>> 16 ≥ threshold, else 0 (`prng.ts` `fillDropoutMask`); n a multiple of 4.
 */
function dropoutFunc(): Func {
  const [x, out, n, seed, threshold, scale, i, counter, t] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return {
    name: "dropout",
    params: [I32, I32, I32, I32, I32, F32],
    results: [],
    locals: [I32, V128, V128],
    body: [
      ...op.v128([0, 1, 2, 3]),
      ...op.set(counter),
      ...forLoop(i, n, 4, [
        ...at(out, i),
        ...op.get(counter),
        ...lowbias32(t),
        ...op.get(seed),
        ...op.i32Splat,
        ...op.vXor,
        ...lowbias32(t),
        ...op.i32(16),
        ...op.i32x4ShrU,
        ...op.get(threshold),
        ...op.i32Splat,
        ...op.i32x4GeU,
        ...op.get(scale),
        ...op.splat,
        ...op.vAnd,
        ...at(x, i),
        ...op.vLoad,
        ...op.vMul,
        ...op.vStore,
        ...op.get(counter),
        ...op.i32(4),
        ...op.i32Splat,
        ...op.i32x4Add,
        ...op.set(counter),
      ]),
    ],
  };
}

// ---- bindings ----

interface Exports {
  dropout(x: number, out: number, n: number, seed: number, threshold: number, scale: number): void;
  gelu(x: number, s: number, y: number, n: number): void;
  maskedSoftmax(x: number, mask: number, out: number, rows: number, S: number, maskRows: number): void;
  geluGrad(x: number, s: number, y: number, dy: number, out: number, n: number): void;
  layerNorm(x: number, g: number, b: number, y: number, xHat: number, invStd: number, rows: number, D: number): void;
  layerNormGrad(
    dy: number,
    xHat: number,
    invStd: number,
    g: number,
    dx: number,
    dg: number,
    db: number,
    rows: number,
    D: number,
  ): void;
  softmaxGrad(p: number, dp: number, kept: number, ds: number, rows: number, S: number, scale: number): void;
}

let instance: { backend: WasmBackend; exports: Exports } | null = null;

/** The kernels on the active wasm backend's memory (instantiated once per backend), or null off wasm. */
function kernels(): { backend: WasmBackend; exports: Exports } | null {
  const backend = activeWasmBackend();
  if (backend === null) return null;
  if (instance?.backend === backend) return instance;
  const module =
    (backend as unknown as { wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } } })
      .wasm;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("tfjs-backend-wasm memory not found; is it the pinned 4.22.0?");
  }
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const funcs = [
    dropoutFunc(),
    geluFunc(),
    geluGradFunc(),
    layerNormFunc(),
    layerNormGradFunc(),
    maskedSoftmaxFunc(),
    softmaxGradFunc(),
  ];
  const bytes = assemble(funcs, shared);
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports as unknown as Exports;
  instance = { backend, exports };
  return instance;
}

/**
 * Makes float32 outputs of `shapes` on the heap, lets `call` run a kernel given the byte address of any tensor and the
 * outputs, and returns the outputs as tensors.
 */
function launch(
  backend: WasmBackend,
  shapes: number[][],
  call: (address: (t: tf.TensorInfo) => number, outs: tf.TensorInfo[]) => void,
): tf.Tensor[] {
  const outs = shapes.map((shape) => backend.makeOutput([...shape], "float32"));
  call((t) => backend.dataIdMap.get(t.dataId).memoryOffset, outs);
  return outs.map((info) => tf.engine().makeTensorFromTensorInfo(info));
}

const fits = (...ts: tf.Tensor[]) => ts.every((t) => t.dtype === "float32" && t.size % 4 === 0);

/**
 * `x` times the dropout mask of `seed` (`prng.ts` `fillDropoutMask`), the product the tensor ops give, without the mask
 * tensor; null when no fused kernel applies.
 */
export function fusedDropout(x: tf.Tensor, seed: number, rate: number): tf.Tensor | null {
  const k = kernels();
  if (k === null || !fits(x)) return null;
  return launch(k.backend, [x.shape], (a, [out]) => {
    k.exports.dropout(a(x), a(out!), x.size, seed, Math.floor(rate * 65536), 1 / (1 - rate));
  })[0]!;
}

/** GELU (tanh form, as x·σ(2z)): σ(2z) and the output, or null when no fused kernel applies. */
export function fusedGelu(x: tf.Tensor): { s: tf.Tensor; y: tf.Tensor } | null {
  const k = kernels();
  if (k === null || !fits(x)) return null;
  const [s, y] = launch(k.backend, [x.shape, x.shape], (a, [s, y]) => k.exports.gelu(a(x), a(s!), a(y!), x.size));
  return { s: s!, y: y! };
}

/**
 * Softmax over the last axis of `scores + mask` for `[..., Tq, S]` scores and a `[Tq, S]` mask, or null when no fused
 * kernel applies (another mask shape included).
 */
export function fusedMaskedSoftmax(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor | null {
  const k = kernels();
  const [Tq, S] = scores.shape.slice(-2) as [number, number];
  const maskFits = mask.rank === 2 && mask.shape[0] === Tq && mask.shape[1] === S;
  if (k === null || !maskFits || !fits(scores, mask) || S % 4 !== 0) return null;
  return launch(k.backend, [scores.shape], (a, [out]) => {
    k.exports.maskedSoftmax(a(scores), a(mask), a(out!), scores.size / S, S, Tq);
  })[0]!;
}

/** GELU's input gradient from x, σ(2z), y and dy (same shapes), or null when no fused kernel applies. */
export function fusedGeluGrad(x: tf.Tensor, s: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor | null {
  const k = kernels();
  if (k === null || !fits(x, s, y, dy)) return null;
  return launch(k.backend, [x.shape], (a, [out]) => {
    k.exports.geluGrad(a(x), a(s), a(y), a(dy), a(out!), x.size);
  })[0]!;
}

/**
 * Layer norm over the last axis: y, x̂ and 1/σ (`[..., 1]`), or null when no fused kernel applies. A gain and bias of
 * shape `[S, D]` (S stacked seeds) apply to S equal leading blocks of rows.
 */
export function fusedLayerNorm(
  x: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
): { y: tf.Tensor; xHat: tf.Tensor; invStd: tf.Tensor } | null {
  const k = kernels();
  const D = x.shape[x.rank - 1]!;
  if (k === null || !fits(x, g, b) || D % 4 !== 0) return null;
  const seeds = g.rank === 2 ? g.shape[0]! : 1;
  const rows = x.size / D / seeds;
  const [y, xHat, invStd] = launch(k.backend, [x.shape, x.shape, [...x.shape.slice(0, -1), 1]], (a, [y, h, i]) => {
    for (let s = 0; s < seeds; s++) {
      const [row, gain] = [4 * s * rows * D, 4 * s * D];
      k.exports.layerNorm(
        a(x) + row,
        a(g) + gain,
        a(b) + gain,
        a(y!) + row,
        a(h!) + row,
        a(i!) + 4 * s * rows,
        rows,
        D,
      );
    }
  });
  return { y: y!, xHat: xHat!, invStd: invStd! };
}

/**
 * Layer norm's gradients (input, gain, bias) from dy, x̂, 1/σ and the gain, or null when no fused kernel applies; per
 * seed for a `[S, D]` gain, as {@link fusedLayerNorm}.
 */
export function fusedLayerNormGrad(
  dy: tf.Tensor,
  xHat: tf.Tensor,
  invStd: tf.Tensor,
  g: tf.Tensor,
): [tf.Tensor, tf.Tensor, tf.Tensor] | null {
  const k = kernels();
  const D = dy.shape[dy.rank - 1]!;
  if (k === null || !fits(dy, xHat, g) || invStd.dtype !== "float32" || D % 4 !== 0) return null;
  const seeds = g.rank === 2 ? g.shape[0]! : 1;
  const rows = dy.size / D / seeds;
  const [dx, dg, db] = launch(k.backend, [dy.shape, g.shape, g.shape], (a, [dx, dg, db]) => {
    for (let s = 0; s < seeds; s++) {
      const [row, gain] = [4 * s * rows * D, 4 * s * D];
      k.exports.layerNormGrad(
        a(dy) + row,
        a(xHat) + row,
        a(invStd) + 4 * s * rows,
        a(g) + gain,
        a(dx!) + row,
        a(dg!) + gain,
        a(db!) + gain,
        rows,
        D,
      );
    }
  });
  return [dx!, dg!, db!];
}

/**
 * Softmax's input gradient p·(dp − Σ dp·p)·scale over the last axis, dp zeroed where `kept` (p after dropout) is not
 * positive when given; null when no fused kernel applies.
 */
export function fusedSoftmaxGrad(p: tf.Tensor, dp: tf.Tensor, kept: tf.Tensor | null, scale: number): tf.Tensor | null {
  const k = kernels();
  const S = p.shape[p.rank - 1]!;
  if (k === null || !fits(p, dp, ...(kept ? [kept] : [])) || S % 4 !== 0) return null;
  return launch(k.backend, [p.shape], (a, [ds]) => {
    k.exports.softmaxGrad(a(p), a(dp), a(kept ?? p), a(ds!), p.size / S, S, scale);
  })[0]!;
}
