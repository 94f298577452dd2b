import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertAllClose, testBackend } from "./_test_util.ts";
import {
  fusedDropout,
  fusedGelu,
  fusedGeluGrad,
  fusedLayerNorm,
  fusedLayerNormGrad,
  fusedMaskedSoftmax,
  fusedSoftmaxGrad,
  GELU_2C,
  GELU_K,
} from "./_wasm_simd.ts";
import { fillDropoutMask, Prng } from "./prng.ts";

const backend = await testBackend();
const onWasm = backend.backend === "wasm";

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const prng = new Prng(seed);
  return tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => scale * prng.normal()), shape);
}

/** Bitwise equality of two float32 tensors. */
function assertSameBits(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.dataSync(), expected.dataSync(), what);
}

Deno.test({
  name: "fused kernels: GELU's gradient gives the bits of the tensor ops; GELU itself within 3e-7",
  ignore: !onWasm,
  fn: () => {
    tf.tidy(() => {
      // wide values, the tails included (σ saturates, e^v leaves the normal range)
      const x = tf.concat([randomTensor([4092], 1, 4), tf.tensor1d([-40, -12, 12, 40])]);
      const dy = randomTensor([4096], 2);
      const z = tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_2C * GELU_K), GELU_2C));
      const s = tf.sigmoid(z);
      const y = tf.mul(x, s);
      const fused = fusedGelu(x)!;
      assertAllClose(fused.s.dataSync(), s.dataSync(), { atol: 1e-7, rtol: 3e-7, what: "σ" });
      assertAllClose(fused.y.dataSync(), y.dataSync(), { atol: 1e-7, rtol: 3e-7, what: "gelu" });
      const dz = tf.add(tf.mul(tf.square(x), 3 * GELU_K * GELU_2C), GELU_2C);
      const grad = tf.mul(dy, tf.add(s, tf.mul(tf.sub(y, tf.mul(y, s)), dz)));
      assertSameBits(fusedGeluGrad(x, s, y, dy)!, grad, "gelu'");
    });
  },
});

Deno.test({
  name: "fused kernels: layer norm and its three gradients match the tensor ops within 1e-6",
  ignore: !onWasm,
  fn: () => {
    tf.tidy(() => {
      const [rows, D] = [37, 24];
      const x = tf.add(randomTensor([rows, D], 3, 3), 5); // an offset, as residual streams have
      const g = randomTensor([D], 4);
      const b = randomTensor([D], 5);
      const dy = randomTensor([rows, D], 6);
      const centred = tf.sub(x, tf.mean(x, -1, true));
      const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
      const xHat = tf.mul(centred, invStd);
      const fused = fusedLayerNorm(x, g, b)!;
      assert.deepEqual(fused.invStd.shape, [rows, 1]);
      assertAllClose(fused.xHat.dataSync(), xHat.dataSync(), { atol: 1e-6, rtol: 1e-6, what: "x̂" });
      assertAllClose(fused.invStd.dataSync(), invStd.dataSync(), { atol: 1e-6, rtol: 1e-6, what: "1/σ" });
      assertAllClose(fused.y.dataSync(), tf.add(tf.mul(xHat, g), b).dataSync(), { atol: 1e-6, rtol: 1e-6, what: "y" });
      const dxHat = tf.mul(dy, g);
      const dx = tf.mul(
        tf.sub(tf.sub(dxHat, tf.mean(dxHat, -1, true)), tf.mul(xHat, tf.mean(tf.mul(dxHat, xHat), -1, true))),
        invStd,
      );
      const [fdx, fdg, fdb] = fusedLayerNormGrad(dy, xHat, invStd, g)!;
      assertAllClose(fdx.dataSync(), dx.dataSync(), { atol: 1e-6, rtol: 1e-5, what: "dx" });
      assertAllClose(fdg.dataSync(), tf.sum(tf.mul(dy, xHat), 0).dataSync(), { atol: 1e-5, rtol: 1e-6, what: "dg" });
      assertAllClose(fdb.dataSync(), tf.sum(dy, 0).dataSync(), { atol: 1e-5, rtol: 1e-6, what: "db" });
    });
  },
});

Deno.test({
  name: "fused kernels: masked softmax (exact zeros where masked) and its gradient, with and without dropout",
  ignore: !onWasm,
  fn: () => {
    tf.tidy(() => {
      const T = 12;
      const maskValues = new Float32Array(T * T);
      for (let i = 0; i < T; i++) maskValues.fill(-1e9, i * T + i + 1, (i + 1) * T);
      const mask = tf.tensor2d(maskValues, [T, T]);
      const scores = randomTensor([3, 2, T, T], 7, 6);
      const p = tf.softmax(tf.add(scores, mask));
      const fused = fusedMaskedSoftmax(scores, mask)!;
      assertAllClose(fused.dataSync(), p.dataSync(), { atol: 1e-7, rtol: 3e-7, what: "softmax" });
      const masked = fused.dataSync().filter((_, i) => maskValues[i % (T * T)]! < 0);
      assert.ok(masked.length > 0 && masked.every((v) => v === 0), "masked probabilities are exactly 0");

      const dp = randomTensor([3, 2, T, T], 8);
      const kept = tf.mul(p, tf.cast(tf.greater(randomTensor([3, 2, T, T], 9), -0.5), "float32"));
      const reference = (d: tf.Tensor) => tf.mul(tf.mul(p, tf.sub(d, tf.sum(tf.mul(d, p), -1, true))), 0.7);
      const plain = fusedSoftmaxGrad(p, dp, null, 0.7)!;
      assertAllClose(plain.dataSync(), reference(dp).dataSync(), { atol: 1e-7, rtol: 1e-5, what: "ds" });
      const dropped = fusedSoftmaxGrad(p, dp, kept, 0.7)!;
      const expected = reference(tf.mul(dp, tf.step(kept)));
      assertAllClose(dropped.dataSync(), expected.dataSync(), { atol: 1e-7, rtol: 1e-5, what: "ds with dropout" });
    });
  },
});

Deno.test({
  name: "fused kernels: shapes they do not cover fall back (null) instead of computing wrongly",
  ignore: !onWasm,
  fn: () => {
    tf.tidy(() => {
      const odd = randomTensor([5, 7], 10);
      assert.equal(fusedGelu(odd), null);
      assert.equal(fusedLayerNorm(odd, randomTensor([7], 11), randomTensor([7], 12)), null);
      const scores = randomTensor([2, 4, 8], 13);
      assert.equal(fusedMaskedSoftmax(scores, randomTensor([1, 8], 14)), null, "a mask of another shape");
      assert.equal(fusedMaskedSoftmax(randomTensor([2, 4, 6], 15), randomTensor([4, 6], 16)), null, "rows not of 4k");
    });
  },
});

Deno.test({
  name: "fused kernels: dropout is x times prng.ts's fillDropoutMask, bit for bit",
  ignore: !onWasm,
  fn: () => {
    for (const [seed, rate] of [[0, 0.1], [0xdeadbeef, 0.3], [12345, 0]] as const) {
      const x = randomTensor([37, 12], seed % 1000);
      const fused = fusedDropout(x, seed, rate)!;
      const mask = new Float32Array(37 * 12);
      fillDropoutMask(mask, seed, rate);
      const expected = tf.mul(x, tf.tensor(mask, [37, 12]));
      assertSameBits(fused, expected, `seed ${seed} rate ${rate}`);
      assert.ok(rate === 0 || mask.some((m) => m === 0), "some elements dropped");
      tf.dispose([x, fused, expected]);
    }
    assert.equal(fusedDropout(randomTensor([3, 5], 1), 1, 0.1), null, "sizes not of 4k fall back");
  },
});
