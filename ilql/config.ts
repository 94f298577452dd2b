/**
 * Typed configuration records. Each component declares a spec: one field per key with a doc line, a default and a
 * parser. The record type is derived from the spec, so docs, defaults and checks live in one place. Overrides come
 * from code (`resolveConfig`) or the command line (`--ilql.expectile=0.9`); unknown keys and wrong types throw with
 * the key named.
 * @module
 */

/** One config field: its doc line, default, and how to read it from a string or check a value. */
export interface Field<T> {
  doc: string;
  default: T;
  /** Human-readable type, for help and error messages. */
  type: string;
  /** Checks a value given in code or JSON; throws a message (without the key) when it does not fit. */
  check(value: unknown): T;
  /** Reads a value from the command line. */
  parse(raw: string): T;
}

/** A component's config spec: key → field. */
export type ConfigSpec = Record<string, Field<unknown>>;

/** The record type a spec describes. */
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

interface NumberRange {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
}

function checkRange(value: number, range: NumberRange): number {
  if (range.min !== undefined && value < range.min) throw new Error(`must be >= ${range.min}, got ${value}`);
  if (range.max !== undefined && value > range.max) throw new Error(`must be <= ${range.max}, got ${value}`);
  if (range.above !== undefined && value <= range.above) throw new Error(`must be > ${range.above}, got ${value}`);
  return value;
}

function parseNumber(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) throw new Error(`expected a number, got '${raw}'`);
  return value;
}

/** A finite number field. */
export function num(doc: string, def: number, range: NumberRange = {}): Field<number> {
  const check = (v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`expected a finite number, got ${show(v)}`);
    return checkRange(v, range);
  };
  return { doc, default: def, type: "number", check, parse: (raw) => check(parseNumber(raw)) };
}

/** An integer field. */
export function int(doc: string, def: number, range: NumberRange = {}): Field<number> {
  const check = (v: unknown) => {
    if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`expected an integer, got ${show(v)}`);
    return checkRange(v, range);
  };
  return { doc, default: def, type: "integer", check, parse: (raw) => check(parseNumber(raw)) };
}

/** A number field where `null` (written `none` on the command line) switches the feature off. */
export function optionalNum(doc: string, def: number | null, range: NumberRange = {}): Field<number | null> {
  const inner = num(doc, 0, range);
  const check = (v: unknown) => (v === null ? null : inner.check(v));
  return {
    doc,
    default: def,
    type: "number|none",
    check,
    parse: (raw) => (raw === "none" || raw === "null" ? null : inner.parse(raw)),
  };
}

/** A boolean field (`true`/`false`). */
export function bool(doc: string, def: boolean): Field<boolean> {
  const check = (v: unknown) => {
    if (typeof v !== "boolean") throw new Error(`expected true or false, got ${show(v)}`);
    return v;
  };
  const parse = (raw: string) => {
    if (raw === "true") return true;
    if (raw === "false") return false;
    throw new Error(`expected true or false, got '${raw}'`);
  };
  return { doc, default: def, type: "boolean", check, parse };
}

/** A field that takes one of a fixed set of strings. */
export function choice<const C extends readonly string[]>(doc: string, def: C[number], choices: C): Field<C[number]> {
  const check = (v: unknown) => {
    if (typeof v !== "string" || !choices.includes(v)) {
      throw new Error(`expected one of ${choices.join(", ")}, got ${show(v)}`);
    }
    return v as C[number];
  };
  return { doc, default: def, type: choices.join("|"), check, parse: check };
}

/** A free-form string field. */
export function str(doc: string, def: string): Field<string> {
  const check = (v: unknown) => {
    if (typeof v !== "string") throw new Error(`expected a string, got ${show(v)}`);
    return v;
  };
  return { doc, default: def, type: "string", check, parse: check };
}

function show(v: unknown): string {
  if (typeof v === "string") return `'${v.length > 40 ? v.slice(0, 40) + "…" : v}'`;
  if (v === undefined) return "nothing";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "function") return "a function";
  try {
    const text = JSON.stringify(v);
    return text.length > 60 ? text.slice(0, 60) + "…" : text;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** The defaults of a spec. */
export function defaultsOf<S extends ConfigSpec>(spec: S): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) out[key] = field.default;
  return out as ConfigOf<S>;
}

/**
 * Defaults of `spec` overridden by `overrides`; `section` prefixes keys in messages (e.g. `ilql`).
 * @throws on an unknown key or a value of the wrong type, naming the key
 */
export function resolveConfig<S extends ConfigSpec>(
  spec: S,
  overrides: Record<string, unknown> = {},
  section = "",
): ConfigOf<S> {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new Error(`Config ${section || "record"} must be an object, got ${show(overrides)}`);
  }
  const out = defaultsOf(spec) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const field = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (field === undefined) throw new Error(unknownKey(spec, key, section));
    try {
      out[key] = field.check(value);
    } catch (e) {
      throw new Error(`Config key '${qualified(section, key)}' ${(e as Error).message}`);
    }
  }
  return out as ConfigOf<S>;
}

function qualified(section: string, key: string): string {
  return section ? `${section}.${key}` : key;
}

function unknownKey(spec: ConfigSpec, key: string, section: string): string {
  const near = Object.keys(spec).filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  const hint = near.length > 0 ? ` (did you mean '${qualified(section, near[0]!)}'?)` : "";
  return `Unknown config key '${qualified(section, key)}'${hint}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Sections of a composite config, e.g. `{ model: MODEL_SPEC, ilql: ILQL_SPEC }`. */
export type SectionSpecs = Record<string, ConfigSpec>;

/** The composite record type of several sections. */
export type SectionsOf<T extends SectionSpecs> = { [K in keyof T]: ConfigOf<T[K]> };

/**
 * Parses `--section.key=value` (or `--section.key value`) arguments into per-section overrides, checked against
 * the specs. Arguments that are not config keys are returned in `rest` untouched.
 * @throws on an unknown `section.key`, a missing value or a value of the wrong type
 */
export function parseOverrides(
  sections: SectionSpecs,
  args: readonly string[],
): { overrides: Record<string, Record<string, unknown>>; rest: string[] } {
  const overrides: Record<string, Record<string, unknown>> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--([A-Za-z_][\w-]*)\.([\w.-]+?)(?:=(.*))?$/s.exec(arg);
    if (m === null || !Object.hasOwn(sections, m[1]!)) {
      rest.push(arg);
      continue;
    }
    const [, section, key, inline] = m as unknown as [string, string, string, string | undefined];
    const spec = sections[section]!;
    const field = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (field === undefined) throw new Error(unknownKey(spec, key, section));
    let raw = inline;
    if (raw === undefined) {
      raw = args[i + 1];
      if (raw === undefined || raw.startsWith("--")) throw new Error(`Config key '${section}.${key}' needs a value`);
      i++;
    }
    try {
      (overrides[section] ??= {})[key] = field.parse(raw);
    } catch (e) {
      throw new Error(`Config key '${section}.${key}' ${(e as Error).message}`);
    }
  }
  return { overrides, rest };
}

/** Resolves every section from its defaults and the given overrides. */
export function resolveSections<T extends SectionSpecs>(
  sections: T,
  overrides: Record<string, Record<string, unknown>> = {},
): SectionsOf<T> {
  for (const name of Object.keys(overrides)) {
    if (!Object.hasOwn(sections, name)) throw new Error(`Unknown config section '${name}'`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(sections)) out[name] = resolveConfig(spec, overrides[name] ?? {}, name);
  return out as SectionsOf<T>;
}

/** `--help` text for config sections: one line per key with type, default and doc. */
export function formatConfigHelp(sections: SectionSpecs): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(sections)) {
    lines.push(`  ${name}:`);
    for (const [key, field] of Object.entries(spec)) {
      const def = field.default === null ? "none" : String(field.default);
      lines.push(`    --${name}.${key}=<${field.type}>  (default ${def})  ${field.doc}`);
    }
  }
  return lines.join("\n");
}
