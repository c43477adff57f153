import { parseAction } from '../inference/parse-action';
import { defaultRevisionSentences } from '../revision/revision-sentences';

// How often the model revises itself: a response that is a reflection turn (the spliced
// `Thought: <revision sentence>\nAction: wait` of agent-r.md s.2) or that says in so many words
// that its approach was wrong. Training on revision trajectories should make these appear.

/** Generic self-correction phrasings (besides the sentence pool), matched case-insensitively. */
export const revisionPhrasePatterns: readonly RegExp[] = [
  /\bmy (previous |last |current )?(approach|plan|strategy|actions?|steps?) (was|were|is|are) (flawed|wrong|incorrect|mistaken|off track)\b/i,
  /\bi (realize|realise|see now|notice) (that )?(i (made|have made) a mistake|my (approach|plan|mistake))/i,
  /\bi made a mistake\b/i,
  /\b(let me|i (should|need to|will)) (rethink|reconsider|revise|correct|step back)\b/i,
  /\bi (took|have taken) a wrong (turn|step)\b/i,
  /\bheading in the wrong direction\b/i,
];

const squash = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export type RevisionMatcher = (response: string) => boolean;

/**
 * A matcher for reflection turns: `Action: wait`, any sentence of the pool (the default pool plus
 * the run's own `revisionSentences`), or a generic self-correction phrase.
 */
export function revisionMatcher(extraSentences: readonly string[] = []): RevisionMatcher {
  const pool = [...defaultRevisionSentences, ...extraSentences].map(squash).filter((s) => s.length > 0);
  return (response: string) => {
    if (!response) return false;
    if (/action\s*:/i.test(response) && squash(parseAction(response)) === 'wait') return true;
    const text = squash(response);
    if (pool.some((sentence) => text.includes(sentence))) return true;
    return revisionPhrasePatterns.some((pattern) => pattern.test(response));
  };
}

export const isRevisionResponse: RevisionMatcher = revisionMatcher();
