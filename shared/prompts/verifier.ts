import type { ChatMessage } from '../chat';
import type { ShrinkablePrompt } from './fit-prompt';
import { fillJudgeTemplate } from './judge-template';

/**
 * The step verifier ("model-guided transition point", reference/agent-r.md s.4) in our own words:
 * the actor model judges one step of a bad path from the task, the earlier steps and the current
 * step, gives its reasons first and ends with `Judgment: Good|Bad|Uncertain`.
 * The section headers below are also how sim-policy recognises and reads the prompt.
 */

export type StepJudgement = 'good' | 'bad' | 'uncertain';

export interface VerifierStep {
  action: string;
  observation: string;
}

export interface VerifierInput {
  taskDescription: string;
  /** Steps before the one being judged, oldest first. */
  history: VerifierStep[];
  current: VerifierStep;
}

export const VERIFIER_HEADERS = {
  task: '## Task description',
  history: '## Earlier steps (Action / Observation log)',
  current: '## Step to judge',
  question: '## Your judgement',
} as const;

const NO_HISTORY = '(none: this is the first step)';

const QUESTION = [
  'Is the action in "Step to judge" good, bad or uncertain for completing the task?',
  '- Good: it clearly moves the task forward.',
  '- Bad: it clearly hurts progress: invalid, not doing what was expected, or irrelevant to the task.',
  '- Uncertain: its effect cannot be told yet.',
  'Consider the task, the earlier steps and the observation that followed the action.',
  'Write your reasons first. Then finish with exactly one line of the form',
  'Judgment: <Good or Bad or Uncertain>',
].join('\n');

/**
 * The earlier steps as a numbered log; `omitted` leading steps were dropped to fit the context
 * (the numbering keeps the real step numbers and a note says how many are missing).
 */
export function formatVerifierHistory(history: readonly VerifierStep[], omitted = 0): string {
  if (history.length === 0 && omitted === 0) return NO_HISTORY;
  const lines = history.map(
    (s, i) => `Action ${omitted + i + 1}: ${s.action}\nObservation ${omitted + i + 1}: ${s.observation}`,
  );
  if (omitted > 0)
    lines.unshift(`(${omitted} earlier step${omitted === 1 ? '' : 's'} left out to fit the context)`);
  return lines.join('\n');
}

export function buildVerifierPrompt(input: VerifierInput, omitted = 0): string {
  const history = formatVerifierHistory(input.history, omitted);
  return [
    'You review one step taken by an agent working on a task in a text environment.',
    '',
    VERIFIER_HEADERS.task,
    input.taskDescription,
    '',
    VERIFIER_HEADERS.history,
    history,
    '',
    VERIFIER_HEADERS.current,
    `Action: ${input.current.action}`,
    `Observation: ${input.current.observation}`,
    '',
    VERIFIER_HEADERS.question,
    QUESTION,
  ].join('\n');
}

/** The verifier request as chat messages: one user turn (no system turn needed). */
export function buildVerifierMessages(input: VerifierInput): ChatMessage[] {
  return [{ role: 'user', content: buildVerifierPrompt(input) }];
}

/**
 * The verifier request with its history droppable oldest first (the task and the judged step
 * always stay), in our wording or a user's template (shared/prompts/judge-template.ts).
 */
export function verifierPrompt(input: VerifierInput, template?: string): ShrinkablePrompt {
  return {
    maxDrop: input.history.length,
    build: (drop) => {
      const kept = { ...input, history: input.history.slice(drop) };
      const content =
        template === undefined
          ? buildVerifierPrompt(kept, drop)
          : fillJudgeTemplate(template, {
              task: input.taskDescription,
              history: formatVerifierHistory(kept.history, drop),
              action: input.current.action,
              observation: input.current.observation,
            });
      return [{ role: 'user', content }];
    },
  };
}

/**
 * The FINAL `Judgment:` / `Judgement:` label of a verifier answer (models sometimes restate
 * the question first); anything unparseable counts as uncertain.
 */
export function parseJudgement(text: string): StepJudgement {
  const labels = [...text.matchAll(/judg(?:e)?ment[\s:*"'`<[(=-]*(good|bad|uncertain)\b/gi)];
  const last = labels[labels.length - 1];
  if (!last) return 'uncertain';
  return last[1]!.toLowerCase() as StepJudgement;
}

/** Reads a prompt made by buildVerifierPrompt back into its parts; null for any other text. */
export function parseVerifierPrompt(prompt: string): VerifierInput | null {
  const taskAt = prompt.indexOf(`${VERIFIER_HEADERS.task}\n`);
  const historyAt = prompt.indexOf(`\n${VERIFIER_HEADERS.history}\n`, taskAt);
  const currentAt = prompt.lastIndexOf(`\n${VERIFIER_HEADERS.current}\n`);
  const questionAt = prompt.lastIndexOf(`\n${VERIFIER_HEADERS.question}\n`);
  if (taskAt < 0 || historyAt < 0 || currentAt < historyAt || questionAt < currentAt) return null;

  const taskDescription = prompt
    .slice(taskAt + VERIFIER_HEADERS.task.length + 1, historyAt)
    .replace(/\n$/, '');
  const historyText = prompt
    .slice(historyAt + VERIFIER_HEADERS.history.length + 2, currentAt)
    .replace(/\n$/, '');
  const currentText = prompt.slice(currentAt + VERIFIER_HEADERS.current.length + 2, questionAt);
  const current = /^Action: ([\s\S]*?)\nObservation: ([\s\S]*?)\n?$/.exec(currentText);
  if (!current) return null;
  return {
    taskDescription,
    history: historyText === NO_HISTORY ? [] : parseHistory(historyText),
    current: { action: current[1]!, observation: current[2]! },
  };
}

function parseHistory(text: string): VerifierStep[] {
  const steps: VerifierStep[] = [];
  // Each entry starts at a line `Action k: `; its observation runs until the next entry.
  const entry = /^Action (\d+): ([\s\S]*?)\nObservation \1: ([\s\S]*?)(?=\nAction \d+: |$(?![\s\S]))/gm;
  for (const m of text.matchAll(entry)) steps.push({ action: m[2]!, observation: m[3]! });
  return steps;
}
