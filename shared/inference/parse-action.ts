/**
 * The reference's action parsing (reference/agent-r.md s.3): the text after the LAST `Action:`,
 * stripped, without a leading list number like `1. `; with no marker, the last non-empty line.
 */
export function parseAction(response: string): string {
  const marker = 'Action:';
  const at = response.lastIndexOf(marker);
  const raw = at >= 0 ? response.slice(at + marker.length) : lastNonEmptyLine(response);
  return raw.trim().replace(/^\d+\.\s+/, '');
}

function lastNonEmptyLine(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1] ?? '';
}
