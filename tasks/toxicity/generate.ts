/**
 * A seeded generator of synthetic forum threads, standing in for the paper's Reddit corpus (which cannot be
 * downloaded here). **The text is synthetic**: a parent post on one of twelve topics (a question 40 %, an opinion
 * 40 %, or a story 20 %: "Someone called my code "stupid". Was that fair?") and a reply assembled from parts: a
 * stance toward an opinion (agree, disagree, neutral), a register (polite 42 %, neutral 25 %, sarcastic 8 %, rude
 * without profanity 15 %, profane 10 %), content (a fact on the parent's topic, mostly the one that answers it; a
 * fact on another topic; a personal remark; or nothing) and a sign-off. Rude and profane words are drawn from the
 * `cuss` lexicon (a hand-picked set of generic insults and swear words, each checked against the lexicon; no
 * slurs), some written obfuscated ("f*ck") as people do.
 *
 * Whether a reply is toxic depends on its thread, as the reward reads it (`reward.ts`): the same word is harmless
 * in one thread and an insult in another ("a drop of thread locker keeps a screw tight" answers a question about
 * a loose screw; elsewhere "screw" is an insult, and "Screw you and your question." is one everywhere); a story's
 * replies quote its insult (harmless) or repeat it at the poster (toxic); praise is sarcasm in reply to a question
 * ("Wow, genius question.") and praise after agreeing with an opinion.
 *
 * The upvote score depends on observable qualities of the reply plus noise: +3.5 for a fact on the parent's topic,
 * −1 for an off-topic fact, +1 polite, −1.5 sarcastic, −2 rude, −3 profane, ±0.5 for agreeing or disagreeing with
 * an opinion, +2.5 for a blunt correction (a rude disagreement with an on-topic fact: rude replies that are
 * upvoted), −1, + N(0, 1.5); positive values are stretched (eˣ − 1) like real vote counts.
 * @module
 */
import { cuss } from "cuss";
import type { Prng } from "../../ilql/prng.ts";
import type { Thread } from "./threads.ts";

interface Topic {
  name: string;
  /** What a story parent says someone insulted ("my code"). */
  thing: string;
  questions: string[];
  opinions: string[];
  facts: string[];
}

const TOPICS: Topic[] = [
  {
    name: "cooking",
    thing: "cooking",
    questions: [
      "how do I keep rice from getting sticky",
      "what is the best pan for searing steak",
      "how long should bread dough rise",
      "how do I crack an egg without getting shell in the bowl",
    ],
    opinions: [
      "cast iron is overrated",
      "recipes should list weights, not cups",
      "garlic powder is as good as fresh garlic",
    ],
    facts: [
      "rinsing the rice removes the surface starch",
      "a hot cast iron pan gives the best crust",
      "dough is ready when it doubles in size",
      "salt the pasta water well",
      "let the meat rest before cutting it",
      "crack the egg on a flat surface, not on the rim",
    ],
  },
  {
    name: "programming",
    thing: "code",
    questions: [
      "which language should I learn first",
      "how do I get better at debugging",
      "are unit tests worth the time",
    ],
    opinions: ["tabs are better than spaces", "most code comments are useless", "static types slow you down"],
    facts: [
      "small functions are easier to test",
      "a debugger beats print statements for tricky bugs",
      "Python is a friendly first language",
      "version control saves you from lost work",
      "reading other people's code teaches a lot",
    ],
  },
  {
    name: "gardening",
    thing: "garden",
    questions: [
      "why are my tomato leaves turning yellow",
      "when should I plant garlic",
      "how often should I water succulents",
      "why did a murder of crows dig up my seeds",
    ],
    opinions: ["lawns are a waste of water", "raised beds are not worth the cost", "compost bins always smell"],
    facts: [
      "yellow leaves often mean too much water",
      "garlic goes in the ground in autumn",
      "succulents like to dry out between waterings",
      "mulch keeps the soil moist",
      "tomatoes need full sun",
      "a murder of crows will dig up fresh seeds, so cover them with a net",
    ],
  },
  {
    name: "cycling",
    thing: "bike",
    questions: [
      "what tire pressure should I run",
      "is a road bike good for commuting",
      "how do I stop my chain from squeaking",
      "why does the screw on my fender keep coming loose",
    ],
    opinions: ["helmets should be mandatory", "electric bikes are cheating", "clipless pedals are not worth it"],
    facts: [
      "wider tires can run lower pressure",
      "a clean chain needs only a little oil",
      "fenders make commuting in the rain much nicer",
      "a good lock matters more than a light bike",
      "check your brakes before every long ride",
      "a drop of thread locker keeps a screw tight",
    ],
  },
  {
    name: "movies",
    thing: "movie review",
    questions: [
      "what is a good movie for a rainy night",
      "are old black and white films worth watching",
      "which director should I start with",
    ],
    opinions: ["sequels are always worse", "movies are too long these days", "subtitles are better than dubbing"],
    facts: [
      "the original film was shot on a tiny budget",
      "many classics hold up surprisingly well",
      "watching with subtitles keeps the original voices",
      "the director's cut adds twenty minutes",
      "the score was written before filming",
    ],
  },
  {
    name: "music",
    thing: "guitar playing",
    questions: ["how do I start learning guitar", "what headphones are good for mixing", "how can I find new bands"],
    opinions: ["vinyl sounds better than streaming", "music theory kills creativity", "live albums beat studio albums"],
    facts: [
      "practicing ten minutes a day beats one long session",
      "open back headphones give a more natural sound",
      "local shows are a great way to find new bands",
      "learning a few chords gets you far",
      "a metronome builds steady timing",
    ],
  },
  {
    name: "fitness",
    thing: "workout plan",
    questions: [
      "how often should I lift weights",
      "is running bad for your knees",
      "what should I eat after a workout",
      "are medicine balls worth buying",
    ],
    opinions: ["stretching before running is pointless", "gyms are a waste of money", "cardio is better than weights"],
    facts: [
      "muscles need rest days to grow",
      "running on soft ground is easier on the knees",
      "protein after a workout helps recovery",
      "sleep matters as much as training",
      "good form prevents most injuries",
      "medicine balls are great for core work",
    ],
  },
  {
    name: "travel",
    thing: "travel plan",
    questions: ["how do I find cheap flights", "is it safe to travel alone", "what should I pack for a week away"],
    opinions: ["guided tours are boring", "hostels are better than hotels", "travel insurance is a scam"],
    facts: [
      "flights are often cheaper midweek",
      "a small backpack forces you to pack light",
      "trains are relaxing for short trips",
      "learning a few local words goes a long way",
      "booking early saves money in summer",
    ],
  },
  {
    name: "pets",
    thing: "dog training",
    questions: ["how do I stop my dog from barking", "what do cats need to stay happy", "is it hard to keep a rabbit"],
    opinions: ["cats are better than dogs", "pet insurance is not worth it", "dogs should be allowed in restaurants"],
    facts: [
      "dogs bark less when they get enough exercise",
      "cats love a high place to sit",
      "rabbits need space and company",
      "regular vet checks catch problems early",
      "treats work better than punishment",
    ],
  },
  {
    name: "games",
    thing: "chess",
    questions: [
      "what board game is good for beginners",
      "is a console better than a gaming pc",
      "how do I get better at chess",
    ],
    opinions: ["mobile games are not real games", "single player games are dying", "speedrunning is boring to watch"],
    facts: [
      "simple card games are easy to teach",
      "a pc lets you upgrade parts over time",
      "studying endgames improves chess quickly",
      "playing with friends is more fun",
      "short sessions help avoid burnout",
    ],
  },
  {
    name: "science",
    thing: "science project",
    questions: [
      "why is the sky blue",
      "how do vaccines work",
      "what causes the seasons",
      "how does a vacuum pump suck the air out of a jar",
    ],
    opinions: [
      "space exploration is a waste of money",
      "nuclear power is too dangerous",
      "everyone should learn basic statistics",
    ],
    facts: [
      "blue light scatters more in the air",
      "vaccines train the immune system",
      "the tilt of the earth causes the seasons",
      "the sun is a very ordinary star",
      "water expands when it freezes",
      "a small pump can suck out most of the air in a few minutes",
    ],
  },
  {
    name: "money",
    thing: "budget",
    questions: ["how much should I save each month", "is it smart to rent or buy", "how do I start investing"],
    opinions: ["credit cards are always a bad idea", "budgeting apps do not help", "paying off debt beats investing"],
    facts: [
      "an emergency fund covers surprise costs",
      "index funds keep fees low",
      "renting can be cheaper in big cities",
      "automatic transfers make saving easier",
      "high interest debt should go first",
    ],
  },
];

const QUESTION_OPENERS = [
  "Quick question:",
  "Does anyone know",
  "Honest question,",
  "Help me out:",
  "I have been wondering",
];
const OPINION_OPENERS = ["Unpopular opinion:", "Hot take:", "I really think", "Change my mind:", "Honestly,"];
const STORY_OPENERS = ["My coworker", "My brother", "Someone online", "My neighbour"];
/** Insults a story parent reports; replies quote them or repeat them. */
const REPORTED = ["stupid", "dumb", "crappy"];
const AGREE = ["I agree with this.", "Totally agree.", "You are right about this.", "Same here."];
const DISAGREE = ["I disagree.", "Not really.", "I do not think so.", "That is not true."];
const NEUTRAL = ["Interesting.", "Hmm.", "Good question.", "It depends."];
const POLITE = ["Thanks for asking!", "Hope this helps!", "Good luck!", "Great point, thanks.", "Happy to help."];
/** Praise where it is meant (after agreeing with an opinion); the same words are sarcasm elsewhere. */
const PRAISE = ["Brilliant point.", "Genius idea, honestly.", "Brilliant, just brilliant."];
const SARCASTIC = ["Wow, genius question.", "Brilliant, just brilliant.", "Thanks, Einstein.", "What a genius."];
const RUDE = [
  "Nobody cares.",
  "What a pointless post.",
  "Learn to use a search engine.",
  "Why would anyone ask this?",
  "Screw you and your question.",
  "Your post sucks.",
  "Are you on crack?",
];
const QUOTING = [
  (w: string) => `Calling it "${w}" is not helpful.`,
  (w: string) => `Whoever said "${w}" was just being rude.`,
  (w: string) => `"${cap(w)}" is not real feedback.`,
];
const REPEATING = [
  (w: string, thing: string) => `Well, your ${thing} probably is ${w}.`,
  (w: string) => `They are right, it is ${w}.`,
];
const PERSONAL = [
  "I tried this last year.",
  "My friend told me the same.",
  "I read about it somewhere.",
  "This happened to me too.",
];

/** Generic insults and swear words; every one must be in `cuss` (rating 1 or 2). Slurs are left out on purpose. */
const MILD_WORDS = ["idiot", "stupid", "dumb", "moron", "loser", "crap", "damn", "dumbass", "jackass", "crappy"];
const PROFANE_WORDS = ["fuck", "fucking", "shit", "bullshit", "asshole", "shitty"];
/** Obfuscated spellings people use; the lexicon misses them, the obscenity matcher does not. */
const OBFUSCATED: Record<string, string> = { fuck: "f*ck", fucking: "f*cking", bullshit: "bullsh1t" };

function lexiconWords(words: readonly string[]): string[] {
  for (const w of words) {
    if (!((cuss as Record<string, number>)[w]! >= 1)) {
      throw new Error(`generator word '${w}' is not in the cuss lexicon`);
    }
  }
  return [...words];
}
let lexicon: { mild: string[]; profane: string[] } | null = null;

/** What the generator decided for one reply (kept for tests and documentation). */
export interface ReplyTraits {
  topic: string;
  parentKind: "question" | "opinion" | "story";
  onTopic: boolean;
  informative: boolean;
  register: "polite" | "neutral" | "sarcastic" | "rude" | "profane";
  stance: "agree" | "disagree" | "neutral";
  /** A blunt correction: disagrees with an opinion, rudely, with a fact on its topic (upvoted all the same). */
  bluntCorrection: boolean;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** One synthetic thread and the traits its score was computed from. */
export function generateThread(prng: Prng): { thread: Thread; traits: ReplyTraits } {
  // checked once per process, not per thread
  const { mild, profane } = lexicon ??= { mild: lexiconWords(MILD_WORDS), profane: lexiconWords(PROFANE_WORDS) };
  const topic = prng.pick(TOPICS);
  const k = prng.next();
  const parentKind = k < 0.4 ? "question" : k < 0.8 ? "opinion" : "story";
  const reported = parentKind === "story" ? prng.pick(REPORTED) : "";
  const parent = parentKind === "question"
    ? `${prng.pick(QUESTION_OPENERS)} ${prng.pick(topic.questions)}?`
    : parentKind === "opinion"
    ? `${prng.pick(OPINION_OPENERS)} ${prng.pick(topic.opinions)}.`
    : `${prng.pick(STORY_OPENERS)} called my ${topic.thing} "${reported}". Was that fair?`;
  const u = prng.next();
  const register = u < 0.42 ? "polite" : u < 0.67 ? "neutral" : u < 0.75 ? "sarcastic" : u < 0.9 ? "rude" : "profane";
  const stance = parentKind === "opinion" ? prng.pick(["agree", "disagree", "neutral"] as const) : "neutral";
  const c = prng.next();
  const content = c < 0.6 ? "topic" : c < 0.75 ? "other" : "remark";
  const onTopic = content === "topic";
  const informative = content !== "remark";
  const parts: string[] = [];
  if (stance !== "neutral") parts.push(prng.pick(stance === "agree" ? AGREE : DISAGREE));
  else if (prng.next() < 0.3) parts.push(prng.pick(NEUTRAL));
  if (register === "sarcastic") parts.push(prng.pick(SARCASTIC));
  if (register === "rude") {
    if (parentKind === "story") parts.push(prng.pick(REPEATING)(reported, topic.thing));
    else parts.push(prng.next() < 0.5 ? prng.pick(RUDE) : `Only a ${prng.pick(mild)} would say that.`);
  }
  if (register === "profane") {
    let word = prng.pick(profane);
    if (word in OBFUSCATED && prng.next() < 0.3) word = OBFUSCATED[word]!;
    parts.push(
      prng.pick([`What the ${word}.`, `This is ${word}.`, `Are you ${word} serious?`, `${cap(word)}, really?`]),
    );
  }
  if (parentKind === "story" && (register === "polite" || register === "neutral") && prng.next() < 0.6) {
    parts.push(prng.pick(QUOTING)(reported));
  }
  if (content === "topic") {
    // mostly the fact that answers the parent: a thread about a screw (medicine balls, a murder of crows) is
    // answered with the word in its harmless sense
    const echo = topic.facts.find((f) => f.split(" ").some((w) => w.length > 3 && parent.includes(` ${w} `)));
    parts.push(`${cap(echo !== undefined && prng.next() < 0.7 ? echo : prng.pick(topic.facts))}.`);
  } else if (content === "other") {
    const other = prng.pick(TOPICS.filter((t) => t !== topic));
    parts.push(`${cap(prng.pick(other.facts))}.`);
  } else if (prng.next() < 0.5) parts.push(prng.pick(PERSONAL));
  if (register === "polite") parts.push(prng.pick(stance === "agree" && prng.next() < 0.5 ? PRAISE : POLITE));
  if (parts.length === 0) parts.push(prng.pick(NEUTRAL));
  const bluntCorrection = stance === "disagree" && register === "rude" && onTopic;
  let quality = (content === "topic" ? 2 + 1.5 : content === "other" ? -1 : 0) + (register === "polite" ? 1 : 0) -
    (register === "sarcastic" ? 1.5 : 0) - (register === "rude" ? 2 : 0) - (register === "profane" ? 3 : 0) +
    (stance === "agree" ? 0.5 : stance === "disagree" ? -0.5 : 0) + (bluntCorrection ? 2.5 : 0) +
    1.5 * prng.normal() - 1;
  // vote counts are skewed: a few replies collect many votes
  quality = quality > 0 ? Math.round(Math.expm1(quality)) : Math.round(quality);
  return {
    thread: { parent, comment: parts.join(" "), score: quality },
    traits: { topic: topic.name, parentKind, onTopic, informative, register, stance, bluntCorrection },
  };
}

/** `count` synthetic threads (seeded). */
export function generateThreads(count: number, prng: Prng): Thread[] {
  return Array.from({ length: count }, () => generateThread(prng).thread);
}
