/**
 * The shape of the two-turn diagnostics (stitch, ridge): the agent hears `go`, makes a first move, hears what that
 * move led to, makes a second move, and the episode ends. A task says what each move is worth.
 * @module
 */
import type { Segment } from "../ilql/episode.ts";
import type { LanguageEnv, StepResult } from "./task.ts";

/** A two-turn environment; subclasses give the state after the first move and the rewards of both moves. */
export abstract class TwoTurnEnv implements LanguageEnv {
  #first = "";
  #turn = 0;

  /** What the agent hears after its first move. */
  protected abstract stateAfter(first: string): string;
  /** The reward of the first move. */
  protected abstract firstReward(first: string): number;
  /** The reward of the second move, given the first. */
  protected abstract secondReward(first: string, second: string): number;

  reset(): Segment[] {
    this.#turn = 0;
    return [{ kind: "state", text: "go" }];
  }

  step(action: string): StepResult {
    this.#turn++;
    if (this.#turn === 1) {
      this.#first = action;
      const segments: Segment[] = [{ kind: "state", text: this.stateAfter(action) }];
      return { segments, reward: this.firstReward(action), done: false };
    }
    if (this.#turn === 2) return { segments: [], reward: this.secondReward(this.#first, action), done: true };
    throw new Error(`${this.constructor.name} episode is over`);
  }
}
