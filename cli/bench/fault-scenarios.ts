/**
 * The fault-tolerance scenarios (one file per group under faults/), shared by test/e2e (faults.test.ts, resume.test.ts) and
 * the benchmark (its `faults` section):
 *  1. an inference endpoint that fails (5xx, 429 + retry-after, hangs, garbage): the build must
 *     produce exactly what the fault-free build does;
 *  2. the whole local stack SIGKILLed mid-build and restarted on the same state: the run must
 *     complete identical to an uninterrupted one, no record lost or duplicated;
 *  3. an AgentGym environment server that dies for good: its run fails with the reason in the
 *     manifest, and a run beside it is not affected.
 */

export * from './faults/dead-env';
export * from './faults/inference';
export * from './faults/resume';
export * from './faults/stack';
