/**
 * Turning a model response into the action string a TextCraft server receives, the way
 * AgentGym's TextCraft client (agentenv/envs/textcraft.py) does it.
 *
 * - `v2025` (default; AgentGym's Sept 2025 client): the action is the rest of the line after
 *   `Action:` (whitespace, including newlines, right after the marker is skipped). A response with
 *   more than one `Action:` is refused with an error observation and the server is not called.
 *   A bare `look` becomes `inventory`.
 * - `v2024` (the June 2024 client the Agent-R paper used): the text before any `Instruction:`,
 *   then the part after the last `Action:`.
 * Both then keep only ASCII letters, digits, commas and spaces and collapse runs of spaces.
 * Case is kept: the server matches `get`/`craft`/`inventory` case-sensitively.
 *
 * Ours (v2025): a text with no `Action:` marker is taken as a bare action (AgentGym would send an
 * empty action), so callers that already parsed the action can pass it directly. Cleaning is
 * idempotent, so replaying a cleaned action sends the same string again.
 */
export type TextCraftClientVersion = 'v2024' | 'v2025';

export type TextCraftActionResult =
  | { kind: 'action'; action: string }
  /** Refused on the client side: `observation` is shown to the model, reward 0, not done. */
  | { kind: 'refused'; observation: string };

/** Observation AgentGym's v2025 client returns for a response with several `Action:` markers. */
export const TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE =
  "Error: Only one 'Action' is allowed per response. Please adjust your response.";

const ACTION_MARKER = 'Action:';
// Mirrors Python's re.findall(r"Action:\s*(.*?)(?=\n|$)", text, re.DOTALL).
const V2025_ACTION_LINE = /Action:\s*([\s\S]*?)(?=\n|$)/g;

export function textCraftActionFromResponse(
  response: string,
  version: TextCraftClientVersion = 'v2025',
): TextCraftActionResult {
  if (version === 'v2024') {
    // A bare action passes through this unchanged (split() of a text without the marker).
    const beforeInstruction = response.split('Instruction:')[0] ?? '';
    const afterLastAction = beforeInstruction.split(ACTION_MARKER).at(-1) ?? '';
    return { kind: 'action', action: cleanTextCraftAction(afterLastAction, version) };
  }
  if (!response.includes(ACTION_MARKER))
    return { kind: 'action', action: cleanTextCraftAction(response, version) };
  const matches = [...response.matchAll(V2025_ACTION_LINE)];
  if (matches.length > 1) return { kind: 'refused', observation: TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE };
  return { kind: 'action', action: cleanTextCraftAction(matches[0]?.[1] ?? '', version) };
}

/** Character filter and whitespace collapse of the AgentGym client (both versions). */
export function cleanTextCraftAction(raw: string, version: TextCraftClientVersion = 'v2025'): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9, ]+/g, '')
    .split(' ')
    .filter((word) => word.length > 0)
    .join(' ');
  // v2025: "look" is not a TextCraft action; the client maps it to "inventory".
  if (version === 'v2025' && cleaned.toLowerCase() === 'look') return 'inventory';
  return cleaned;
}
