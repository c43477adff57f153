/**
 * Test-only hooks on the splice queue of the integration worker (worker.ts): a splice of one
 * armed run can be held at its first record write (right after it passed its last check and got
 * its write permit), or its messages held back before delivery (a queue backlog). Every R2 put and
 * D1 batch the splicer makes for that run is logged with its time, so a test can show that none
 * happened after a cancel answered. The part under test (splicer, TaskTree, ledger) is the
 * product's own code; only the bindings handed to the splicer are wrapped. Never reachable from
 * product code.
 */

export interface SpliceWrite {
  what: string;
  /** When the write began and when it returned (ms). */
  start: number;
  end: number | null;
}

interface Hold {
  runId: string;
  /** 'put': hold the first records put; 'delivery': hold the splice messages before the consumer. */
  mode: 'put' | 'delivery';
  held: boolean;
  release: () => void;
  released: Promise<void>;
  writes: SpliceWrite[];
}

let hold: Hold | null = null;

export function armSpliceHold(runId: string, mode: Hold['mode']): Hold {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  hold = { runId, mode, held: false, release, released, writes: [] };
  return hold;
}

export function disarmSpliceHold(): void {
  hold?.release();
  hold = null;
}

function ofRun(key: string, runId: string): boolean {
  return key.startsWith(`runs/${runId}/`);
}

async function logged<T>(h: Hold, what: string, call: () => Promise<T>): Promise<T> {
  const write: SpliceWrite = { what, start: Date.now(), end: null };
  h.writes.push(write);
  try {
    return await call();
  } finally {
    write.end = Date.now();
  }
}

/** The splicer's bindings while a hold is armed (the real ones otherwise). */
export async function splicerEnv<E extends { BUCKET: R2Bucket; DB: D1Database }>(
  env: E,
  runIds: readonly string[],
): Promise<E> {
  const h = hold;
  if (!h || !runIds.includes(h.runId)) return env;
  if (h.mode === 'delivery') {
    h.held = true;
    await h.released;
  }
  const bucket = env.BUCKET;
  const wrapped = Object.create(bucket) as R2Bucket;
  wrapped.put = (async (key: string, value: never, options?: never) => {
    if (!ofRun(key, h.runId)) return bucket.put(key, value, options);
    if (h.mode === 'put' && !h.held) {
      h.held = true;
      await h.released;
    }
    return logged(h, `put ${key}`, () => bucket.put(key, value, options));
  }) as R2Bucket['put'];
  wrapped.createMultipartUpload = ((key: string, options?: never) =>
    logged(h, `multipart ${key}`, () =>
      bucket.createMultipartUpload(key, options),
    )) as R2Bucket['createMultipartUpload'];
  wrapped.delete = bucket.delete.bind(bucket);
  wrapped.get = bucket.get.bind(bucket);
  wrapped.head = bucket.head.bind(bucket);
  wrapped.list = bucket.list.bind(bucket);
  const db = env.DB;
  const wrappedDb = Object.create(db) as D1Database;
  wrappedDb.prepare = db.prepare.bind(db);
  wrappedDb.batch = ((statements: D1PreparedStatement[]) =>
    logged(h, 'd1 batch', () => db.batch(statements))) as D1Database['batch'];
  return { ...env, BUCKET: wrapped, DB: wrappedDb };
}
