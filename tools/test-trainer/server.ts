import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TrainerPayload, trainerPayloadSchema } from '../../shared/contracts/loops';
import { SIGNATURE_HEADER, signatureHeader, verifySignature } from '../../shared/webhooks/signing';

// A stand-in trainer for tests and demos of the iteration loop. It receives agent-r's signed
// `dataset.ready` webhook, checks the signature, downloads the manifest and the dataset through
// the signed links (a build run's records, or the dataset an iteration assembled from several
// builds and general data), checks that the record count matches the manifest, "trains" (counts the
// examples), and calls back -- signed with the same secret -- with a "new model": the same
// OpenAI-compatible server as the iteration's policy under another model name. Not a trainer.

export interface TestTrainerOptions {
  /** The loop's trainer secret (verifies the webhook, signs the callback). */
  secret: string;
  /** The new model's name for iteration `index` (default `<policy model>-it<index>`). */
  modelName?: (payload: TrainerPayload) => string;
  /** Wait this long before calling back (simulated training time). */
  trainMs?: number;
  /** Call back at all (false: record the delivery only). */
  callBack?: boolean;
  /** Keep each job's payload and parsed native records (for tests that inspect the data). */
  keepData?: boolean;
}

export interface TrainingJob {
  deliveryId: string;
  iterationId: string;
  index: number;
  alpha: number;
  manifestCounts: { revision: number; good: number; general: number };
  /** The assembled dataset delivered (loops with `builds`/`dataset`), else null (a run's records). */
  datasetId: string | null;
  /** Lines of the native dataset download (revision + good, or the dataset's train split). */
  nativeLines: number;
  /** Lines of the OpenAI chat dataset download (the "training" set). */
  openaiLines: number;
  datasetSha256: string;
  model: string | null;
  callbackStatus: number | null;
  error: string | null;
  /** With `keepData`: the payload and the native records as downloaded. */
  payload?: TrainerPayload;
  nativeRecords?: Record<string, unknown>[];
}

export interface TestTrainer {
  url: string;
  jobs(): TrainingJob[];
  /** Deliveries refused (bad signature, malformed body). */
  rejected(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function download(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok)
    throw new Error(`GET ${url}: ${response.status} ${(await response.text()).slice(0, 200)}`);
  return response.text();
}

const lineCount = (text: string) => text.split('\n').filter((l) => l.trim() !== '').length;

export async function startTestTrainer(options: TestTrainerOptions): Promise<TestTrainer> {
  const jobs: TrainingJob[] = [];
  const seen = new Set<string>();
  let rejected = 0;

  async function train(deliveryId: string, payload: TrainerPayload): Promise<void> {
    const job: TrainingJob = {
      deliveryId,
      iterationId: payload.iteration.id,
      index: payload.iteration.index,
      alpha: payload.iteration.alpha,
      manifestCounts: { revision: 0, good: 0, general: 0 },
      datasetId: payload.dataset?.id ?? null,
      nativeLines: 0,
      openaiLines: 0,
      datasetSha256: '',
      model: null,
      callbackStatus: null,
      error: null,
    };
    if (options.keepData) job.payload = payload;
    jobs.push(job);
    try {
      const manifest = JSON.parse(await download(payload.downloads.manifest)) as {
        counts: { revision: number; good: number; general?: number };
        files?: { split: string; records: number }[];
      };
      const c = manifest.counts;
      job.manifestCounts = { revision: c.revision, good: c.good, general: c.general ?? 0 };
      const native = await download(payload.downloads.datasets.native!);
      job.nativeLines = lineCount(native);
      if (options.keepData)
        job.nativeRecords = native
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const openai = await download(payload.downloads.datasets.openai!);
      job.openaiLines = lineCount(openai);
      job.datasetSha256 = createHash('sha256').update(openai).digest('hex');
      // A run's records: revision + good. An assembled dataset: its train split's line count.
      const expected = payload.dataset
        ? (manifest.files?.find((f) => f.split === 'train')?.records ?? -1)
        : c.revision + c.good;
      if (job.nativeLines !== expected)
        throw new Error(`dataset has ${job.nativeLines} records, the manifest says ${expected}`);
      if (options.trainMs) await new Promise((r) => setTimeout(r, options.trainMs));
      if (options.callBack === false) return;
      const model = options.modelName?.(payload) ?? `${payload.policy.model}-it${payload.iteration.index}`;
      job.model = model;
      const body = JSON.stringify({
        endpoint: { baseUrl: payload.policy.baseUrl, model },
        notes: { examples: job.openaiLines, datasetSha256: job.datasetSha256, trainer: 'tools/test-trainer' },
      });
      const response = await fetch(payload.callback.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: await signatureHeader(options.secret, body),
        },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      job.callbackStatus = response.status;
      if (!response.ok) job.error = `callback: ${response.status} ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      job.error = (error as Error).message;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jobs, rejected }));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const raw = await readBody(req);
    const verdict = await verifySignature(
      options.secret,
      new Uint8Array(raw),
      req.headers[SIGNATURE_HEADER] as string,
    );
    if (!verdict.ok) {
      rejected++;
      res.writeHead(401, { 'content-type': 'text/plain' }).end(verdict.message);
      return;
    }
    let delivery: { id?: string; event?: string; data?: unknown };
    try {
      delivery = JSON.parse(raw.toString('utf8'));
    } catch {
      rejected++;
      res.writeHead(400).end('not JSON');
      return;
    }
    if (delivery.event !== 'dataset.ready') {
      res.writeHead(204).end();
      return;
    }
    const parsed = trainerPayloadSchema.safeParse(delivery.data);
    if (!parsed.success || !delivery.id) {
      rejected++;
      res.writeHead(400).end('not an agent-r iteration dataset');
      return;
    }
    // Acknowledge at once; "training" happens afterwards. A redelivery of the same delivery is a no-op.
    res.writeHead(202).end();
    if (seen.has(delivery.id)) return;
    seen.add(delivery.id);
    void train(delivery.id, parsed.data);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    jobs: () => jobs.map((j) => ({ ...j })),
    rejected: () => rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
