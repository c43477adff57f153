/**
 * The log line prefix of the workers' platform-operation counters (workers/common/ops-meter.ts),
 * parsed by the bench (cli/bench/platform-ops-section.ts): `agent-r-ops {"queue_messages":3,...}`.
 */
export const OPS_LINE_PREFIX = 'agent-r-ops ';
