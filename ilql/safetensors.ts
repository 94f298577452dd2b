/**
 * A small, dependency-free reader and writer for the safetensors file format
 * (https://github.com/huggingface/safetensors), limited to the F32 and I32 dtypes the project stores.
 *
 * Layout: an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON header
 * (space-padded to a multiple of 8 so the data that follows stays aligned), then the raw little-endian
 * tensor bytes, contiguous and without gaps. The header maps each tensor name to
 * `{"dtype", "shape", "data_offsets": [begin, end]}` with offsets relative to the start of the data,
 * plus an optional `"__metadata__"` string → string map.
 *
 * Also provides {@linkcode writeFileAtomic}, so that checkpoints are never observed half-written.
 * @module
 */

/** Element types this implementation reads and writes. */
export type SafetensorsDtype = "F32" | "I32";

/** One tensor as stored in a safetensors file: its dtype, shape and row-major element data. */
export interface StoredTensor {
  /** Element type; must agree with the array type of {@linkcode StoredTensor.data}. */
  dtype: SafetensorsDtype;
  /** Dimensions; `[]` is a scalar (one element), and any zero dimension gives an empty tensor. */
  shape: number[];
  /** Row-major elements; its length must equal the product of `shape`. */
  data: Float32Array | Int32Array;
}

const METADATA_KEY = "__metadata__";
const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, I32: 4 };

// The format is little-endian; typed arrays use host order, so raw byte copies are only valid on
// little-endian hosts and big-endian hosts take the slower DataView path.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function isDtype(value: unknown): value is SafetensorsDtype {
  return value === "F32" || value === "I32";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function checkEncodable(name: string, tensor: StoredTensor): void {
  if (name === "") throw new Error("Tensor name must not be empty");
  if (name === METADATA_KEY) throw new Error(`Tensor name "${METADATA_KEY}" is reserved for metadata`);
  if (!isDtype(tensor.dtype)) throw new Error(`Tensor "${name}" has unsupported dtype ${JSON.stringify(tensor.dtype)}`);
  if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`Tensor "${name}" has invalid shape ${JSON.stringify(tensor.shape)}`);
  }
  const expectedArray = tensor.dtype === "F32" ? Float32Array : Int32Array;
  if (!(tensor.data instanceof expectedArray)) {
    throw new Error(`Tensor "${name}" has dtype ${tensor.dtype} but its data is not a ${expectedArray.name}`);
  }
  const count = elementCount(tensor.shape);
  if (tensor.data.length !== count) {
    throw new Error(
      `Tensor "${name}" has ${tensor.data.length} elements but shape ${formatShape(tensor.shape)} needs ${count}`,
    );
  }
}

function writeLittleEndian(target: Uint8Array, offset: number, data: Float32Array | Int32Array): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    target.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const view = new DataView(target.buffer, target.byteOffset + offset, data.byteLength);
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i]!, true);
  }
}

/**
 * Serializes tensors (in the key order of `tensors`) and optional string metadata into safetensors bytes.
 * @throws Error naming the tensor when a name is empty or reserved, the dtype and array type disagree,
 *   or the data length differs from the product of the shape; or when a metadata value is not a string
 */
export function encodeSafetensors(
  tensors: Record<string, StoredTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const headerEntries: [string, unknown][] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new Error(`Metadata value for "${key}" must be a string, got ${typeof value}`);
      }
    }
    headerEntries.push([METADATA_KEY, Object.fromEntries(Object.entries(metadata))]);
  }

  const names = Object.keys(tensors);
  let dataLength = 0;
  for (const name of names) {
    const tensor = tensors[name]!;
    checkEncodable(name, tensor);
    const begin = dataLength;
    dataLength += tensor.data.byteLength;
    headerEntries.push([name, { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [begin, dataLength] }]);
  }

  // fromEntries defines own properties, so a tensor named "__proto__" is serialized rather than swallowed.
  const headerJson = JSON.stringify(Object.fromEntries(headerEntries));
  const headerRaw = new TextEncoder().encode(headerJson);
  const headerLength = Math.ceil(headerRaw.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(headerRaw, 8);
  out.fill(0x20, 8 + headerRaw.length, 8 + headerLength);

  let offset = 8 + headerLength;
  for (const name of names) {
    const data = tensors[name]!.data;
    writeLittleEndian(out, offset, data);
    offset += data.byteLength;
  }
  return out;
}

function readLittleEndian(
  bytes: Uint8Array,
  start: number,
  end: number,
  dtype: SafetensorsDtype,
): Float32Array | Int32Array {
  // slice() copies into a fresh ArrayBuffer: the result never aliases the input and is 4-byte aligned
  // regardless of where the tensor sits in the file.
  const buffer = bytes.slice(start, end).buffer;
  if (HOST_IS_LITTLE_ENDIAN) return dtype === "F32" ? new Float32Array(buffer) : new Int32Array(buffer);
  const view = new DataView(buffer);
  const count = (end - start) / 4;
  if (dtype === "F32") {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    return data;
  }
  const data = new Int32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getInt32(i * 4, true);
  return data;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

interface ParsedEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, raw: unknown, dataLength: number, fail: (message: string) => never): ParsedEntry {
  if (name === "") fail("tensor name must not be empty");
  if (!isPlainObject(raw)) fail(`tensor "${name}" header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string") fail(`tensor "${name}" has no dtype`);
  if (!isDtype(dtype)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)} (supported: F32, I32)`);
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor "${name}" has invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o): o is number => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) {
    fail(`tensor "${name}" has data_offsets [${begin}, ${end}] out of range of ${dataLength} data bytes`);
  }
  const count = elementCount(shape);
  const expectedBytes = count * BYTES_PER_ELEMENT[dtype];
  if (!Number.isSafeInteger(count) || end - begin !== expectedBytes) {
    fail(
      `tensor "${name}" has data_offsets [${begin}, ${end}] spanning ${end - begin} bytes ` +
        `but ${dtype} shape ${formatShape(shape)} needs ${expectedBytes}`,
    );
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/**
 * Parses and fully validates safetensors bytes. The returned arrays are fresh copies that do not alias `bytes`.
 * @param bytes the whole file
 * @param where prefix for error messages, typically the file path
 * @throws Error whose one-line message starts with `${where}: ` when the file is truncated, the header is not
 *   valid JSON, a dtype is unknown, data_offsets are out of range, overlapping, leave gaps or disagree with the
 *   shape, or a metadata value is not a string
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  where: string,
): { tensors: Record<string, StoredTensor>; metadata: Record<string, string> } {
  const fail = (message: string): never => {
    throw new Error(`${where}: ${oneLine(message)}`);
  };

  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const declaredHeaderLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declaredHeaderLength > BigInt(bytes.length - 8)) {
    fail(`header length ${declaredHeaderLength} is larger than the ${bytes.length - 8} bytes after it`);
  }
  const headerLength = Number(declaredHeaderLength);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  let headerText = "";
  try {
    headerText = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    fail(`header is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isPlainObject(header)) fail("header is not a JSON object");
  const headerObject = header as Record<string, unknown>;

  const metadataEntries: [string, string][] = [];
  const entries: ParsedEntry[] = [];
  for (const [key, raw] of Object.entries(headerObject)) {
    if (key === METADATA_KEY) {
      if (!isPlainObject(raw)) fail(`"${METADATA_KEY}" is not an object`);
      for (const [metaKey, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== "string") fail(`metadata value for "${metaKey}" is not a string`);
        metadataEntries.push([metaKey, value as string]);
      }
    } else {
      entries.push(parseEntry(key, raw, dataLength, fail));
    }
  }

  // The format requires the tensors to tile the data region exactly; anything else means a corrupt or
  // truncated file, which is worth reporting rather than silently reading.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: ParsedEntry | undefined;
  for (const entry of entries) {
    if (entry.begin < cursor) {
      fail(`tensor "${entry.name}" data_offsets overlap those of tensor "${previous!.name}"`);
    }
    if (entry.begin > cursor) fail(`gap in tensor data before tensor "${entry.name}" at byte ${cursor}`);
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataLength) fail(`${dataLength - cursor} trailing bytes after the last tensor's data`);

  const tensorEntries = entries.map((e): [string, StoredTensor] => [
    e.name,
    { dtype: e.dtype, shape: e.shape, data: readLittleEndian(bytes, dataStart + e.begin, dataStart + e.end, e.dtype) },
  ]);
  // fromEntries defines own properties, so names such as "__proto__" survive as ordinary keys.
  return { tensors: Object.fromEntries(tensorEntries), metadata: Object.fromEntries(metadataEntries) };
}

let tempCounter = 0;

function parentDirectory(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (cut < 0) return undefined;
  return cut === 0 ? path.slice(0, 1) : path.slice(0, cut);
}

/**
 * Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a process killed
 * mid-write leaves either the old file or the new one, never a truncated one. Creates the parent directory if
 * missing and removes the temporary file if writing fails.
 * @param bytes file contents; a string is written as UTF-8
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = parentDirectory(path);
  if (dir !== undefined) await Deno.mkdir(dir, { recursive: true });
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  // pid plus a counter keeps concurrent writers (other processes or overlapping calls) off each other's temp files.
  const tempPath = `${path}.tmp-${Deno.pid}-${tempCounter++}`;
  try {
    await Deno.writeFile(tempPath, data);
    await Deno.rename(tempPath, path);
  } catch (error) {
    try {
      await Deno.remove(tempPath);
    } catch {
      // Already gone or never created; the original error is the one worth reporting.
    }
    throw error;
  }
}
