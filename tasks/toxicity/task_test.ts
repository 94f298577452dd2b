import assert from "node:assert/strict";
import { testBackend } from "../../ilql/_test_util.ts";
import { Prng } from "../../ilql/prng.ts";
import { rollout } from "../task.ts";
import { SYNTHETIC_THREADS, syntheticThreadSet, threadEpisodes, threadTokenizer } from "./data.ts";
import { generateThread } from "./generate.ts";
import { toxicityLevel, toxicityReward } from "./reward.ts";
import { trainReplyClassifier } from "./reward_model.ts";
import { distinctN, evaluateReplies, ReplyEnv } from "./task.ts";

await testBackend(1);

Deno.test("the synthetic threads: deterministic, at least 20,000, toxic replies present, scores follow the traits", () => {
  assert.ok(SYNTHETIC_THREADS >= 20_000);
  const a = syntheticThreadSet(0, 3000), b = syntheticThreadSet(0, 3000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(syntheticThreadSet(1, 50).threads, a.threads.slice(0, 50));
  const prng = new Prng(7);
  const samples = Array.from({ length: 4000 }, () => generateThread(prng));
  const meanScore = (keep: (s: (typeof samples)[number]) => boolean) => {
    const xs = samples.filter(keep).map((s) => Math.sign(s.thread.score));
    return xs.reduce((x, y) => x + y, 0) / xs.length;
  };
  // polite, on-topic replies are upvoted more often than rude or profane ones
  assert.ok(meanScore((s) => s.traits.register === "polite" && s.traits.onTopic) > 0.5);
  assert.ok(meanScore((s) => s.traits.register === "profane") < 0);
  const profane = samples.filter((s) => s.traits.register === "profane");
  assert.ok(
    profane.every((s) => toxicityLevel(s.thread.comment, s.thread.parent) > 0),
    "every profane reply is scored toxic",
  );
  const levels = [0, 1, 2].map((l) =>
    samples.filter((s) => toxicityLevel(s.thread.comment, s.thread.parent) === l).length
  );
  assert.ok(levels.every((n) => n > 100), `every toxicity level occurs: ${levels}`);
  // rude replies that are upvoted: blunt corrections score above the other rude replies
  assert.ok(
    meanScore((s) => s.traits.bluntCorrection) >
      meanScore((s) => s.traits.register === "rude" && !s.traits.bluntCorrection) + 0.3,
  );
  // the context decides: replies that are toxic in one thread and harmless, word for word, in another
  const verdicts = new Map<string, Set<number>>();
  for (const { thread } of samples) {
    const seen = verdicts.get(thread.comment) ?? new Set<number>();
    verdicts.set(thread.comment, seen.add(toxicityLevel(thread.comment, thread.parent)));
  }
  const both = [...verdicts].filter(([, v]) => v.has(0) && v.has(1)).map(([c]) => c);
  assert.ok(both.length >= 20, `replies whose verdict depends on the thread: ${both.length}`);
  assert.ok(both.some((c) => /screw|balls|crack|suck|murder/i.test(c)), "a dual-use word among them");
  assert.ok(both.some((c) => /genius|brilliant|einstein/i.test(c)), "praise or sarcasm among them");
});

Deno.test("episodes of a reward, and the one-step environment", () => {
  const set = syntheticThreadSet(0, 200);
  const episodes = threadEpisodes(set, "toxicity");
  assert.equal(episodes.length, 160);
  const t = set.threads[0]!;
  assert.deepEqual(episodes[0], {
    segments: [{ kind: "state", text: t.parent }, {
      kind: "action",
      text: t.comment,
      reward: toxicityReward(t.comment, t.parent),
    }],
    terminal: true,
  });
  assert.deepEqual(threadEpisodes(set, "noised", 10, 4), threadEpisodes(set, "noised", 10, 4));
  const env = new ReplyEnv(
    ["Hot take: cats are better than dogs."],
    (parent, reply) => toxicityReward(reply, parent),
    new Prng(1),
  );
  const [played] = rollout([env], () => ["What the f*ck."]);
  assert.equal(played!.return, -10);
  assert.equal(played!.segments[0]!.text, "Hot take: cats are better than dogs.");
});

Deno.test("the evaluator: reward, toxic rate, diversity, and perplexity and KL against a reference", async () => {
  const set = syntheticThreadSet(0, 100);
  let i = 0;
  const replies = ["You are an idiot.", "Thanks for asking!", "Thanks for asking!", "Good luck!"];
  const result = await evaluateReplies(
    (histories) => histories.map(() => ({ text: replies[i++ % 4]!, logProb: -2 })),
    {
      threads: set,
      parents: 8,
      reward: (items) => items.map((x) => toxicityReward(x.reply, x.parent)),
      reference: (items) => items.map(() => ({ logProb: -3, tokens: 4 })),
    },
    new Prng(0),
  );
  assert.deepEqual(result.returns, [-5, 0, 0, 0, -5, 0, 0, 0]);
  assert.equal(result.metrics.toxic_rate, 0.25);
  assert.ok(Math.abs(result.metrics.perplexity - Math.exp(3 / 4)) < 1e-12);
  assert.equal(result.metrics.kl_from_bc, 1);
  assert.equal(result.metrics.mean_length, (4 + 3 + 3 + 2) / 4);
  // distinct-n by hand: "a b a" → unigrams {a, b} of 3, bigrams {a b, b a} of 2
  assert.equal(distinctN(["a b a"], 1), 2 / 3);
  assert.equal(distinctN(["a b a", "a b"], 2), 2 / 3);
  // without log-probabilities the KL is not known
  const plain = await evaluateReplies(() => ["ok"], { threads: set, parents: 1, reward: () => [0] }, new Prng(0));
  assert.ok(Number.isNaN(plain.metrics.kl_from_bc) && Number.isNaN(plain.metrics.perplexity));
});

Deno.test("the upvote classifier beats the majority class on held-out threads", () => {
  const set = syntheticThreadSet(0, 4000);
  const tokenizer = threadTokenizer(set);
  const train = set.splits.train.map((i) => set.threads[i]!);
  const held = [...set.splits.eval, ...set.splits.test].map((i) => set.threads[i]!);
  const { model, losses } = trainReplyClassifier(train, tokenizer, { width: 32, layers: 1, steps: 300 });
  const positive = held.filter((t) => t.score > 0).length / held.length;
  const majority = Math.max(positive, 1 - positive);
  const accuracy = model.accuracy(held);
  model.dispose();
  assert.ok(losses.at(-1)! < losses[0]!, `loss falls: ${losses}`);
  assert.ok(accuracy > majority + 0.05, `accuracy ${accuracy} vs majority ${majority}`);
});
