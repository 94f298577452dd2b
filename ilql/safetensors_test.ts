import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, type StoredTensor, writeFileAtomic } from "./safetensors.ts";

function byteView(data: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

/** Builds a safetensors file by hand so decode can be fed headers that encode would never produce. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(), declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function sample(): Record<string, StoredTensor> {
  return {
    weights: {
      dtype: "F32",
      shape: [2, 3],
      // NaN with a non-canonical payload, both zeros, infinities, a denormal and ordinary values.
      data: f32FromBits([0x7fc00001, 0xffa12345, 0x80000000, 0x00000000, 0x7f800000, 0x00000001]),
    },
    bias: { dtype: "F32", shape: [3], data: new Float32Array([1.5, -2.25, 1e-30]) },
    steps: { dtype: "I32", shape: [2, 2], data: new Int32Array([-2147483648, 2147483647, 0, -1]) },
  };
}

function assertDecodeError(bytes: Uint8Array, pattern: RegExp): void {
  const where = "checkpoints/model.safetensors";
  assert.throws(
    () => decodeSafetensors(bytes, where),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.startsWith(`${where}: `), error.message);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"), "error message should be one line");
      return true;
    },
  );
}

Deno.test("encodeSafetensors() round-trips F32 and I32 tensors with metadata", () => {
  const tensors = sample();
  const metadata = { format: "pt", note: "héllo ✓" };
  const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata), "mem");
  assert.deepEqual(decoded.metadata, metadata);
  assert.deepEqual(Object.keys(decoded.tensors), Object.keys(tensors));
  for (const [name, original] of Object.entries(tensors)) {
    const got = decoded.tensors[name]!;
    assert.equal(got.dtype, original.dtype);
    assert.deepEqual(got.shape, original.shape);
    assert.equal(got.data.constructor, original.data.constructor);
    // Compare bytes, not values, so NaN payloads and the sign of zero must survive exactly.
    assert.deepEqual(byteView(got.data), byteView(original.data), name);
  }
});

Deno.test("encodeSafetensors() without metadata decodes to empty metadata and omits the key", () => {
  const bytes = encodeSafetensors({ x: { dtype: "I32", shape: [1], data: new Int32Array([7]) } });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.ok(!("__metadata__" in header));
  assert.deepEqual(decodeSafetensors(bytes, "mem").metadata, {});
});

Deno.test("encodeSafetensors() pads the header with spaces to a multiple of 8 bytes", () => {
  for (let nameLength = 1; nameLength <= 16; nameLength++) {
    const bytes = encodeSafetensors({
      ["n".repeat(nameLength)]: { dtype: "F32", shape: [1], data: new Float32Array([1]) },
    });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(headerLength % 8, 0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    assert.match(header, /^\{.*\} *$/);
    assert.equal(bytes.length, 8 + headerLength + 4);
  }
});

Deno.test("encodeSafetensors() lays out header and data as the safetensors format specifies", () => {
  const tensors = sample();
  const bytes = encodeSafetensors(tensors, { k: "v" });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  assert.equal(high, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + low).slice()));
  assert.deepEqual(header.__metadata__, { k: "v" });

  const dataStart = 8 + low;
  let expectedBegin = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const entry = header[name];
    assert.equal(entry.dtype, tensor.dtype);
    assert.deepEqual(entry.shape, tensor.shape);
    assert.deepEqual(entry.data_offsets, [expectedBegin, expectedBegin + tensor.data.length * 4]);
    // Read each element little-endian straight from the file bytes.
    for (let i = 0; i < tensor.data.length; i++) {
      const at = dataStart + expectedBegin + i * 4;
      if (tensor.dtype === "F32") {
        assert.equal(view.getUint32(at, true), new Uint32Array(tensor.data.buffer)[i], `${name}[${i}]`);
      } else {
        assert.equal(view.getInt32(at, true), tensor.data[i], `${name}[${i}]`);
      }
    }
    expectedBegin += tensor.data.length * 4;
  }
  assert.equal(bytes.length, dataStart + expectedBegin);
});

Deno.test("encodeSafetensors() handles empty and scalar tensors", () => {
  const tensors: Record<string, StoredTensor> = {
    empty: { dtype: "F32", shape: [0], data: new Float32Array(0) },
    emptyMatrix: { dtype: "I32", shape: [3, 0], data: new Int32Array(0) },
    scalar: { dtype: "F32", shape: [], data: new Float32Array([3.5]) },
    intScalar: { dtype: "I32", shape: [], data: new Int32Array([-9]) },
  };
  const decoded = decodeSafetensors(encodeSafetensors(tensors), "mem").tensors;
  assert.deepEqual(decoded.empty!.shape, [0]);
  assert.equal(decoded.empty!.data.length, 0);
  assert.deepEqual(decoded.emptyMatrix!.shape, [3, 0]);
  assert.equal(decoded.emptyMatrix!.data.length, 0);
  assert.deepEqual(decoded.scalar!.shape, []);
  assert.deepEqual(Array.from(decoded.scalar!.data), [3.5]);
  assert.deepEqual(decoded.intScalar!.shape, []);
  assert.ok(decoded.intScalar!.data instanceof Int32Array);
  assert.deepEqual(Array.from(decoded.intScalar!.data), [-9]);
});

Deno.test("encodeSafetensors() rejects mismatched length, dtype, and reserved or empty names", () => {
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "F32", shape: [2, 3], data: new Float32Array(5) } }),
    /Tensor "w" has 5 elements but shape \[2, 3\] needs 6/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "I32", shape: [1], data: new Float32Array(1) } }),
    /Tensor "w" has dtype I32 but its data is not a Int32Array/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "F32", shape: [1], data: new Int32Array(1) } }),
    /Tensor "w" has dtype F32/,
  );
  assert.throws(() => encodeSafetensors({ "": { dtype: "F32", shape: [], data: new Float32Array(1) } }), /empty/);
  assert.throws(
    () => encodeSafetensors({ __metadata__: { dtype: "F32", shape: [], data: new Float32Array(1) } }),
    /__metadata__/,
  );
  assert.throws(
    () => encodeSafetensors({}, { a: 1 as unknown as string }),
    /Metadata value for "a" must be a string/,
  );
});

Deno.test("encodeSafetensors() reads only the viewed part of a typed array that is a subarray", () => {
  const backing = new Float32Array([9, 1, 2, 3, 9]);
  const decoded = decodeSafetensors(
    encodeSafetensors({ v: { dtype: "F32", shape: [3], data: backing.subarray(1, 4) } }),
    "mem",
  );
  assert.deepEqual(Array.from(decoded.tensors.v!.data), [1, 2, 3]);
});

Deno.test("decodeSafetensors() returns aligned copies that do not alias the input", () => {
  // A 3-byte prefix puts the file, and so every tensor, at an odd address within the buffer.
  const encoded = encodeSafetensors({ a: { dtype: "I32", shape: [2], data: new Int32Array([5, 6]) } });
  const backing = new Uint8Array(encoded.length + 3);
  backing.set(encoded, 3);
  const bytes = backing.subarray(3);
  const { tensors } = decodeSafetensors(bytes, "mem");
  const data = tensors.a!.data;
  assert.notEqual(data.buffer, backing.buffer);
  assert.equal(data.byteOffset % 4, 0);
  bytes.fill(0);
  assert.deepEqual(Array.from(data), [5, 6]);
});

Deno.test("decodeSafetensors() rejects a file shorter than 8 bytes", () => {
  assertDecodeError(new Uint8Array(5), /shorter than the 8-byte header length/);
});

Deno.test("decodeSafetensors() rejects a header length larger than the file", () => {
  assertDecodeError(rawFile("{}", new Uint8Array(), 3n), /header length 3 is larger than the 2 bytes after it/);
  assertDecodeError(rawFile("{}", new Uint8Array(), 2n ** 63n), /header length .* is larger/);
});

Deno.test("decodeSafetensors() rejects a header that is not valid JSON", () => {
  assertDecodeError(rawFile('{"a": '), /header is not valid JSON/);
  assertDecodeError(rawFile("[1, 2]"), /header is not a JSON object/);
});

Deno.test("decodeSafetensors() rejects invalid UTF-8 in the header", () => {
  const bytes = new Uint8Array(10);
  new DataView(bytes.buffer).setBigUint64(0, 2n, true);
  bytes.set([0xff, 0xfe], 8);
  assertDecodeError(bytes, /header is not valid UTF-8/);
});

Deno.test("decodeSafetensors() rejects an unknown dtype", () => {
  assertDecodeError(
    rawFile({ w: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)),
    /tensor "w" has unknown dtype "F16"/,
  );
});

Deno.test("decodeSafetensors() rejects a malformed shape or data_offsets", () => {
  assertDecodeError(
    rawFile({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
    /tensor "w" has invalid shape/,
  );
  assertDecodeError(
    rawFile({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }, new Uint8Array(4)),
    /tensor "w" has invalid data_offsets/,
  );
  assertDecodeError(
    rawFile({ w: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)),
    /begin after end/,
  );
});

Deno.test("decodeSafetensors() rejects data_offsets out of range", () => {
  assertDecodeError(
    rawFile({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)),
    /tensor "w" has data_offsets \[0, 8\] out of range of 4 data bytes/,
  );
});

Deno.test("decodeSafetensors() rejects overlapping data_offsets", () => {
  assertDecodeError(
    rawFile(
      {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    ),
    /tensor "b" data_offsets overlap those of tensor "a"/,
  );
});

Deno.test("decodeSafetensors() rejects gaps and trailing bytes in the data", () => {
  assertDecodeError(
    rawFile(
      {
        a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      },
      new Uint8Array(12),
    ),
    /gap in tensor data before tensor "b"/,
  );
  assertDecodeError(
    rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
    /4 trailing bytes/,
  );
});

Deno.test("decodeSafetensors() rejects data_offsets that disagree with shape and dtype", () => {
  assertDecodeError(
    rawFile({ w: { dtype: "I32", shape: [2, 2], data_offsets: [0, 12] } }, new Uint8Array(12)),
    /tensor "w" has data_offsets \[0, 12\] spanning 12 bytes but I32 shape \[2, 2\] needs 16/,
  );
});

Deno.test("decodeSafetensors() rejects metadata values that are not strings", () => {
  assertDecodeError(rawFile({ __metadata__: { epoch: 3 } }), /metadata value for "epoch" is not a string/);
  assertDecodeError(rawFile({ __metadata__: ["x"] }), /"__metadata__" is not an object/);
});

Deno.test("decodeSafetensors() keeps a tensor named __proto__ as an ordinary key", () => {
  // A raw JSON string, because an object literal's __proto__ key would set the prototype instead.
  const bytes = rawFile('{"__proto__": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(4));
  const { tensors } = decodeSafetensors(bytes, "mem");
  assert.ok(Object.hasOwn(tensors, "__proto__"));
  assert.deepEqual(Object.keys(tensors), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(tensors), Object.prototype);

  const again = decodeSafetensors(encodeSafetensors(tensors), "mem").tensors;
  assert.deepEqual(Object.keys(again), ["__proto__"]);
});

Deno.test("writeFileAtomic() replaces an existing file and leaves no temp files behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.safetensors`;
    await Deno.writeTextFile(path, "old contents that are longer than the new ones");
    const bytes = encodeSafetensors(sample(), { step: "1" });
    await writeFileAtomic(path, bytes);
    assert.deepEqual(await Deno.readFile(path), bytes);
    await writeFileAtomic(path, "text");
    assert.equal(await Deno.readTextFile(path), "text");
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["model.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() creates a missing parent directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/state.json`;
    await writeFileAtomic(path, "{}");
    assert.equal(await Deno.readTextFile(path), "{}");
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/a/b`)) names.push(entry.name);
    assert.deepEqual(names, ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() removes its temp file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A non-empty directory at the target path makes the rename fail after the temp file is written.
    const path = `${dir}/target`;
    await Deno.mkdir(`${path}/inside`, { recursive: true });
    await assert.rejects(writeFileAtomic(path, "data"));
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["target"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
