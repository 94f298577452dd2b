/**
 * The hidden-country game's knowledge: the UN member states of the `world-countries` package (read from the
 * package, never copied), reduced to the attributes the answerer talks about.
 * @module
 */
import worldCountries from "world-countries";

/** One country as the game knows it. */
export interface Country {
  /** Common English name ("Peru"). */
  name: string;
  /** Other names a question may use (official name, long alternative spellings). */
  aliases: string[];
  /** "Africa", "Americas", "Asia", "Europe" or "Oceania". */
  region: string;
  /** e.g. "South America". */
  subregion: string;
  capital: string;
  /** Official languages, English names. */
  languages: string[];
  /** Common names of the countries with a land border. */
  borders: string[];
  landlocked: boolean;
  /** Square kilometres. */
  area: number;
  latitude: number;
  longitude: number;
}

interface Raw {
  name: { common: string; official: string };
  altSpellings?: string[];
  cca3: string;
  unMember: boolean;
  region: string;
  subregion: string;
  capital?: string[];
  languages?: Record<string, string>;
  borders?: string[];
  landlocked: boolean;
  area: number;
  latlng: [number, number];
}

let cache: Country[] | null = null;
let byName: Map<string, Country> | null = null;

/** The 193 UN member states (+ those the package marks as members), sorted by name. Loaded once. */
export function countries(): readonly Country[] {
  if (cache !== null) return cache;
  const raw = (worldCountries as unknown as Raw[]).filter((c) => c.unMember);
  const byCode = new Map(raw.map((c) => [c.cca3, c.name.common]));
  cache = raw.map((c) => ({
    name: c.name.common,
    aliases: [c.name.official, ...(c.altSpellings ?? [])].filter((a) => a.length > 3 && a !== c.name.common),
    region: c.region,
    subregion: c.subregion,
    capital: c.capital?.[0] ?? c.name.common,
    languages: Object.values(c.languages ?? {}),
    // borders with non-members (e.g. Western Sahara) are dropped: they could never be guessed
    borders: (c.borders ?? []).flatMap((b) => byCode.has(b) ? [byCode.get(b)!] : []).sort(),
    landlocked: c.landlocked,
    area: c.area,
    latitude: c.latlng[0],
    longitude: c.latlng[1],
  })).sort((a, b) => a.name.localeCompare(b.name));
  return cache;
}

/** The country of a common name (undefined for another name). */
export function countryByName(name: string): Country | undefined {
  byName ??= new Map(countries().map((c) => [c.name, c]));
  return byName.get(name);
}

/** First letter of a name, accents removed, upper case ("Ö…" → "O"). */
export function initialOf(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "")[0]!.toUpperCase();
}

/** A region or subregion as said in a sentence ("in the Americas", "in the Caribbean", "in Europe"). */
export function placePhrase(place: string): string {
  return place === "Americas" || place === "Caribbean" ? `the ${place}` : place;
}
