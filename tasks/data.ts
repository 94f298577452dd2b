/**
 * `deno task data <task> …`: writes a task's offline datasets (seeded, JSON Lines with a header line).
 * @module
 */
import { runMain, UsageError } from "../ilql/cli.ts";
import { DIALOGUE_DATA_HELP, dialogueData } from "./dialogue/data.ts";
import { TOXICITY_DATA_HELP, toxicityData } from "./toxicity/data.ts";
import { WORDLE_DATA_HELP, wordleData } from "./wordle/cli.ts";

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<string> }> = {
  wordle: { help: WORDLE_DATA_HELP, run: wordleData },
  toxicity: { help: TOXICITY_DATA_HELP, run: toxicityData },
  dialogue: { help: DIALOGUE_DATA_HELP, run: dialogueData },
};

async function main() {
  const [task, ...rest] = Deno.args;
  if (task === undefined || task === "--help" || task === "-h") {
    console.log(`deno task data <task> … (tasks: ${Object.keys(COMMANDS).join(", ")}); deno task data <task> --help`);
    return;
  }
  const command = COMMANDS[task];
  if (command === undefined) throw new UsageError(`unknown task '${task}' (${Object.keys(COMMANDS).join(", ")})`);
  if (rest.includes("--help") || rest.includes("-h")) return console.log(command.help);
  console.log(await command.run(rest));
}

if (import.meta.main) await runMain(main);
