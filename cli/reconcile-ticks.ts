/**
 * The gateway's reconciler (workers/gateway/src/services/reconcile.ts) is its cron trigger
 * (wrangler.toml `[triggers] crons = ["* * * * *"]`). Deployed, Cloudflare calls it every minute;
 * `wrangler dev` never does ("Scheduled Workers are not automatically triggered during local
 * development", wrangler 4.x) but answers /cdn-cgi/handler/scheduled by calling the primary
 * worker's `scheduled` handler (miniflare's entry worker, wrangler 4.86; the older /__scheduled
 * needs --test-scheduled). The local stack calls it on the cron's period, so a delivery or dataset
 * stuck locally is repaired as it would be deployed. That path exists only in wrangler dev: on
 * Cloudflare /cdn-cgi/ never reaches a worker.
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
      const response = await fetch(`${apiUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}`, {
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
