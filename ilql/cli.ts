/**
 * Command-line plumbing shared by the project's entry points: `node:util` parseArgs for the tool's own flags,
 * `--section.key=value` config overrides, and one-line errors with a non-zero exit code.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
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
