/**
 * Command-line plumbing shared by the project's entry points: `node:util` parseArgs for the tool's own flags,
 * `--section.key=value` config overrides, and one-line errors with a non-zero exit code.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { BackendOptions } from "./backend.ts";
import { parseOverrides, type SectionSpecs } from "./config.ts";

/** Raised for bad command-line input; reported as one line with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed flags, positionals and per-section config overrides. */
export interface ParsedCommandLine<V> {
  values: V;
  positionals: string[];
  overrides: Record<string, Record<string, unknown>>;
}

/**
 * Splits `args` into config overrides (for `sections`) and the tool's own flags (`options`, parsed strictly).
 * @throws UsageError naming the unknown flag or config key, or the bad value
 */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: O,
  sections: SectionSpecs,
) {
  let split;
  try {
    split = parseOverrides(sections, args);
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
  const { values, positionals } = parseFlags(split.rest, options);
  return { values, positionals, overrides: split.overrides };
}

/**
 * `node:util` parseArgs, strict, with errors as one-line usage errors. A value that starts with a dash but reads as
 * a number (`--games -3`) is taken as the flag's value, so that the flag's own check can say what is wrong with it
 * (parseArgs alone calls it "ambiguous").
 * @throws UsageError naming the unknown flag or the flag without a value
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: O,
  allowPositionals = true,
) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!, next = args[i + 1];
    const name = flag.startsWith("--") ? flag.slice(2) : null;
    if (name !== null && options[name]?.type === "string" && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${flag}=${next}`);
      i++;
    } else joined.push(flag);
  }
  try {
    return parseArgs({ args: joined, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!.replace(/\. To specify a positional.*$/, ""));
  }
}

/** The backend flags every entry point takes; pass them to {@link parseCommandLine} and read them with {@link backendOptions}. */
export const BACKEND_FLAGS = {
  backend: { type: "string", default: "wasm" },
  threads: { type: "string" },
  blas: { type: "string", default: "auto" },
  kernels: { type: "string", default: "pinned" },
} as const;

/** Help lines for {@link BACKEND_FLAGS}. */
export const BACKEND_HELP = `  --backend NAME     wasm (default), cpu or tensorflow (needs @tensorflow/tfjs-node)
  --blas MODE        native OpenBLAS behind the wasm matmuls: auto (default: when installed), on (required), off
  --threads N        wasm threads without BLAS, OpenBLAS threads with it (default: 1 OpenBLAS thread when pinned,
                     else the machine's cores)
  --kernels MODE     pinned (default): OpenBLAS's AVX2 (Haswell) kernels and 1 thread, so results have the same
                     digits on every x86-64 machine with AVX2; native: the fastest kernels and threads for this CPU`;

/**
 * A flag's value as a positive integer.
 * @throws UsageError naming the flag and the value otherwise
 */
export function positiveIntFlag(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${raw}'`);
  return n;
}

/**
 * Backend options from the values of {@link BACKEND_FLAGS}.
 * @throws UsageError naming the flag with a bad value
 */
export function backendOptions(
  values: { backend: string; blas: string; kernels: string; threads?: string },
): BackendOptions {
  if (!["wasm", "cpu", "tensorflow"].includes(values.backend)) {
    throw new UsageError(`--backend must be wasm, cpu or tensorflow, got '${values.backend}'`);
  }
  if (!["auto", "on", "off"].includes(values.blas)) {
    throw new UsageError(`--blas must be auto, on or off, got '${values.blas}'`);
  }
  if (!["pinned", "native"].includes(values.kernels)) {
    throw new UsageError(`--kernels must be pinned or native, got '${values.kernels}'`);
  }
  const options: BackendOptions = {
    backend: values.backend as NonNullable<BackendOptions["backend"]>,
    blas: values.blas as NonNullable<BackendOptions["blas"]>,
    kernels: values.kernels as NonNullable<BackendOptions["kernels"]>,
  };
  if (values.threads !== undefined) {
    options.threads = positiveIntFlag(values.threads, "--threads");
  }
  return options;
}

/** Runs an entry point: errors become `error: <message>` on one line and exit code 2 (usage) or 1 (failure). */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`error: ${message.split("\n")[0]}`);
    const canReadEnv = Deno.permissions.querySync({ name: "env", variable: "ILQL_DEBUG" }).state === "granted";
    if (canReadEnv && Deno.env.get("ILQL_DEBUG") && e instanceof Error) console.error(e.stack);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
