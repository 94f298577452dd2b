/**
 * The `hf` reward: any local Hugging Face text-classification model folder (ONNX export with `config.json` and a
 * tokenizer, the layout transformers.js reads), loaded with `@huggingface/transformers` from local files only: remote
 * models are disabled, so nothing is downloaded. The package (~400 MB with onnxruntime) is imported only when this
 * reward is used. The reward of a reply is `scale` × the probability of the label `label` (default: a toxicity
 * classifier's `toxic` label, scale −10).
 * @module
 */
import type { ReplyReward } from "./task.ts";

/** Options of {@link hfReward}. */
export interface HfRewardOptions {
  /** The label whose probability is the reward's magnitude. */
  label?: string;
  /** Multiplies that probability. */
  scale?: number;
}

/** The transformers.js package, resolved only when used (a variable keeps it out of the static module graph). */
const TRANSFORMERS = "npm:@huggingface/transformers@3.8.1";

/**
 * A reward from a local model folder.
 * @throws one line naming the folder when it is missing or is not a model folder
 */
export async function hfReward(folder: string, options: HfRewardOptions = {}): Promise<ReplyReward> {
  const label = options.label ?? "toxic";
  const scale = options.scale ?? -10;
  try {
    if (!Deno.statSync(folder).isDirectory) throw new Error();
  } catch {
    throw new Error(`hf reward: model folder '${folder}' not found (expected a local Hugging Face model folder)`);
  }
  try {
    Deno.statSync(`${folder}/config.json`);
  } catch {
    throw new Error(`hf reward: '${folder}' has no config.json; it is not a Hugging Face model folder`);
  }
  const transformers = await import(TRANSFORMERS);
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  const parts = folder.replace(/\/+$/, "").split("/");
  transformers.env.localModelPath = parts.slice(0, -1).join("/") || ".";
  const classify = await transformers.pipeline("text-classification", parts.at(-1), { dtype: "fp32" });
  return async (items) => {
    const out: number[] = [];
    for (const { reply } of items) {
      const scores = await classify(reply, { top_k: null }) as Array<{ label: string; score: number }>;
      out.push(scale * (scores.find((s) => s.label.toLowerCase() === label.toLowerCase())?.score ?? 0));
    }
    return out;
  };
}
