/**
 * The gateway's reconciler (workers/gateway/src/services/reconcile.ts) is its cron trigger
 * (wrangler.toml `[triggers] crons = ["* * * * *"]`). Deployed, Cloudflare calls it every minute;
 * `wrangler dev` never does ("Scheduled Workers are not automatically triggered during local
 * development", wrangler 4.x). With `--test-scheduled` (cli/stack.ts passes it) wrangler wraps the
 * worker so that GET /__scheduled?cron=... calls its `scheduled` handler. (Not
 * /cdn-cgi/handler/scheduled: that calls miniflare's entry worker, which with the gateway's static
 * assets is the asset router, and answers 500 "exception" in wrangler 4.86.) The local stack calls
 * it on the cron's period, so a delivery or dataset stuck locally is repaired as it would be
 * deployed. The path exists only under `wrangler dev --test-scheduled`, never when deployed.
 */

/** The cron's period: every minute. */
export const RECONCILE_EVERY_MS = 60_000;
const CRON = '* * * * *';

/**
 * Triggers the scheduled handler now and then every `everyMs` (never two at once); returns the
 * function that stops it. A failing tick is logged once, and once more when ticks work again.
 */
export function startReconcileTicks(
  apiUrl: string,
  everyMs: number,
  log: (line: string) => void,
): () => void {
  let busy = false;
  let stopped = false;
  let failing = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    let problem: string | null = null;
    try {
      const response = await fetch(`${apiUrl}/__scheduled?cron=${encodeURIComponent(CRON)}`, {
        signal: AbortSignal.timeout(Math.max(10_000, everyMs)),
      });
      if (!response.ok) problem = `answered ${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    } finally {
      busy = false;
    }
    if (stopped) return;
    if (problem && !failing)
      log(`reconciler: the scheduled handler failed (${problem}); retrying every tick`);
    if (!problem && failing) log('reconciler: the scheduled handler works again');
    failing = problem !== null;
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
