/**
 * A minimal source-map (v3) reader: generated (line, column) -> original `file:line`, enough to
 * name the source of a profiled function in a wrangler bundle. Pure; unit-tested.
 */

export interface RawSourceMap {
  version: number;
  sources: string[];
  mappings: string;
  sourceRoot?: string;
}

const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const digit = new Map([...base64].map((c, i) => [c, i]));

/** Decodes one segment's base64 VLQ fields. */
export function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const d = digit.get(c);
    if (d === undefined) throw new Error(`bad base64 VLQ digit ${JSON.stringify(c)}`);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
      continue;
    }
    out.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return out;
}

/** Per generated line: [generatedColumn, sourceIndex, originalLine] triples, by column. */
export type LineSegments = Int32Array;

export class SourceMapIndex {
  private readonly lines: LineSegments[] = [];
  /** As the map names them: relative to `sourceRoot` (esbuild: the bundle's directory). */
  readonly sources: string[];

  constructor(map: RawSourceMap) {
    this.sources = map.sources;
    let source = 0;
    let origLine = 0;
    for (const lineText of map.mappings.split(';')) {
      let col = 0;
      const triples: number[] = [];
      if (lineText)
        for (const seg of lineText.split(',')) {
          const f = decodeVlq(seg);
          col += f[0] ?? 0;
          if (f.length < 4) continue; // a segment that maps to no source
          source += f[1]!;
          origLine += f[2]!;
          triples.push(col, source, origLine);
        }
      this.lines.push(Int32Array.from(triples));
    }
  }

  /** The original source and 1-based line of a 0-based generated line/column, or null. */
  lookup(line: number, column: number): { source: string; line: number } | null {
    const segs = this.lines[line];
    if (!segs || segs.length === 0) return null;
    // The last segment starting at or before `column` (or the line's first one).
    let lo = 0;
    let hi = segs.length / 3 - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid * 3]! <= column) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const source = this.sources[segs[best * 3 + 1]!];
    return source === undefined ? null : { source, line: segs[best * 3 + 2]! + 1 };
  }
}

/** `workers/expander/src/index.ts:12` from a bundle's source path like `../../../src/index.ts`. */
export function shortSource(source: string): string {
  const cleaned = source.replace(/^(\.\.\/)+/, '').replace(/^webpack:\/\/\//, '');
  const nm = cleaned.lastIndexOf('node_modules/');
  return nm >= 0 ? cleaned.slice(nm) : cleaned;
}
