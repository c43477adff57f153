import { CraftingEngine, type CraftingOptions } from '../../../shared/env/crafting/engine';
import type { World } from '../../../shared/env/crafting/world';
import { defaultWorld } from '../../../shared/worlds/default';
import type { TextCraftGame } from './scripted-textcraft-game';

export interface CraftingEngineGameOptions extends CraftingOptions {
  /**
   * Maps a data index to a goal item, for worlds whose goal order differs from the server being
   * imitated (AgentGym's TextCraft orders goals by filesystem listing). Default: `idx % goals`.
   */
  goalOf?: (dataIdx: number) => string | undefined;
}

/** Games for the fake TextCraft server played by the project's own crafting engine. */
export function craftingEngineGame(
  world: World = defaultWorld,
  options: CraftingEngineGameOptions = {},
): () => TextCraftGame {
  return () => {
    const engine = new CraftingEngine(world, options);
    return {
      reset(dataIdx) {
        const goal = options.goalOf?.(dataIdx);
        return (goal === undefined ? engine.reset(dataIdx) : engine.resetToGoal(goal)).observation;
      },
      step(action) {
        const { observation, reward, done } = engine.step(action);
        return { observation, reward, done };
      },
    };
  };
}
