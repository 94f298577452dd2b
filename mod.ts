/**
 * ilql-bench: offline RL for language models in TypeScript — Implicit Language Q-Learning (Snell et al.,
 * ICLR 2023) on a GPT-style transformer, trained and decoded on tfjs.
 *
 * @example
 * ```ts
 * import { CharTokenizer, encodeEpisode, initBackend } from "./mod.ts";
 * await initBackend({ backend: "cpu" });
 * const tokenizer = new CharTokenizer({ alphabet: "abc" });
 * const encoded = encodeEpisode(
 *   { segments: [{ kind: "state", text: "a" }, { kind: "action", text: "bc", reward: 1 }], terminal: true },
 *   tokenizer,
 *   { context: 16 },
 * );
 * console.log(encoded.actionPositions); // Int32Array [2, 3, 4]
 * ```
 * @module
 */
export {
  type BackendInfo,
  backendInfo,
  type BackendName,
  type BackendOptions,
  BACKENDS,
  initBackend,
  PINNED_THREADS,
} from "./ilql/backend.ts";
export { PINNED_CORE, runsPinnedCore } from "./ilql/blas.ts";
export {
  bool,
  choice,
  type ConfigOf,
  type ConfigSpec,
  defaultsOf,
  type Field,
  formatConfigHelp,
  int,
  num,
  optionalNum,
  parseOverrides,
  resolveConfig,
  resolveSections,
  type SectionSpecs,
  str,
} from "./ilql/config.ts";
export { Prng } from "./ilql/prng.ts";
export {
  CharTokenizer,
  type CharTokenizerOptions,
  registerTokenizerType,
  SPECIAL_TOKENS,
  type SpecialIds,
  type Tokenizer,
  tokenizerFromJSON,
  type TokenizerJSON,
} from "./ilql/tokenizer.ts";
export {
  type Batch,
  collate,
  type EncodedEpisode,
  encodeEpisode,
  encodeSegments,
  type Episode,
  type EpisodeFile,
  parseEpisodesJsonl,
  type Segment,
  validateEpisode,
} from "./ilql/episode.ts";
export { EpisodeSampler } from "./ilql/data.ts";
export { IlqlModel, MODEL_SPEC, type ModelConfig } from "./ilql/model.ts";
export { AdamW, OPTIM_SPEC, type OptimConfig } from "./ilql/optim.ts";
export {
  ILQL_SPEC,
  type IlqlConfig,
  type IlqlState,
  ilqlUpdate,
  initIlqlState,
  makeOptimizer,
  NonFiniteLossError,
  polyakUpdate,
} from "./ilql/ilql.ts";
export {
  DECODE_SPEC,
  type DecodeConfig,
  generate,
  type GenerateOptions,
  type Generation,
  textPolicy,
} from "./ilql/decode.ts";
export {
  type Checkpoint,
  type CheckpointMeta,
  loadCheckpoint,
  restoreOptimizer,
  saveCheckpoint,
} from "./ilql/checkpoint.ts";
export {
  type LogRecord,
  TRAIN_SPEC,
  type TrainConfig,
  TrainingStopped,
  trainLoop,
  type UpdateFn,
} from "./ilql/trainer.ts";
export {
  encodeTrainingEpisodes,
  ILQL_RUN_SECTIONS,
  type IlqlRunConfig,
  ilqlRunConfig,
  stackedSeedsProblem,
  trainIlql,
  type TrainIlqlOptions,
  trainSeeds,
  type TrainSeedsOptions,
} from "./ilql/run.ts";
export {
  type BatchPolicy,
  type LanguageEnv,
  type ModelScorer,
  type Rollout,
  rollout,
  type ScoredItems,
  type ScoredPolicy,
  type StepResult,
  textsOf,
} from "./tasks/task.ts";
export {
  type AlgorithmDefinition,
  checkOfflineConfig,
  checkRunConfig,
  evaluationDecode,
  type Overrides,
  RUN_SECTIONS,
  type RunConfig,
  runConfig,
  trainAlgorithm,
  type Trained,
  type Trainer,
  trainOffline,
  type TrainRequest,
} from "./baselines/algorithm.ts";
export { BC, BC_PRESET, FILTERED_BC } from "./baselines/bc.ts";
export { SINGLE_STEP } from "./baselines/single_step.ts";
export { MC_RETURNS } from "./baselines/mc_returns.ts";
export { DECISION_TRANSFORMER } from "./baselines/decision_transformer.ts";
export { CQL } from "./baselines/cql.ts";
export {
  checkPpoConfig,
  gae,
  PPO,
  PPO_SPEC,
  type PpoConfig,
  ppoLoss,
  type PpoTerms,
  trainPpo,
} from "./baselines/ppo.ts";
export { ALGORITHMS, type TaskDefinition, type TaskEvaluation, TASKS } from "./eval/registry.ts";
export {
  configDifferences,
  configKey,
  type ExpandOptions,
  expandSuite,
  flatConfig,
  parseSettings,
  parseShard,
  parseSweep,
  runName,
  type RunSpec,
  settingLabel,
  type Shard,
  shardFromEnv,
  shardRuns,
  type Suite,
  SUITES,
  type SuiteTask,
  type Sweep,
} from "./eval/suite.ts";
export { type ExecuteOptions, executeRun } from "./eval/runner.ts";
export {
  type CorruptRecord,
  CorruptRecordError,
  readRecord,
  readRecords,
  type RecordScan,
  type RunRecord,
  scanRecords,
  setAsideCorrupt,
} from "./eval/store.ts";
export { checkRuns, probeWritable } from "./eval/preflight.ts";
export { FILE_TASK_PREFIX, type FileTask, fileTask, type FileTaskHeader, heldOutScores } from "./eval/file_task.ts";
export { loadAlgorithmModule, loadTaskModule, USER_TASK_BUDGET, type UserTask, withUserTasks } from "./eval/modules.ts";
export { planSuite, runSuite, type SuiteOptions, type SuitePlan } from "./eval/harness.ts";
export { csvTable, groupResults, markdownTable, type ResultGroup } from "./eval/table.ts";
export { type ChartSpec, chartSpecs, renderPng } from "./eval/plots.ts";
export { writeReport } from "./eval/report.ts";
export { bootstrapMean, iqm, meanSe, normalizedScore } from "./eval/stats.ts";
export {
  loadRedditFolder,
  loadThreads,
  parseRedditCsv,
  parseThreadsJsonl,
  type Splits,
  type Thread,
  type ThreadSet,
} from "./tasks/toxicity/threads.ts";
export { syntheticThreadSet, threadEpisodes, threadTokenizer } from "./tasks/toxicity/data.ts";
export { RemappedBpeTokenizer } from "./tasks/toxicity/tokenizer.ts";
export { noisedToxicityReward, toxicityLevel, toxicityReward, upvotesReward } from "./tasks/toxicity/reward.ts";
export { ReplyClassifier, trainReplyClassifier } from "./tasks/toxicity/reward_model.ts";
export { hfReward } from "./tasks/toxicity/hf.ts";
export { evaluateReplies, ReplyEnv, type ReplyEvalOptions, type ReplyReward } from "./tasks/toxicity/task.ts";
export { countries, type Country } from "./tasks/dialogue/countries.ts";
export {
  answer,
  CORRECT_ANSWER,
  parseQuestion,
  type Question,
  REFUSAL,
  respond,
  UNKNOWN_ANSWER,
} from "./tasks/dialogue/answerer.ts";
export {
  DEFAULT_HEDGES,
  DIALOGUE_REWARDS,
  type DialogueReward,
  hasHedge,
  isBareYesNo,
  questionReward,
} from "./tasks/dialogue/reward.ts";
export { DialogueEnv, type DialogueEnvOptions, hintsOf, MAX_QUESTIONS } from "./tasks/dialogue/game.ts";
export {
  candidatesOf,
  GreedyQuestioner,
  HumanQuestioner,
  MixtureQuestioner,
  type Questioner,
  questionerPolicy,
  RandomQuestioner,
} from "./tasks/dialogue/questioners.ts";
export { defaultMix, dialogueDataset, type DialogueEpisode, dialogueTokenizer } from "./tasks/dialogue/data.ts";
export { type DialogueEvalOptions, type DialogueEvalResult, evaluateDialogue } from "./tasks/dialogue/eval.ts";
export { cutoffTurn, loadVisDial, visDialEpisodes, type VisDialOptions } from "./tasks/dialogue/visdial.ts";
export { loadWordleDataset, writeWordleDataset } from "./tasks/wordle/files.ts";
