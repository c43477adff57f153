// Public surface of the AgentGym environment client (see the files for details).
export { EnvError, type EnvErrorDetails, type EnvErrorKind, isEnvError } from './errors';
export {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type JsonRequest,
  type JsonResponse,
  type JsonTransport,
  type RequestSafety,
  type RetryPolicy,
  createJsonTransport,
} from './http-transport';
export {
  EnvLeasePool,
  type LeaseAnswer,
  type LeaseGrant,
  type LeasePoolConfig,
  type LeasePoolState,
  type LeaseRecord,
  type PoolChange,
  type ReleaseOutcome,
  type ServerEnvId,
} from './lease-pool';
export {
  type AgentGymSession,
  type AgentGymSessionOptions,
  createAgentGymSession,
  protocolFor,
} from './session';
export { SCIWORLD_FAILURE_SCORE, normaliseSciWorldScore } from './sciworld-protocol';
export {
  TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE,
  type TextCraftActionResult,
  type TextCraftClientVersion,
  cleanTextCraftAction,
  textCraftActionFromResponse,
} from './textcraft-action';
