/** A one-line progress bar on stderr (redrawn in place on a terminal, a line every few seconds otherwise). */
export class ProgressBar {
  private lastPlainAt = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly width = 24,
  ) {}

  update(done: number, total: number, detail: string): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * this.width);
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const eta =
      fraction > 0 && fraction < 1 ? ` eta ${formatSeconds((elapsed / fraction) * (1 - fraction))}` : '';
    const line = `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${total} tasks  ${detail}  ${formatSeconds(elapsed)}${eta}`;
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
    } else if (Date.now() - this.lastPlainAt > 5000 || done === total) {
      this.lastPlainAt = Date.now();
      this.out.write(`${line}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}
