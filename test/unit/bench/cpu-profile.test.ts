import { Session } from 'node:inspector/promises';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { type CpuProfile, fileOfKey, summariseProfile } from '../../../cli/bench/cpu-profile';
import { decodeVlq, SourceMapIndex, shortSource } from '../../../cli/bench/source-map';

/** A profile shaped like the ones workerd returns: few samples, deltas spanning other isolates' time. */
function syntheticProfile(): CpuProfile {
  const frame = (functionName: string, url = '', lineNumber = -1) => ({
    functionName,
    url,
    lineNumber,
    columnNumber: 0,
    scriptId: '1',
  });
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('outer', 'file:///w/index.js', 9), children: [6] },
      { id: 3, callFrame: frame('(idle)') },
      { id: 4, callFrame: frame('(garbage collector)') },
      { id: 5, callFrame: frame('(program)') },
      { id: 6, callFrame: frame('inner', 'file:///w/index.js', 19) },
    ],
    startTime: 0,
    endTime: 10_000_000,
    samples: [6, 6, 2, 3, 4, 5, 6],
    // Huge deltas: the time the other isolates ran before each sample; they must not count.
    timeDeltas: [1_000_000, 2_000_000, 3_000_000, 10, 10, 10, 4_000_000],
  };
}

describe('V8 CPU profile summary', () => {
  it('counts samples x interval, not the deltas that span other isolates', () => {
    const s = summariseProfile(syntheticProfile(), 1000);
    expect(s.samples).toBe(7);
    expect(s.busyMs).toBe(6); // every sample but the idle one, 1 ms each
    expect(s.idleMs).toBe(1);
    expect(s.gcMs).toBe(1);
    expect(s.programMs).toBe(1);
    expect(s.top[0]).toEqual({ key: 'inner (index.js:20)', ms: 3 });
    expect(s.top.find((f) => f.key === 'outer (index.js:10)')?.ms).toBe(1);
  });

  it('gives total time (self + callees) and self time by file', () => {
    const s = summariseProfile(syntheticProfile(), 1000);
    expect(s.topTotal.find((f) => f.key === 'outer (index.js:10)')?.ms).toBe(4);
    expect(s.topTotal.find((f) => f.key === 'inner (index.js:20)')?.ms).toBe(3);
    expect(s.byFile[0]).toEqual({ key: 'index.js', ms: 4 });
    expect(fileOfKey('(anonymous) (workers/common/consume.ts:45)')).toBe('workers/common/consume.ts');
    expect(fileOfKey('(garbage collector)')).toBe('(garbage collector)');
  });

  it('resolves frames through a resolver (a source map)', () => {
    const s = summariseProfile(syntheticProfile(), 1000, 5, (f) =>
      f.functionName === 'inner' ? 'src/inner.ts:3' : null,
    );
    expect(s.top[0]!.key).toBe('inner (src/inner.ts:3)');
  });

  it('finds a hot function in a real V8 profile of this process', async () => {
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      const hotLoopForProfile = () => {
        let x = 0;
        const until = performance.now() + 150;
        while (performance.now() < until) for (let i = 0; i < 1000; i++) x = (x * 31 + i) % 1_000_003;
        return x;
      };
      hotLoopForProfile();
      const { profile } = await session.post('Profiler.stop');
      const s = summariseProfile(profile as CpuProfile, 100, 50);
      const hot = s.topTotal.find((f) => f.key.startsWith('hotLoopForProfile '));
      expect(hot, JSON.stringify(s.topTotal.slice(0, 5))).toBeDefined();
      // The loop ran 150 ms of the profile; sampled at 0.1 ms it gets most of the busy samples.
      expect(hot!.ms).toBeGreaterThan(s.busyMs * 0.5);
    } finally {
      session.disconnect();
    }
  });
});

describe('source maps', () => {
  it('decodes base64 VLQ fields (spec examples)', () => {
    expect(decodeVlq('AAAA')).toEqual([0, 0, 0, 0]);
    expect(decodeVlq('AACA')).toEqual([0, 0, 1, 0]);
    expect(decodeVlq('D')).toEqual([-1]);
    expect(decodeVlq('gB')).toEqual([16]);
    expect(() => decodeVlq('A!')).toThrow(/bad base64/);
  });

  it('maps a generated position of an esbuild bundle back to its source line', async () => {
    const source = [
      'export function first(a: number): number {',
      '  return a + 1;',
      '}',
      '',
      'export function second(b: string): string {',
      '  const shout = b.toUpperCase();',
      '  return shout + "!";',
      '}',
    ].join('\n');
    const out = await transform(source, { loader: 'ts', sourcemap: 'external', sourcefile: 'src/two.ts' });
    const index = new SourceMapIndex(JSON.parse(out.map));
    const lines = out.code.split('\n');
    const at = lines.findIndex((l) => l.includes('toUpperCase'));
    const column = lines[at]!.indexOf('toUpperCase');
    expect(index.lookup(at, column)).toEqual({ source: 'src/two.ts', line: 6 });
    const firstAt = lines.findIndex((l) => l.includes('a + 1'));
    expect(index.lookup(firstAt, lines[firstAt]!.indexOf('a + 1'))).toEqual({
      source: 'src/two.ts',
      line: 2,
    });
    expect(index.lookup(10_000, 0)).toBeNull();
  });

  it('shortens bundle source paths', () => {
    expect(shortSource('../../../node_modules/zod/v4/core/schemas.js')).toBe(
      'node_modules/zod/v4/core/schemas.js',
    );
    expect(shortSource('../../../workers/common/policy.ts')).toBe('workers/common/policy.ts');
  });
});
