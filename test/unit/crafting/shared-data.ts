import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecipeFile } from '../../../shared/env/crafting/import-minecraft';
import { importMinecraftRecipes } from '../../../shared/env/crafting/import-minecraft';
import type { World } from '../../../shared/env/crafting/world';

/**
 * The team's data folder beside the checkout (never committed to the project): Minecraft recipes
 * and real TextCraft server transcripts. Tests that need it skip, with a warning, when it is absent.
 */
export const sharedDataDir = path.resolve(process.cwd(), '../shared/data');
export const recipesDir = path.join(sharedDataDir, 'textcraft-recipes');
export const transcriptsFile = path.join(sharedDataDir, 'golden', 'textcraft-transcripts.json');

export const hasRecipes = existsSync(recipesDir);
export const hasTranscripts = hasRecipes && existsSync(transcriptsFile);

export function warnIfMissing(present: boolean, what: string): void {
  if (!present)
    console.warn(`skipping ${what}: ${sharedDataDir} is not present (team data, not part of the repo)`);
}

export function readRecipeFiles(dir = recipesDir): RecipeFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((fileName) => ({
      fileName,
      json: JSON.parse(readFileSync(path.join(dir, fileName), 'utf8')) as unknown,
    }));
}

let minecraft: World | undefined;
/** The imported TextCraft world, built once per test file. */
export function minecraftWorld(): World {
  minecraft ??= importMinecraftRecipes(readRecipeFiles(), 'minecraft');
  return minecraft;
}

export interface TranscriptStep {
  action: string;
  observation: string;
  reward: number;
  done: boolean;
}
export interface Transcript {
  data_idx: number;
  goal: string;
  initial_observation: string;
  steps: TranscriptStep[];
}

export function readTranscripts(): Transcript[] {
  return JSON.parse(readFileSync(transcriptsFile, 'utf8')) as Transcript[];
}
