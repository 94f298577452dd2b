/**
 * Wordle episodes and offline datasets (spec 8.1.3). A game is serialised as the reference does: the agent speaks
 * first, each guess is an action (−1, or 0 for the solving guess) followed by its colours as a state segment; an
 * invalid guess gets no colours.
 *
 * - `mixedDataset`: the natural setting, games of a per-move mixture of a random vocabulary word (50 %) and a
 *   random consistent word (50 %).
 * - `lavaDataset`: the paper's section-5 dataset. Per iteration: one expert game (the information player, opening
 *   with one of the vocabulary's 28 most informative words, as the reference draws from its fixed list of 28); if it
 *   lasts at least three guesses, five continuations from its state after two guesses that repeat one of those two
 *   words until the game is lost ("lava"); and five mixture games. Episodes carry `meta` for the Q-ranking
 *   diagnostic: `kind` (expert, adversarial, suboptimal), the answer, and the branch state/action pairs.
 * - `habitDataset`: suboptimal play that is systematic, not noise: per game, a player with fixed bad habits (share
 *   `habitShare`, default 60 %: always opens with the vocabulary's least informative word and then reads only the
 *   green letters) or a random consistent-word player (the rest, opening with any word). Greedy BC copies the majority's
 *   opener and with it the habit; the better play is in the data, one opener away.
 * @module
 */
import type { Episode, Segment } from "../../ilql/episode.ts";
import type { Prng } from "../../ilql/prng.ts";
import {
  type ColourRule,
  coloursText,
  isWord,
  MAX_GUESSES,
  parseColours,
  type Turn,
  WORD_LENGTH,
  WordleEnv,
} from "./game.ts";
import {
  bestOpeners,
  ConsistentPlayer,
  GreensOnlyPlayer,
  InfoPlayer,
  MixturePlayer,
  OpenerPlayer,
  type Player,
  RandomPlayer,
  RepeatPlayer,
  worstOpener,
} from "./players.ts";

/** Diagnostic metadata of a lava-dataset episode. */
export interface WordleMeta {
  kind: "expert" | "adversarial" | "suboptimal" | "mixed" | "habit" | "consistent";
  answer: string;
  /** Guesses before the branch point (two for the lava branch) and the guess played there. */
  branch?: { before: string[]; action: string };
}

/** An episode with its Wordle metadata. */
export interface WordleEpisode extends Episode {
  meta: WordleMeta;
}

/** The episode of a finished game. */
export function gameEpisode(turns: readonly Turn[], answer: string, meta: WordleMeta): WordleEpisode {
  const segments: Segment[] = [];
  for (const t of turns) {
    segments.push({ kind: "action", text: t.guess, reward: t.guess === answer ? 0 : -1 });
    if (t.colours !== null) segments.push({ kind: "state", text: coloursText(t.colours) });
  }
  return { segments, terminal: true, meta };
}

/** The turns of a dialogue history (the inverse of `gameEpisode`'s serialisation). */
export function turnsFromSegments(segments: readonly Segment[]): Turn[] {
  const turns: Turn[] = [];
  for (const seg of segments) {
    if (seg.kind === "action") turns.push({ guess: seg.text, colours: null });
    else {
      const last = turns[turns.length - 1];
      if (last === undefined || last.colours !== null) throw new Error(`unexpected observation '${seg.text}'`);
      last.colours = parseColours(seg.text);
    }
  }
  return turns;
}

/** Plays `player` in `env` from its current reset state (after `opening` guesses, if given) to the end. */
export function playGame(env: WordleEnv, player: Player, prng: Prng, opening: readonly string[] = []): Turn[] {
  env.reset();
  let done = false;
  for (const g of opening) done = env.step(g).done;
  while (!done) done = env.step(player.guess(env.turns, prng)).done;
  return [...env.turns];
}

/** Word lists and rules a dataset is made from. */
export interface DatasetSource {
  /** Hidden words are drawn from these; the players' vocabulary. */
  answers: readonly string[];
  /** Every accepted guess. */
  allowed: readonly string[];
  rule: ColourRule;
}

function envFor(source: DatasetSource, prng: Prng, schedule?: string[]): WordleEnv {
  return new WordleEnv({
    answers: source.answers,
    allowed: new Set(source.allowed),
    prng,
    rule: source.rule,
    ...(schedule ? { schedule } : {}),
  });
}

/**
 * The natural-setting player (the reference's `RandomMixturePolicy`): per move, a random word of the vocabulary or
 * a random vocabulary word consistent with the feedback so far.
 */
export function mixturePlayer(source: DatasetSource, smartFraction = 0.5): Player {
  return new MixturePlayer([
    [new ConsistentPlayer(source.answers, source.rule), smartFraction],
    [new RandomPlayer(source.answers), 1 - smartFraction],
  ]);
}

/** `games` games of the mixture player. */
export function mixedDataset(source: DatasetSource, games: number, prng: Prng, smartFraction = 0.5): WordleEpisode[] {
  const env = envFor(source, prng);
  const player = mixturePlayer(source, smartFraction);
  return Array.from({ length: games }, () => {
    const turns = playGame(env, player, prng);
    return gameEpisode(turns, env.answer, { kind: "mixed", answer: env.answer });
  });
}

/**
 * The habit player of {@link habitDataset}: `opener` (default: the vocabulary's least informative word), then green
 * letters only.
 */
export function habitPlayer(source: DatasetSource, opener = worstOpener(source.answers, source.rule)): Player {
  return new OpenerPlayer([opener], new GreensOnlyPlayer(source.answers));
}

/**
 * `games` games, each by the habit player (share `habitShare`, opening with `opener`) or a random consistent-word
 * player; `kind` says which.
 */
export function habitDataset(
  source: DatasetSource,
  games: number,
  prng: Prng,
  habitShare = 0.6,
  opener = worstOpener(source.answers, source.rule),
): WordleEpisode[] {
  if (!(habitShare >= 0 && habitShare <= 1)) throw new Error(`habitShare must be in [0, 1], got ${habitShare}`);
  const env = envFor(source, prng);
  const habit = habitPlayer(source, opener);
  const consistent = new ConsistentPlayer(source.answers, source.rule);
  return Array.from({ length: games }, () => {
    const kind = prng.next() < habitShare ? "habit" : "consistent";
    const turns = playGame(env, kind === "habit" ? habit : consistent, prng);
    return gameEpisode(turns, env.answer, { kind, answer: env.answer });
  });
}

/** How many of the vocabulary's most informative words the lava data's expert opens with (the reference's list has 28). */
export const LAVA_OPENERS = 28;

/**
 * The section-5 dataset: `iterations` × (1 expert game, 5 repeat continuations from its state after two guesses when
 * it has at least 3 guesses, 5 mixture games). The expert opens with one of `openers` (default: the vocabulary's
 * {@link LAVA_OPENERS} most informative words).
 */
export function lavaDataset(
  source: DatasetSource,
  iterations: number,
  prng: Prng,
  openers = bestOpeners(source.answers, source.rule, LAVA_OPENERS),
): WordleEpisode[] {
  const expert = new OpenerPlayer(openers, new InfoPlayer(source.answers, source.rule));
  const mixture = mixturePlayer(source);
  const out: WordleEpisode[] = [];
  for (let it = 0; it < iterations; it++) {
    const env = envFor(source, prng);
    const turns = playGame(env, expert, prng);
    const answer = env.answer;
    const before = turns.slice(0, 2).map((t) => t.guess);
    const expertMeta: WordleMeta = { kind: "expert", answer };
    const branches = turns.length >= 3;
    if (branches) expertMeta.branch = { before, action: turns[2]!.guess };
    out.push(gameEpisode(turns, answer, expertMeta));
    if (branches) {
      const repeat = new RepeatPlayer(expert, 2);
      const branchEnv = envFor(source, prng, Array(5).fill(answer));
      for (let k = 0; k < 5; k++) {
        const lava = playGame(branchEnv, repeat, prng, before);
        out.push(
          gameEpisode(lava, answer, { kind: "adversarial", answer, branch: { before, action: lava[2]!.guess } }),
        );
      }
    }
    for (let k = 0; k < 5; k++) {
      const game = playGame(env, mixture, prng);
      out.push(gameEpisode(game, env.answer, { kind: "suboptimal", answer: env.answer }));
    }
  }
  return out;
}

/** Checks that a Wordle episode only has guesses and colour observations, naming the problem. */
export function checkWordleEpisode(episode: Episode, where: string): void {
  let guesses = 0;
  let previous: Episode["segments"][number] | null = null;
  for (const seg of episode.segments) {
    if (seg.kind === "action") {
      guesses++;
      if (!/^[a-z]*$/.test(seg.text)) throw new Error(`${where}: guess '${seg.text}' must be lowercase letters a–z`);
    } else {
      // the game answers only a guess, and only a valid one (a five-letter word), with one colour per letter
      if (previous?.kind !== "action") {
        throw new Error(`${where}: colour feedback '${seg.text}' must follow a guess`);
      }
      try {
        parseColours(seg.text);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      if (!isWord(previous.text)) {
        throw new Error(
          `${where}: guess '${previous.text}' has ${previous.text.length} letters but is answered with ${WORD_LENGTH} colours (only five-letter words get feedback)`,
        );
      }
    }
    previous = seg;
  }
  if (guesses > MAX_GUESSES) throw new Error(`${where}: ${guesses} guesses, more than ${MAX_GUESSES}`);
}
