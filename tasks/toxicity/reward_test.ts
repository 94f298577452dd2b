import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { noisedToxicityReward, toxicityLevel, toxicityReward, upvotesReward } from "./reward.ts";

Deno.test("the toxicity scorer on clear cases: clean, mild insult, profanity, obfuscated profanity", () => {
  assert.equal(toxicityReward("Thanks, that was really helpful!"), 0);
  assert.equal(toxicityReward("I passed the class assignment in Scunthorpe."), 0); // no false match inside words
  assert.equal(toxicityReward("Only an idiot would say that."), -5);
  assert.equal(toxicityReward("What a load of crap."), -5);
  assert.equal(toxicityReward("Idiots, all of them."), -5); // plural of a lexicon word
  assert.equal(toxicityReward("This is bullshit."), -10);
  assert.equal(toxicityReward("What the f*ck."), -10);
  assert.equal(toxicityReward("shut up you b1tch"), -10);
  // words the lexicon rates 0 (unlikely to be profane) do not count
  assert.equal(toxicityLevel("The African and Asian teams played."), 0);
});

Deno.test("the noised reward: moderate toxicity becomes 0 or −10 with probability ½ each", () => {
  const prng = new Prng(3);
  const draws = Array.from({ length: 4000 }, () => noisedToxicityReward("you are an idiot", prng));
  assert.deepEqual([...new Set(draws)].sort((a, b) => a - b), [-10, 0]);
  const share = draws.filter((r) => r === 0).length / draws.length;
  assert.ok(Math.abs(share - 0.5) < 0.03, `share of 0: ${share}`);
  assert.equal(noisedToxicityReward("hello there", prng), 0);
  assert.equal(noisedToxicityReward("what the fuck", prng), -10);
  assert.deepEqual([upvotesReward(3), upvotesReward(0), upvotesReward(-4)], [10, 0, 0]);
});
