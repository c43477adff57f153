import type { Recipe } from './world';
import { ingredientName } from './world';

/**
 * How TextCraft turns ids into the names players read and type: drop every `<namespace>:` and turn
 * `_` into spaces (`minecraft:oak_planks` -> `oak planks`); typed names go back by prefixing the
 * namespace and turning spaces (only) into `_`, so `oak_planks` also works.
 */
export function itemIdToName(id: string, namespace: string): string {
  return id.replaceAll(`${namespace}:`, '').replaceAll('_', ' ');
}

export function nameToItemId(name: string, namespace: string): string {
  return `${namespace}:${name.replaceAll(' ', '_')}`;
}

/** A recipe as a command line: `craft 4 oak planks using 1 oak logs`. */
export function recipeLine(recipe: Recipe, namespace: string): string {
  const inputs = recipe.inputs.map(
    (input) => `${input.count} ${itemIdToName(ingredientName(input), namespace)}`,
  );
  return `craft ${recipe.count} ${itemIdToName(recipe.output, namespace)} using ${inputs.join(', ')}`;
}

/**
 * A user's item spelling -> the id it names: spaces or underscores, `<namespace>:` optional
 * (`oak planks`, `oak_planks`, `minecraft:oak_planks`).
 */
export function normaliseItemQuery(query: string, namespace: string): string {
  let text = query.trim().replace(/\s+/g, ' ');
  if (text.toLowerCase().startsWith(`${namespace}:`)) text = text.slice(namespace.length + 1);
  return nameToItemId(text.trim(), namespace);
}
