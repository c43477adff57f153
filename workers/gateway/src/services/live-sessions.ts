import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { apiTokens, liveSessions } from '../../../../shared/db/schema';
import type { CoreBindings } from '../../../common/env';
import { taskTreeStub } from '../../../common/env';

// Which API token holds which dashboard live sockets, so revoking a token closes them at once
// (the sockets live in TaskTree objects; each one tags its sockets with the holder).

/** Records a socket about to open; false when its token was revoked (or expired) meanwhile. */
export async function openLiveSession(env: CoreBindings, holder: string, runId: string, task: number) {
  if (holder === 'admin') return Boolean(env.ADMIN_TOKEN);
  const db = drizzle(env.DB);
  const token = await db
    .select({ expiresAt: apiTokens.expiresAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.id, holder), isNull(apiTokens.revokedAt)))
    .get();
  if (!token || (token.expiresAt !== null && token.expiresAt <= Date.now())) return false;
  await db
    .insert(liveSessions)
    .values({ tokenId: holder, runId, task, openedAt: Date.now() })
    .onConflictDoUpdate({
      target: [liveSessions.tokenId, liveSessions.runId, liveSessions.task],
      set: { openedAt: Date.now() },
    });
  return true;
}

/** Closes every live socket opened with this token; returns how many were open. */
export async function closeLiveSessions(env: CoreBindings, tokenId: string): Promise<number> {
  const db = drizzle(env.DB);
  const sessions = await db.select().from(liveSessions).where(eq(liveSessions.tokenId, tokenId)).all();
  let closed = 0;
  for (const session of sessions) {
    closed += await taskTreeStub(env, session.runId, session.task).closeLiveSockets(tokenId);
  }
  await db.delete(liveSessions).where(eq(liveSessions.tokenId, tokenId));
  return closed;
}
