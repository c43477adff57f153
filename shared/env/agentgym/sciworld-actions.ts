// SciWorld action mapping: the reference does not send a model's action to ScienceWorld as typed;
// it maps it to a valid action first (exact match, else the valid action sharing the most words),
// so a near miss ("pick up the thermometer") is not a wasted step. Our candidates come from what
// the AgentGym server offers: /action_hint's templates (e.g. "pick up OBJ") filled with its objects.
//
// Rules (ours, after the reference's):
// 1. Normalise the action: trim, collapse whitespace, lower case, "green house" -> "greenhouse".
// 2. Candidates: every template with each OBJ slot filled by an object (two-slot templates never use
//    one object twice), plus "open door to ROOM" / "go to ROOM" for every room among the objects;
//    "reset task" is never a candidate; "focus on" never targets the agent, the air or a room
//    (focusing on the wrong thing ends the episode); actions naming a door other than "open door
//    to ..." are dropped, as the reference does.
// 3. An action equal to a candidate is sent unchanged.
// 4. Else the candidate sharing the most distinct words with the action is sent; ties go to the
//    shorter candidate, then to the first in template/object order (deterministic, so replays agree).
// 5. An action sharing no word with any candidate is sent unchanged (the server explains why it fails).
// 6. When the pick is a "focus on X", the focus candidates are narrowed to objects in sight, as the
//    reference does (every word of X, "in"/"on"/"to" aside, must occur in a free look-around or the
//    inventory: /state), and the action is mapped again. Focusing on the wrong thing ends the
//    episode at -100. A server without /state (v2024) skips this rule.
// /observation and /detail add nothing here: they repeat the last step's observation and score.

/** ScienceWorld's rooms (its map), whose doors the reference lets the agent open. */
export const SCIWORLD_ROOMS = [
  'art studio',
  'bathroom',
  'bedroom',
  'foundry',
  'greenhouse',
  'hallway',
  'kitchen',
  'living room',
  'outside',
  'workshop',
] as const;

export interface SciWorldActionHint {
  /** Templates such as "go OBJ", "move OBJ to OBJ", "look around". */
  possibleActions: readonly string[];
  possibleObjects: readonly string[];
}

export interface MappedAction {
  /** What is sent to the server. */
  action: string;
  /** How it was chosen. */
  via: 'exact' | 'overlap' | 'unmatched';
}

const SLOT = 'OBJ';
const NO_FOCUS = new Set<string>(['agent', 'air', ...SCIWORLD_ROOMS]);

export function normaliseSciWorldAction(action: string): string {
  return action.trim().replace(/\s+/g, ' ').toLowerCase().replaceAll('green house', 'greenhouse');
}

function fill(template: string, objects: readonly string[]): string[] {
  const parts = template.split(SLOT);
  const slots = parts.length - 1;
  if (slots === 0) return [template];
  if (slots === 1) return objects.map((o) => `${parts[0]}${o}${parts[1]}`);
  if (slots === 2) {
    const out: string[] = [];
    for (const a of objects)
      for (const b of objects) if (a !== b) out.push(`${parts[0]}${a}${parts[1]}${b}${parts[2]}`);
    return out;
  }
  return []; // ScienceWorld has no template with more slots
}

function allowed(candidate: string): boolean {
  if (candidate === 'reset task') return false;
  if (candidate.startsWith('focus on ') && NO_FOCUS.has(candidate.slice('focus on '.length))) return false;
  if (/\bdoor\b/.test(candidate) && !candidate.startsWith('open door to ')) return false;
  return true;
}

/** The valid actions the server offers now, in a fixed order, without duplicates. */
export function sciWorldCandidates(hint: SciWorldActionHint): string[] {
  const objects = [...new Set(hint.possibleObjects.map(normaliseSciWorldAction))];
  const rooms = SCIWORLD_ROOMS.filter((room) => objects.includes(room));
  const out = new Set<string>();
  for (const template of hint.possibleActions) {
    for (const filled of fill(template.trim(), objects)) {
      const candidate = normaliseSciWorldAction(filled);
      if (allowed(candidate)) out.add(candidate);
    }
  }
  const canGo = hint.possibleActions.some((template) => template.trim() === `go ${SLOT}`);
  for (const room of rooms) {
    out.add(`open door to ${room}`);
    if (canGo) out.add(`go to ${room}`);
  }
  return [...out];
}

const words = (text: string) => new Set(text.split(' ').filter(Boolean));

/** Maps `raw` to the candidate the rules above pick. */
export function mapSciWorldAction(raw: string, candidates: readonly string[]): MappedAction {
  const action = normaliseSciWorldAction(raw);
  if (candidates.includes(action)) return { action, via: 'exact' };
  const wanted = words(action);
  let best: string | null = null;
  let bestOverlap = 0;
  let bestLength = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const have = words(candidate);
    let overlap = 0;
    for (const word of have) if (wanted.has(word)) overlap++;
    if (overlap > bestOverlap || (overlap === bestOverlap && overlap > 0 && have.size < bestLength)) {
      best = candidate;
      bestOverlap = overlap;
      bestLength = have.size;
    }
  }
  return best === null ? { action: raw.trim(), via: 'unmatched' } : { action: best, via: 'overlap' };
}

const FOCUS = 'focus on ';
const FOCUS_FILLER = /\b(?:in|on|to)\b/g;

/** Rule 6: drops "focus on X" candidates whose object words do not all occur in `sight`. */
export function focusInSight(candidates: readonly string[], sight: string): string[] {
  const seen = normaliseSciWorldAction(sight);
  return candidates.filter((candidate) => {
    if (!candidate.startsWith(FOCUS)) return true;
    const objectWords = candidate.slice(FOCUS.length).replace(FOCUS_FILLER, ' ').split(' ').filter(Boolean);
    return objectWords.every((word) => seen.includes(word));
  });
}
