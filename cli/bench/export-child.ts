import { exportFormatSchema } from '../../shared/formats/export';
import { measureExportInProcess } from './export-bench';

// Child process of measureExport: `node --import tsx export-child.ts COUNT FORMAT` prints one JSON line.
const count = Number(process.argv[2] ?? 100_000);
const format = exportFormatSchema.parse(process.argv[3] ?? 'openai');
if (!Number.isInteger(count) || count < 1) throw new Error(`bad record count ${process.argv[2]}`);
const result = await measureExportInProcess(count, format);
process.stdout.write(`${JSON.stringify(result)}\n`);
