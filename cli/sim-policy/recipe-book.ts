import type { Recipe } from './crafting-text';

/**
 * What the conversation taught about names the lines leave open: generic names `get` could not
 * fetch, and concrete members the environment refused in place of a generic name.
 */
export interface NameKnowledge {
  notFetchable: ReadonlySet<string>;
  /** Keys `generic \0 member`. */
  rejectedMembers: ReadonlySet<string>;
}

export const noKnowledge: NameKnowledge = { notFetchable: new Set(), rejectedMembers: new Set() };

export function memberKey(generic: string, member: string): string {
  return `${generic}\u0000${member}`;
}

/**
 * What the shown recipe lines imply: which names are craftable, which ingredient names are
 * generic (`planks`: nothing produces it, but lines produce `oak planks`, `birch planks`), what
 * each item costs in actions, and which items belong to the goal's recipe tree.
 */
export class RecipeBook {
  private readonly byOutput = new Map<string, Recipe[]>();
  private readonly costMemo = new Map<string, number>();
  private readonly membersMemo = new Map<string, string[]>();

  constructor(
    readonly recipes: readonly Recipe[],
    private readonly knowledge: NameKnowledge = noKnowledge,
  ) {
    for (const recipe of recipes) {
      const list = this.byOutput.get(recipe.output) ?? [];
      list.push(recipe);
      this.byOutput.set(recipe.output, list);
    }
  }

  producers(name: string): readonly Recipe[] {
    return this.byOutput.get(name) ?? [];
  }

  isCraftable(name: string): boolean {
    return this.byOutput.has(name);
  }

  /**
   * Concrete members to use for a generic ingredient, best guess first; empty means "fetch it by
   * name" (also how the environment treats a tag none of whose members can be crafted). The lines
   * never say what a tag contains, so names are read the way a model would: `oak planks` for
   * `planks` straight away; a family guess for a two-word name (`dried sage` for `dried herb`)
   * only after `get` of the name failed. Members the environment refused are dropped.
   */
  tagMembers(name: string): string[] {
    const known = this.membersMemo.get(name);
    if (known) return known;
    const usable = (members: string[]) =>
      members.filter((m) => !this.knowledge.rejectedMembers.has(memberKey(name, m)));
    let members = usable(this.suffixMembers(name));
    if (members.length === 0 && this.knowledge.notFetchable.has(name))
      members = usable(this.familyMembers(name));
    this.membersMemo.set(name, members);
    return members;
  }

  /** Every plausible member, certain or guessed (the judge's notion of "part of the tree"). */
  possibleMembers(name: string): string[] {
    return [...new Set([...this.suffixMembers(name), ...this.familyMembers(name)])];
  }

  isTag(name: string): boolean {
    return this.tagMembers(name).length > 0;
  }

  /** Fetchable with `get` as far as we can tell. */
  isBase(name: string): boolean {
    return !this.isCraftable(name) && !this.isTag(name);
  }

  /** Outputs whose name ends with the generic name (`oak planks` for `planks`), raw materials last. */
  private suffixMembers(name: string): string[] {
    if (this.isCraftable(name)) return [];
    const suffixes = [` ${name}`];
    if (name.endsWith('s') && name.length > 2) suffixes.push(` ${name.slice(0, -1)}`);
    const pool = this.candidates(name).filter((o) => suffixes.some((s) => o.endsWith(s)));
    // `white wool` dyes into the other wools: the material of a family is usually not in its tag.
    const materials = this.materialsOf(pool);
    return [...pool.filter((o) => !materials.has(o)), ...pool.filter((o) => materials.has(o))];
  }

  /** A family of similar recipes sharing the name's last or first word (`red cloth` for `dyed cloth`). */
  private familyMembers(name: string): string[] {
    const words = name.split(' ');
    if (this.isCraftable(name) || words.length < 2) return [];
    const outputs = this.candidates(name);
    const sameLast = outputs.filter((o) => o.split(' ').at(-1) === words.at(-1));
    const sameFirst = outputs.filter((o) => o.split(' ')[0] === words[0]);
    for (const pool of [sameLast, sameFirst]) {
      const materials = this.materialsOf(pool);
      const family = largestFamily(
        pool.filter((o) => !materials.has(o)),
        (o) => this.shape(o),
      );
      if (family.length >= 2) return family;
    }
    return [];
  }

  /** Craftable outputs that could stand for `name`: never one made from `name` itself. */
  private candidates(name: string): string[] {
    return [...this.byOutput.keys()].filter((o) => o !== name && !this.dependsOn(o, name));
  }

  /** Names the recipes of `pool` are made from. */
  materialsOf(pool: readonly string[]): Set<string> {
    return new Set(pool.flatMap((o) => this.producers(o).flatMap((r) => r.inputs.map((i) => i.name))));
  }

  /** Recipe shape of an item's first line: output count and ingredient counts. */
  private shape(name: string): string {
    const recipe = this.producers(name)[0];
    return recipe ? `${recipe.outCount}:${recipe.inputs.map((i) => i.count).join(',')}` : '';
  }

  /** Whether any recipe tree of `item` uses `name` literally. */
  dependsOn(item: string, name: string, seen: Set<string> = new Set()): boolean {
    if (seen.has(item)) return false;
    seen.add(item);
    return this.producers(item).some((r) =>
      r.inputs.some((i) => i.name === name || this.dependsOn(i.name, name, seen)),
    );
  }

  /** Actions needed to end up holding `qty` of `name` from nothing (one `get` fetches any amount). */
  cost(name: string, qty: number, visiting: ReadonlySet<string> = new Set()): number {
    const key = `${name}\u0000${qty}`;
    const known = this.costMemo.get(key);
    if (known !== undefined) return known;
    if (visiting.has(name)) return Number.POSITIVE_INFINITY;
    const inner = new Set(visiting).add(name);
    let best: number;
    if (this.isCraftable(name)) {
      best = Math.min(...this.producers(name).map((r) => this.recipeCost(r, qty, inner)));
    } else {
      const members = this.tagMembers(name);
      best = members.length === 0 ? 1 : Math.min(...members.map((m) => this.cost(m, qty, inner)));
    }
    if (visiting.size === 0 || Number.isFinite(best)) this.costMemo.set(key, best);
    return best;
  }

  recipeCost(recipe: Recipe, qty: number, visiting: ReadonlySet<string> = new Set()): number {
    const crafts = Math.ceil(qty / recipe.outCount);
    let total = crafts;
    for (const input of recipe.inputs) total += this.cost(input.name, input.count * crafts, visiting);
    return total;
  }

  /** The cheapest recipe for `qty` of `name` (first shown wins ties); null if not craftable. */
  cheapestRecipe(name: string, qty: number): Recipe | null {
    let best: Recipe | null = null;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const recipe of this.producers(name)) {
      const c = this.recipeCost(recipe, qty, new Set([name]));
      if (c < bestCost) {
        best = recipe;
        bestCost = c;
      }
    }
    return best ?? this.producers(name)[0] ?? null;
  }

  /**
   * Every item name in the goal's recipe tree: all recipes of each item and the members of each
   * generic name (with `guesses`, also members only guessed at).
   */
  treeItems(goal: string, guesses = false): Set<string> {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const member of guesses ? this.possibleMembers(name) : this.tagMembers(name)) visit(member);
      for (const recipe of this.producers(name)) for (const input of recipe.inputs) visit(input.name);
    };
    visit(goal);
    return seen;
  }

  /** Recipe lines not used anywhere in the goal's tree (the distractors). */
  distractors(goal: string): Recipe[] {
    const tree = this.treeItems(goal);
    return this.recipes.filter((r) => !tree.has(r.output));
  }
}

/** The biggest group of items with the same key (first seen wins ties), in their original order. */
function largestFamily(items: string[], key: (item: string) => string): string[] {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  let best: string[] = [];
  for (const group of groups.values()) if (group.length > best.length) best = group;
  return best;
}
