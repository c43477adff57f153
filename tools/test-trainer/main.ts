import { parseArgs } from 'node:util';
import { startTestTrainer } from './server';

// `npx tsx tools/test-trainer/main.ts --secret S` prints TRAINER_URL=... and serves until Ctrl-C.
// Use it with `agent-r iterate start --trainer-url <url> --trainer-secret S` for a demo loop.

const { values } = parseArgs({
  options: { secret: { type: 'string' }, 'train-ms': { type: 'string' } },
  strict: true,
});
if (!values.secret || values.secret.length < 16) {
  process.stderr.write('usage: test-trainer --secret S (16+ characters) [--train-ms N]\n');
  process.exit(2);
}
const trainer = await startTestTrainer({ secret: values.secret, trainMs: Number(values['train-ms'] ?? 0) });
process.stdout.write(`TRAINER_URL=${trainer.url}\n`);
const stop = () => void trainer.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
