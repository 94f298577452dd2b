/**
 * An example task module for `deno task bench --task-module`: say a three-letter word backwards. The environment
 * shows a word over the letters a–d; the agent's reply earns one point per letter in its reversed place (0–3). The
 * offline data's player reverses the word 30 % of the time and otherwise repeats it unchanged (the middle letter
 * alone scores), so the best play is in the data but rare: filtered BC and the value methods should beat BC.
 *
 * ```sh
 * npx -y deno@2.9.6 task bench --task-module examples/reverse_task.ts --algos bc,filtered-bc,ilql --seeds 0
 * ```
 * @module
 */
import {
  CharTokenizer,
  type Episode,
  type LanguageEnv,
  Prng,
  rollout,
  type Segment,
  type StepResult,
  type SuiteTask,
  type TaskDefinition,
  textsOf,
} from "../mod.ts";

const LETTERS = [..."abcd"];

/** The name the task's runs, records and tables carry. */
export const name = "reverse";

/** Letters of `reply` in their place in `word` reversed. */
export function reverseScore(word: string, reply: string): number {
  return [...word].reverse().filter((c, i) => reply[i] === c).length;
}

/** One word, one reply. */
class ReverseEnv implements LanguageEnv {
  #word = "";
  constructor(private readonly prng: Prng) {}
  reset(): Segment[] {
    this.#word = Array.from({ length: 3 }, () => this.prng.pick(LETTERS)).join("");
    return [{ kind: "state", text: this.#word }];
  }
  step(action: string): StepResult {
    const reward = reverseScore(this.#word, action);
    return { segments: [], reward, done: true, info: { solved: reward === 3 } };
  }
}

/** Seeded environments (also what `examples/reverse.jsonl` names in its header, to be scored by play). */
export const environments = (count: number, seed: number): LanguageEnv[] => {
  const prng = new Prng(seed);
  return Array.from({ length: count }, () => new ReverseEnv(prng.fork()));
};

/** The task definition, of the type the built-in tasks use. */
export const task: TaskDefinition = {
  description: "say a three-letter word backwards (one point per letter in place; the data reverses 30 % of words)",
  tokenizer: new CharTokenizer({ alphabet: LETTERS.join("") }),
  dataset: (size, seed) => {
    const prng = new Prng(seed);
    return Array.from({ length: size ?? 2000 }, (): Episode => {
      const word = Array.from({ length: 3 }, () => prng.pick(LETTERS)).join("");
      const reply = prng.next() < 0.3 ? [...word].reverse().join("") : word;
      return {
        segments: [{ kind: "state", text: word }, { kind: "action", text: reply, reward: reverseScore(word, reply) }],
        terminal: true,
      };
    });
  },
  environments,
  evaluate: (policy, episodes, seed) => {
    const games = rollout(environments(episodes, seed), textsOf(policy), 1);
    return {
      returns: games.map((g) => g.return),
      metrics: { solved_rate: games.filter((g) => g.infos[0]?.solved === true).length / episodes },
    };
  },
  anchors: () => ({ floor: 0, ceiling: 3 }),
  defaults: {
    model: { width: 32, layers: 1, heads: 2, context: 12, dropout: 0 },
    optim: { lr: 3e-3 },
    train: { steps: 300, batchSize: 64 },
    decode: { method: "greedy", beta: 4, maxTokens: 3 },
  },
};

/** Its budget in any suite (optional): evaluation episodes and config over the defaults. */
export const budget: SuiteTask = { evalEpisodes: 256, config: {} };
