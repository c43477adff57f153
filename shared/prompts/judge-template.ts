/**
 * A user-supplied judge prompt: a template whose placeholders are filled per judged step. The
 * placeholders are fixed; a template must use each of them once or more and no others.
 */
export const JUDGE_PLACEHOLDERS = ['task', 'history', 'action', 'observation'] as const;
export type JudgePlaceholder = (typeof JUDGE_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** What is wrong with a template (null when it is usable). */
export function judgeTemplateProblem(template: string): string | null {
  const used = new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!));
  const unknown = [...used].filter((name) => !(JUDGE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0)
    return `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `{${n}}`).join(', ')}; use ${JUDGE_PLACEHOLDERS.map((n) => `{${n}}`).join(', ')}`;
  const missing = JUDGE_PLACEHOLDERS.filter((name) => !used.has(name));
  if (missing.length > 0) return `the template lacks ${missing.map((n) => `{${n}}`).join(', ')}`;
  return null;
}

/** The template with its placeholders filled (in one pass, so filled text is never re-read). */
export function fillJudgeTemplate(template: string, values: Record<JudgePlaceholder, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as JudgePlaceholder] : whole,
  );
}
