// MCTS over the policy's own actions as a pure, resumable state machine (agent-r.md section 3).
//
// Owner loop (e.g. the TaskTree Durable Object):
//   state = createSearch(config, { observation })        // seed: mixSeeds(runSeed, task)
//   send(nextExpansions(state))                          // jobs to the expander
//   on result:  applyExpansion(state, jobId, children)   // or failExpansion(state, jobId, reason)
//               send(nextExpansions(state))              // duplicates/stale results: accepted false
//   persist:    takeDirtyNodeIds(state) rows + splitSearchState(state).meta
//   on restart: joinSearchState(meta, rows); re-send inFlightExpansions(state)
//   done when isComplete(state); then toTreeFile(state, task).
export { defaultSearchConfig, type SearchConfig, type SearchConfigInput, searchConfigSchema } from './config';
export { inFlightExpansions, nextExpansions } from './descent';
export { type DerivedField, deriveSearchFields, terminalWhenCreated } from './derive';
export { type ApplyResult, applyExpansion, failExpansion } from './expansion';
export {
  type DriveOptions,
  driveSearch,
  type Expand,
  runReferenceSearch,
  runSearchLocally,
} from './local-driver';
export {
  childOfStep,
  type ExpansionChild,
  type ExpansionRequest,
  expansionChildSchema,
  expansionRequestSchema,
  type PathStep,
  pathStepSchema,
} from './protocol';
export { createRngState, mixSeeds, nextRandom, type RngState, randomIndex } from '../random';
export { selectChild, uctScore, virtualLossFor } from './select';
export {
  createSearch,
  type Descent,
  isComplete,
  joinSearchState,
  parseSearchState,
  ROOT_ID,
  rngStateSchema,
  type SearchCounters,
  type SearchMeta,
  type SearchNode,
  type SearchState,
  searchMetaSchema,
  searchNodeSchema,
  searchStateSchema,
  splitSearchState,
} from './state';
export { setJudgement, toTreeFile, treeFileOfNodes } from './tree-export';
export { getNode, pathIds, pathSteps, takeDirtyNodeIds } from './tree-ops';
