import { z } from 'zod';

// Outbound webhook subscriptions and their deliveries as the API shows them (/v1/webhooks). The
// signing secret is write-only and never part of a view.

export const webhookViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  active: z.boolean(),
  createdAt: z.number(),
});
export type WebhookView = z.infer<typeof webhookViewSchema>;

/** One delivery attempt series of an event to a webhook (GET /v1/webhooks/{id}/deliveries). */
export const deliveryViewSchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  event: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.number().nullable(),
  payload: z.unknown(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

/** The JSON body a webhook receiver gets (the same bytes on every retry of a delivery). */
export const webhookDeliveryBodySchema = z.object({
  id: z.string(),
  event: z.string(),
  /** When the event happened (ISO 8601). */
  createdAt: z.string(),
  /** The event's payload, e.g. the trainer payload of `dataset.ready` (loops.ts). */
  data: z.unknown(),
});
export type WebhookDeliveryBody = z.infer<typeof webhookDeliveryBodySchema>;
