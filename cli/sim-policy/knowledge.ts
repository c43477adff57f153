import { type CraftingTask, parseIngredients, type TakenStep } from './crafting-text';
import { memberKey, type NameKnowledge } from './recipe-book';

/**
 * What failed actions reveal about names: `get N x` answered `Could not find x` means x is not
 * fetchable; a craft whose counts match a shown line exactly but was refused as "not a valid
 * recipe" means the names used in place of that line's names are not accepted for them.
 */
export function learnNames(task: CraftingTask, steps: readonly TakenStep[]): NameKnowledge {
  const notFetchable = new Set<string>();
  const rejectedMembers = new Set<string>();
  for (const { action, observation } of steps) {
    const get = /^get \d+ (.+)$/.exec(action);
    if (get && observation.trim() === `Could not find ${get[1]}`) notFetchable.add(get[1]!);

    const craft = /^craft \d+ (.+?) using (.+)$/.exec(action);
    if (!craft || !observation.startsWith('Could not find a valid recipe')) continue;
    const used = parseIngredients(craft[2]!);
    if (!used) continue;
    const sameCounts = task.recipes.filter(
      (line) =>
        line.output === craft[1] &&
        line.inputs.length === used.length &&
        line.inputs.every((input, i) => input.count === used[i]!.count),
    );
    // The count in `craft N x` names the line meant when several have the same ingredient counts.
    const said = Number(/^craft (\d+)/.exec(action)![1]);
    const meant = sameCounts.some((l) => l.outCount === said)
      ? sameCounts.filter((l) => l.outCount === said)
      : sameCounts;
    for (const line of meant) {
      line.inputs.forEach((input, i) => {
        const name = used[i]!.name;
        if (name !== input.name) rejectedMembers.add(memberKey(input.name, name));
      });
    }
  }
  return { notFetchable, rejectedMembers };
}
