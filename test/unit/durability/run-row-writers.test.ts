import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// D1's `runs` row has one writer per part: the gateway inserts it (with the spec, once), and only
// the RunLedger's copy (ledger-d1.ts) updates it (the status). A second writer of the status
// would race the ledger, the truth; a second writer of the spec would store it twice.

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const productFiles = ['workers', 'shared', 'cli', 'tools', 'dashboard/src'].flatMap(sources);

function filesMatching(pattern: RegExp): string[] {
  return productFiles
    .filter((file) => pattern.test(readFileSync(join(root, file), 'utf8')))
    .map((file) => relative(root, join(root, file)));
}

describe("D1's runs row", () => {
  it('scans the product sources', () => {
    expect(productFiles.length).toBeGreaterThan(100);
  });

  it('is updated by the RunLedger copy only', () => {
    expect(filesMatching(/\.update\(\s*runs\s*\)|UPDATE\s+runs\b/i)).toEqual([
      'workers/coordinator/src/ledger-d1.ts',
    ]);
  });

  it('is inserted (with its spec) by the gateway run service only', () => {
    expect(filesMatching(/\.insert\(\s*runs\s*\)|INSERT\s+(OR\s+\w+\s+)?INTO\s+runs\b/i)).toEqual([
      'workers/gateway/src/services/runs.ts',
    ]);
  });
});
