import { pickOne } from '../../shared/random';

/**
 * Thought texts of the simulated policy. Several phrasings per situation so that samples drawn at
 * temperature > 0 differ in wording even when they agree on the action, as a real model's would.
 */

type Slots = Record<string, string | number>;

const templates = {
  get: [
    'I need {count} {item} to craft {parent}. {item} is not craftable, so I should get it.',
    'To make {parent} I am missing {count} {item}, which I can fetch directly.',
    '{parent} needs {item} and I do not have enough. Let me get {count} {item}.',
  ],
  craftIntermediate: [
    'I have the ingredients for {item}, which I need for {parent}. I will craft it now.',
    'Next I should craft {item} for {parent}; everything it needs is in my inventory.',
    'All inputs for {item} are available, and {parent} requires it, so I craft {item}.',
  ],
  craftGoal: [
    'I have everything needed for {item}. Crafting it completes the task.',
    'All the ingredients for {item} are in my inventory, so I can craft the goal now.',
    'Now I can craft {item} with the ingredients I collected.',
  ],
  lost: [
    'I am not sure which of these recipes leads to {item}. Let me look at my inventory.',
    'I cannot see how to make {item} from these commands. I will check what I have.',
  ],
  repeat: [
    'That did not work as expected. Let me try the same thing again.',
    'I will try this once more.',
    'Let me repeat my last action.',
  ],
  irrelevant: [
    '{item} looks useful here, so I will work on it.',
    'Maybe {item} helps with the goal. Let me go for it.',
  ],
  direct: ['Maybe I can just get {item} directly.', 'I need {item}; I will try to get it.'],
  premature: ['I think I can craft {item} now.', 'Let me craft {item} right away.'],
  generic: ['The recipe asks for {item}, so I will use {item}.', 'I need {count} {item} for {parent}.'],
} as const;

export type ThoughtKind = keyof typeof templates;

/** A thought of the given kind; `random` picks the phrasing (always the first at temperature 0). */
export function thought(kind: ThoughtKind, slots: Slots, random: () => number): string {
  const template = pickOne(random, templates[kind]) ?? templates[kind][0];
  const text = template.replace(/\{(\w+)\}/g, (_, key: string) => String(slots[key] ?? ''));
  // Item names are lower case; a sentence starting with one still starts with a capital.
  return text.replace(
    /(^|[.!?]\s+)([a-z])/g,
    (_, before: string, letter: string) => before + letter.toUpperCase(),
  );
}

/** The response format the reference uses: `Thought: ...` then `Action: ...`. */
export function formatResponse(thoughtText: string, action: string): string {
  return `Thought: ${thoughtText}\nAction: ${action}`;
}
