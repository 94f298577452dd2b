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
  try {
    const { overrides, rest } = parseOverrides(sections, args);
    const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    return { values, positionals, overrides };
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!.replace(/\. To specify a positional.*$/, ""));
  }
}

/** The backend flags every entry point takes; pass them to {@link parseCommandLine} and read them with {@link backendOptions}. */
export const BACKEND_FLAGS = {
  backend: { type: "string", default: "wasm" },
  threads: { type: "string" },
  blas: { type: "string", default: "auto" },
} as const;

/** Help lines for {@link BACKEND_FLAGS}. */
export const BACKEND_HELP = `  --backend NAME     wasm (default), cpu or tensorflow (needs @tensorflow/tfjs-node)
  --blas MODE        native OpenBLAS behind the wasm matmuls: auto (default: when installed), on (required), off
  --threads N        wasm threads without BLAS, OpenBLAS threads with it (default: the machine's cores)`;

/**
 * Backend options from the values of {@link BACKEND_FLAGS}.
 * @throws UsageError naming the flag with a bad value
 */
export function backendOptions(values: { backend: string; blas: string; threads?: string }): BackendOptions {
  if (!["wasm", "cpu", "tensorflow"].includes(values.backend)) {
    throw new UsageError(`--backend must be wasm, cpu or tensorflow, got '${values.backend}'`);
  }
  if (!["auto", "on", "off"].includes(values.blas)) {
    throw new UsageError(`--blas must be auto, on or off, got '${values.blas}'`);
  }
  const options: BackendOptions = {
    backend: values.backend as NonNullable<BackendOptions["backend"]>,
    blas: values.blas as NonNullable<BackendOptions["blas"]>,
  };
  if (values.threads !== undefined) {
    const n = Number(values.threads);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`--threads must be a positive integer, got '${values.threads}'`);
    }
    options.threads = n;
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
