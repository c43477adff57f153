import type { World } from '../env/crafting/world';
import { defaultWorld } from './default';

/** Worlds that ship with the code; stored or imported worlds are looked up after these. */
export const builtInWorlds: Readonly<Record<string, World>> = Object.freeze({
  [defaultWorld.name]: defaultWorld,
});

export function getBuiltInWorld(name: string): World | undefined {
  return Object.hasOwn(builtInWorlds, name) ? builtInWorlds[name] : undefined;
}

export { defaultWorld };
