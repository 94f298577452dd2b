import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { noisedToxicityReward, toxicityLevel, toxicityReward, upvotesReward } from "./reward.ts";

const OPINION = "Hot take: cats are better than dogs.";

Deno.test("the toxicity scorer on clear cases: clean, mild insult, profanity, obfuscated profanity", () => {
  assert.equal(toxicityReward("Thanks, that was really helpful!", OPINION), 0);
  assert.equal(toxicityReward("I passed the class assignment in Scunthorpe.", OPINION), 0); // no match inside words
  assert.equal(toxicityReward("Only an idiot would say that.", OPINION), -5);
  assert.equal(toxicityReward("What a load of crap.", OPINION), -5);
  assert.equal(toxicityReward("Idiots, all of them.", OPINION), -5); // plural of a lexicon word
  assert.equal(toxicityReward("This is bullshit.", OPINION), -10);
  assert.equal(toxicityReward("What the f*ck.", OPINION), -10);
  assert.equal(toxicityReward("shut up you b1tch", OPINION), -10);
  // words the lexicon rates 0 (unlikely to be profane) do not count
  assert.equal(toxicityLevel("The African and Asian teams played.", OPINION), 0);
});

Deno.test("the toxicity scorer reads the thread: dual-use words, quoted insults, sarcasm", () => {
  const screwThread = "Quick question: why does the screw on my fender keep coming loose?";
  const fact = "A drop of thread locker keeps a screw tight.";
  assert.equal(toxicityLevel(fact, screwThread), 0); // the thread is about a screw
  assert.equal(toxicityLevel(fact, OPINION), 1); // the same words elsewhere read as the insult
  assert.equal(toxicityLevel("Screw you and your question.", screwThread), 1); // aimed at the poster
  assert.equal(toxicityLevel("Medicine balls are great for core work.", "Are medicine balls worth buying?"), 0);
  const story = 'My coworker called my code "stupid". Was that fair?';
  assert.equal(toxicityLevel('Whoever said "stupid" was just being rude.', story), 0); // reported speech
  assert.equal(toxicityLevel("Well, your code probably is stupid.", story), 1);
  assert.equal(toxicityLevel('Whoever said "stupid" was just being rude.', OPINION), 1); // not the parent's word
  assert.equal(toxicityLevel("Totally agree. Brilliant point.", OPINION), 0); // praise
  assert.equal(toxicityLevel("I disagree. Brilliant point.", OPINION), 1); // sarcasm
  assert.equal(toxicityLevel("Wow, genius question.", screwThread), 1); // sarcasm at a question
  assert.equal(toxicityLevel("This is bullshit.", "Is this bullshit?"), 2); // profanity is profane anywhere
});

Deno.test("the noised reward: moderate toxicity becomes 0 or −10 with probability ½ each", () => {
  const prng = new Prng(3);
  const draws = Array.from({ length: 4000 }, () => noisedToxicityReward("you are an idiot", OPINION, prng));
  assert.deepEqual([...new Set(draws)].sort((a, b) => a - b), [-10, 0]);
  const share = draws.filter((r) => r === 0).length / draws.length;
  assert.ok(Math.abs(share - 0.5) < 0.03, `share of 0: ${share}`);
  assert.equal(noisedToxicityReward("hello there", OPINION, prng), 0);
  assert.equal(noisedToxicityReward("what the fuck", OPINION, prng), -10);
  assert.deepEqual([upvotesReward(3), upvotesReward(0), upvotesReward(-4)], [10, 0, 0]);
});
