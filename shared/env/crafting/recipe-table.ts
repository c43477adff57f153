import type { Ingredient } from './world';
import type { SourceRecipe } from './world-builder';
import { nameToItemId } from './names';

/**
 * A compact, readable way to author worlds: one recipe per line,
 * `<count> <output> [@<group>] = <count> <item or #tag>, ...`, e.g.
 * `4 oak timber @timber = 1 oak log` or `4 dowel = 2 #timber`. Names are display names (spaces);
 * they become ids in the given namespace.
 */
const LINE = /^(\d+) ([a-z][a-z0-9 ]*?)(?: @([a-z][a-z0-9 ]*))? = (.+)$/;
const INPUT = /^(\d+) (#?)([a-z][a-z0-9 ]*)$/;

export function parseRecipeTable(lines: readonly string[], namespace: string): SourceRecipe[] {
  return lines.map((raw) => {
    const line = raw.trim();
    const match = LINE.exec(line);
    if (!match) throw new Error(`recipe table: cannot read "${raw}"`);
    const [, count, output, group, inputText] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    const inputs = inputText.split(',').map((part): Ingredient => {
      const input = INPUT.exec(part.trim());
      if (!input) throw new Error(`recipe table: cannot read ingredient "${part.trim()}" in "${raw}"`);
      const [, inputCount, hash, name] = input as unknown as [string, string, string, string];
      const id = nameToItemId(name, namespace);
      return hash ? { tag: id, count: Number(inputCount) } : { item: id, count: Number(inputCount) };
    });
    const recipe: SourceRecipe = { output: nameToItemId(output, namespace), count: Number(count), inputs };
    if (group) recipe.group = nameToItemId(group, namespace);
    return recipe;
  });
}
