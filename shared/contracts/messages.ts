import { z } from 'zod';
import { runCountersSchema, runStatusSchema } from './run-view';

// Queue message shapes. Every message names its run, task and job so a consumer can check
// with the TaskTree that the job is still wanted (queues deliver at least once).

export const expandMessageSchema = z.object({
  type: z.literal('expand'),
  runId: z.string(),
  task: z.number().int(),
  jobId: z.string(),
  attempt: z.number().int().min(1),
});
export type ExpandMessage = z.infer<typeof expandMessageSchema>;

export const critiqueMessageSchema = z.object({
  type: z.literal('critique'),
  runId: z.string(),
  task: z.number().int(),
  jobId: z.string(),
  attempt: z.number().int().min(1),
});
export type CritiqueMessage = z.infer<typeof critiqueMessageSchema>;

export const spliceMessageSchema = z.object({
  type: z.literal('splice'),
  runId: z.string(),
  task: z.number().int(),
  jobId: z.string(),
  attempt: z.number().int().min(1),
});
export type SpliceMessage = z.infer<typeof spliceMessageSchema>;

export const eventNames = [
  'run.completed',
  'dataset.ready',
  'iteration.completed',
  'eval.completed',
] as const;
export const eventMessageSchema = z.object({
  type: z.literal('event'),
  event: z.enum(eventNames),
  deliveryId: z.string(),
  webhookId: z.string(),
  payload: z.record(z.string(), z.unknown()),
});
export type EventMessage = z.infer<typeof eventMessageSchema>;

/**
 * Sent by a run's RunLedger (on the events queue) once the run reached its final status; the
 * gateway reacts: run.completed webhooks, the run's iteration and evals move on. The coordinator
 * knows nothing of those workflows.
 */
export const runFinishedMessageSchema = z.object({
  type: z.literal('run.finished'),
  runId: z.string(),
  status: runStatusSchema,
  counters: runCountersSchema,
  completedAt: z.number().int(),
});
export type RunFinishedMessage = z.infer<typeof runFinishedMessageSchema>;

/** What the events queue carries. */
export const eventsQueueMessageSchema = z.discriminatedUnion('type', [
  eventMessageSchema,
  runFinishedMessageSchema,
]);
export type EventsQueueMessage = z.infer<typeof eventsQueueMessageSchema>;

export const jobMessageSchema = z.discriminatedUnion('type', [
  expandMessageSchema,
  critiqueMessageSchema,
  spliceMessageSchema,
]);
export type JobMessage = z.infer<typeof jobMessageSchema>;
