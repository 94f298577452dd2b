import assert from "node:assert/strict";
import { Prng } from "../../ilql/prng.ts";
import { countries } from "./countries.ts";
import { defaultMix, dialogueData, dialogueDataset, dialogueTokenizer, imitationBound } from "./data.ts";
import { evaluateDialogue } from "./eval.ts";
import { DialogueEnv, drawHint, hintFact, hintsOf, MAX_QUESTIONS } from "./game.ts";
import {
  bankEntropies,
  candidatesOf,
  GreedyQuestioner,
  HumanQuestioner,
  MixtureQuestioner,
  questionBank,
  type Questioner,
  questionerPolicy,
  RandomQuestioner,
  spoken,
} from "./questioners.ts";
import { hasHedge, isBareYesNo, questionReward } from "./reward.ts";
import { respond } from "./answerer.ts";
import { createHash } from "node:crypto";

Deno.test("reward variants: −1 a question, 0 the winning one, −2 for a bare yes/no (yn) or a hedge (conservative)", () => {
  assert.equal(questionReward("Yes.", false, "standard"), -1);
  assert.equal(questionReward("Correct!", true, "standard"), 0);
  assert.equal(questionReward("Yes.", false, "yn"), -3);
  assert.equal(questionReward(" no ", false, "yn"), -3);
  assert.equal(questionReward("No, it is not.", false, "yn"), -1);
  assert.equal(questionReward("South America.", false, "yn"), -1);
  assert.equal(questionReward("Fairly big.", false, "conservative"), -3);
  assert.equal(questionReward("I don't know.", false, "conservative"), -3);
  assert.equal(questionReward("South America.", false, "conservative"), -1);
  assert.equal(questionReward("Correct!", true, "conservative"), 0);
  // the reference's substring match: "no" fires inside "know" and "northern"
  assert.ok(hasHedge("The northern hemisphere."));
  assert.ok(!hasHedge("Spanish."));
  assert.ok(hasHedge("Spanish.", ["span"]));
  assert.ok(isBareYesNo("YES!") && !isBareYesNo("yes, it is"));
});

Deno.test("the environment: hint first, answers as states, a win ends the game, 20 questions at most", () => {
  const env = new DialogueEnv({ reward: "yn", prng: new Prng(3), schedule: ["Peru"] });
  const opening = env.reset();
  assert.equal(opening.length, 1);
  const fact = hintFact(opening[0]!.text);
  assert.ok(fact !== null && respond(fact.question, env.country) === fact.answer, opening[0]!.text);
  let r = env.step("Is it in Europe?");
  assert.deepEqual([r.segments[0]!.text, r.reward, r.done, r.info!.bare_yes_no, r.info!.penalised], [
    "No.",
    -3,
    false,
    true,
    true,
  ]);
  r = env.step("Which region is it in?");
  assert.deepEqual([r.segments[0]!.text, r.reward, r.info!.open], ["The Americas.", -1, true]);
  r = env.step("Is it hot?");
  assert.deepEqual([r.segments[0]!.text, r.reward, r.info!.unparsed], ["I don't know.", -1, true]);
  r = env.step("Is it Peru?");
  assert.deepEqual([r.segments[0]!.text, r.reward, r.done, r.info!.solved], ["Correct!", 0, true, true]);

  env.reset();
  let total = 0, steps = 0;
  for (let done = false; !done; steps++) {
    const s = env.step("Is it hot there?");
    total += s.reward;
    done = s.done;
  }
  assert.deepEqual([steps, total], [MAX_QUESTIONS, -MAX_QUESTIONS]);
  assert.throws(() => env.step("Is it Peru?"), /game is over/);
  assert.throws(() => new DialogueEnv({ reward: "standard", prng: new Prng(0), schedule: ["Atlantis"] }), /Atlantis/);
});

Deno.test("every hint states a true fact the questioners can read back", () => {
  const prng = new Prng(0);
  for (const c of countries()) {
    for (const h of hintsOf(c)) assert.equal(respond(h.fact.question, c), h.fact.answer, `${c.name}: ${h.text}`);
    const hint = drawHint(c, prng);
    assert.ok(candidatesOf([{ kind: "state", text: hint }]).includes(countries().indexOf(c)), hint);
  }
});

Deno.test("candidates shrink with the answers and always keep the hidden country", () => {
  const env = new DialogueEnv({ reward: "standard", prng: new Prng(1), schedule: ["Japan"] });
  const history = env.reset();
  const before = candidatesOf(history).length;
  for (const q of ["Which region is it in?", "Is it an island nation?", "Is it hot there?"]) {
    const r = env.step(q);
    history.push({ kind: "action", text: q, reward: r.reward }, ...r.segments);
  }
  const after = candidatesOf(history);
  assert.ok(after.length < before, `${after.length} < ${before}`);
  assert.ok(after.includes(countries().findIndex((c) => c.name === "Japan")));
});

Deno.test("bankEntropies: each bank question's answer entropy over the candidates, from the answerer itself", () => {
  const { items } = questionBank();
  const all = countries();
  const hinted = candidatesOf([{ kind: "state", text: drawHint(all[0]!, new Prng(2)) }]);
  for (const candidates of [hinted, hinted.slice(0, 3), [5], all.map((_, i) => i)]) {
    const entropies = bankEntropies(candidates);
    assert.equal(entropies.length, items.length);
    for (const i of [0, 1, 7, 40, items.length - 1]) {
      const counts = new Map<string, number>();
      for (const c of candidates) {
        const q = items[i]!.question;
        const a = q === null ? "?" : respond(q, all[c]!);
        counts.set(a, (counts.get(a) ?? 0) + 1);
      }
      const h = [...counts.values()].reduce(
        (s, n) => s - (n / candidates.length) * Math.log2(n / candidates.length),
        0,
      );
      assert.ok(Math.abs(entropies[i]! - h) < 1e-12, `${items[i]!.phrasings[0]} over ${candidates.length}: ${h}`);
    }
    assert.deepEqual(bankEntropies([...candidates]), entropies); // a second call (kept sets) gives the same values
  }
});

Deno.test("the dialogue datasets are the ones the committed starts learned from", () => {
  // the starts in results/dialogue/starts were trained on games of this generator: a change to the questioners that
  // changes the games (not only their speed) must come with new starts
  const games = dialogueDataset(400, new Prng(0), { reward: "standard" });
  assert.equal(
    createHash("sha256").update(JSON.stringify(games)).digest("hex"),
    "12d79b34eb8f94d8d15704f16859d846e9668cf5f18658c22b6b52cca2b2f8b0",
  );
});

Deno.test("each questioner's distribution() is what its ask() samples, summing to 1 over bank questions", () => {
  const greedy = new GreedyQuestioner();
  const questioners: Questioner[] = [
    greedy,
    new HumanQuestioner(),
    new RandomQuestioner(),
    new MixtureQuestioner([[greedy, 0.5], [new RandomQuestioner(), 0.5]]),
  ];
  const bankTexts = new Set(questionBank().items.flatMap((item) => item.phrasings));
  // histories from the start of a game to late in one (few candidates left: the human-like player guesses more)
  const histories = dialogueDataset(6, new Prng(3), { reward: "standard" }).flatMap((e) =>
    e.segments.flatMap((s, i) => (s.kind === "state" && i + 1 < e.segments.length ? [e.segments.slice(0, i + 1)] : []))
  ).filter((_, i) => i % 2 === 0).slice(0, 5);
  assert.ok(histories.some((h) => candidatesOf(h).length <= 5) && histories.some((h) => candidatesOf(h).length > 5));
  const prng = new Prng(11);
  const draws = 2000;
  for (const q of questioners) {
    for (const history of histories) {
      const where = `${q.name} after ${JSON.stringify(history.map((s) => s.text))}`;
      const dist = q.distribution(history);
      const total = [...dist.values()].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `${where}: probabilities sum to ${total}`);
      for (const text of dist.keys()) assert.ok(bankTexts.has(text), `${where}: '${text}' is not a bank question`);
      const counts = new Map<string, number>();
      for (let i = 0; i < draws; i++) {
        const text = q.ask(history, prng);
        counts.set(text, (counts.get(text) ?? 0) + 1);
      }
      for (const text of counts.keys()) assert.ok(dist.get(text)! > 0, `${where}: '${text}' said, probability 0`);
      // the likeliest texts: sampled frequency within 4.5 standard errors of the stated probability
      for (const [text, p] of dist) {
        if (p < 0.02) continue;
        const freq = (counts.get(text) ?? 0) / draws;
        assert.ok(Math.abs(freq - p) < 4.5 * Math.sqrt((p * (1 - p)) / draws), `${where}: '${text}' ${freq} vs ${p}`);
      }
    }
  }
  // one country left: the greedy player names it
  const nauru = [{ kind: "state" as const, text: "Its name starts with N." }, {
    kind: "action" as const,
    text: "What languages are spoken there?",
    reward: -1,
  }, { kind: "state" as const, text: "English and Nauru." }];
  assert.deepEqual([...greedy.distribution(nauru)], [["Is it Nauru?", 1]]);
});

Deno.test("imitationBound: a game's total is minus the log of its likelihood under the mix (chain rule of the posterior)", () => {
  const mix = defaultMix();
  const games = dialogueDataset(12, new Prng(5), { reward: "standard" });
  const bound = imitationBound(games, mix);
  let k = 0;
  for (const game of games) {
    let likelihood = mix.map(([, w]) => w); // prior weight × Π p(question) per questioner
    let total = 0;
    game.segments.forEach((s, i) => {
      if (s.kind !== "action") return;
      const q = bound[k++]!;
      assert.equal(q.utterance, s.text);
      assert.deepEqual(q.history, game.segments.slice(0, i));
      assert.equal(q.guess, countries().some((c) => s.text === `Is it ${spoken(c.name)}?`), s.text);
      total += q.nll;
      likelihood = likelihood.map((l, t) => l * (mix[t]![0].distribution(game.segments.slice(0, i)).get(s.text) ?? 0));
    });
    assert.ok(Math.abs(total + Math.log(likelihood.reduce((a, b) => a + b, 0))) < 1e-9, `${total}`);
  }
  assert.equal(k, bound.length);
  // one player: a greedy game's closing guess, with one country left, costs nothing
  const greedyGames = dialogueDataset(4, new Prng(6), { reward: "standard", mix: [[new GreedyQuestioner(), 1]] });
  const greedyBound = imitationBound(greedyGames, [[new GreedyQuestioner(), 1]]);
  assert.ok(greedyBound.filter((q) => q.guess).every((q) => q.nll === 0));
  assert.throws(
    () =>
      imitationBound([{
        segments: [{ kind: "state", text: "It is landlocked." }, {
          kind: "action",
          text: "Is it hot there?",
          reward: -1,
        }],
        terminal: false,
      }], [[new GreedyQuestioner(), 1]]),
    /question 1 \('Is it hot there\?'\) cannot come from the mix/,
  );
});

Deno.test("greedy information gain beats human-like, which beats random (512 games, every variant)", () => {
  for (const reward of ["standard", "yn", "conservative"] as const) {
    const play = (q: GreedyQuestioner | HumanQuestioner | RandomQuestioner) =>
      evaluateDialogue(questionerPolicy(q, new Prng(1)), { reward, games: 512, seed: 4 });
    const greedy = play(new GreedyQuestioner()),
      human = play(new HumanQuestioner()),
      random = play(new RandomQuestioner());
    assert.ok(greedy.return.mean > human.return.mean, `${reward}: ${greedy.return.mean} > ${human.return.mean}`);
    assert.ok(human.return.mean > random.return.mean, `${reward}: ${human.return.mean} > ${random.return.mean}`);
    assert.ok(greedy.metrics.success_rate > 0.99 && greedy.metrics.mean_questions < 4, JSON.stringify(greedy.metrics));
    assert.ok(random.metrics.mean_questions > 3 * greedy.metrics.mean_questions, JSON.stringify(random.metrics));
    // human-like questioners prefer yes/no questions; the greedy one asks open ones
    assert.ok(human.metrics.yes_no_rate > greedy.metrics.yes_no_rate);
  }
});

Deno.test("the evaluator's metrics match a hand-played policy", () => {
  // asks one open question, then one unparseable one, then guesses Peru until the game ends
  const policy = (histories: readonly { text: string }[][]) =>
    histories.map((h) =>
      h.length === 1 ? "Which region is it in?" : h.length === 3 ? "Is it hot there?" : "Is it Peru?"
    );
  const r = evaluateDialogue(policy, { reward: "yn", games: 64, seed: 2 });
  const peru = r.returns.filter((x) => x === -2).length; // two questions, then the winning guess
  assert.equal(r.metrics.success_rate, peru / 64);
  const questions = peru * 3 + (64 - peru) * MAX_QUESTIONS;
  assert.equal(r.metrics.mean_questions, questions / 64);
  assert.equal(r.metrics.open_rate, 64 / questions);
  assert.equal(r.metrics.unparsed_rate, 64 / questions);
  assert.equal(r.metrics.yes_no_rate, ((64 - peru) * (MAX_QUESTIONS - 2)) / questions);
  for (const x of r.returns) assert.ok(x === -2 || x === -2 - 3 * (MAX_QUESTIONS - 2), String(x));
});

Deno.test("datasets are deterministic, label the same dialogues under every variant, and fit the tokenizer", () => {
  const a = dialogueDataset(60, new Prng(7), { reward: "standard" });
  const b = dialogueDataset(60, new Prng(7), { reward: "standard" });
  const yn = dialogueDataset(60, new Prng(7), { reward: "yn" });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, dialogueDataset(60, new Prng(8), { reward: "standard" }));
  const texts = (eps: typeof a) => eps.map((e) => e.segments.map((s) => s.text));
  assert.deepEqual(texts(a), texts(yn));
  assert.notDeepEqual(a.map((e) => e.segments.map((s) => s.reward)), yn.map((e) => e.segments.map((s) => s.reward)));
  const tokenizer = dialogueTokenizer();
  for (const e of a) {
    assert.ok(e.segments.length <= 1 + 2 * MAX_QUESTIONS);
    for (const s of e.segments) {
      const ids = tokenizer.encode(s.text);
      assert.ok(!ids.includes(6), `unknown piece in '${s.text}'`);
      assert.equal(tokenizer.decode(ids), s.text);
    }
  }
});

Deno.test("deno task data dialogue writes seeded JSON Lines per variant; bad flags are usage errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const summary = await dialogueData(["--games", "20", "--seed", "3", "--out-dir", dir]);
    assert.match(summary, /wrote 20 games/);
    const first = await Deno.readTextFile(`${dir}/standard-seed3.jsonl`);
    await dialogueData(["--games", "20", "--seed", "3", "--out-dir", dir, "--reward", "standard"]);
    const body = (text: string) => text.slice(text.indexOf("\n"));
    assert.equal(body(await Deno.readTextFile(`${dir}/standard-seed3.jsonl`)), body(first));
    const lines = first.trim().split("\n");
    assert.equal(lines.length, 21);
    assert.equal(JSON.parse(lines[0]!).header.reward, "standard");
    assert.ok(JSON.parse(lines[1]!).meta.country);
    for (const v of ["yn", "conservative"]) await Deno.stat(`${dir}/${v}-seed3.jsonl`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(() => dialogueData(["--games", "0"]), /--games must be an integer >= 1/);
  await assert.rejects(() => dialogueData(["--reward", "loud"]), /--reward: unknown dialogue reward 'loud'/);
  await assert.rejects(() => dialogueData(["--colour"]), /colour/);
});
