/**
 * AgentGym's environment instruction texts: interoperability constants (a model fine-tuned on
 * AgentGym data expects them verbatim), so they are copied literally.
 * Source: WooooDyy/AgentGym, agentenv/agentenv/envs/{textcraft,webshop,sciworld}.py,
 * `conversation_start[0].value` (ReAct format).
 */

/** textcraft.py at the June-2024 code used by the Agent-R paper (commit f434743). */
export const TEXTCRAFT_INSTRUCTION =
  'You are given few useful crafting recipes to craft items in Minecraft. Crafting commands are of the format "craft [target object] using [input ingredients]".\nEvery round I will give you an observation, you have to respond an action based on the state and instruction. You can "get" an object (ingredients) from the inventory or the environment, look-up the game inventory by "inventory", or "craft" (target) using any of the crafting commands. You can use ONLY these crafting commands provided, do not use your own crafting commands. However, if the crafting command uses a generic ingredient like "planks", you can use special types of the same ingredient e.g. "dark oak planks" in the command instead.\nYour response should use the following format:\n\nThought:\n ... \n\nAction:\n ... ';

/** textcraft.py after the Sept-2025 update (commit 0412982): stricter format, worked examples. */
export const TEXTCRAFT_INSTRUCTION_V2025 =
  'You are given few useful crafting recipes to craft items in Minecraft. Crafting commands are of the format "craft [target object] using [input ingredients]".\nEvery round I will give you an observation, you have to respond an action based on the state and instruction. You can "get" an object (ingredients) from the inventory or the environment, look-up the game inventory by "inventory", or "craft" (target) using any of the crafting commands.\nYour output must strictly follow this format:"Thought:\\nyour thoughts.\\n\\nAction:\\nyour next action"\n\nReminder: \n1. Always specify the quantity when using "get" and "craft" commands. - Example of get: get 1 lapis lazuli - Example1 of craft: craft 1 blue dye using 1 lapis lazuli - Example2 of craft: craft 1 golden carrot using 8 gold nugget, 1 carrot\n2. When using "get" command, do not specify whether the item comes from the inventory or the environment.\n3. You can use ONLY crafting commands provided, do not use your own crafting commands. However, if the crafting command uses a generic ingredient like "planks", you can use special types of the same ingredient e.g. "dark oak planks" in the command instead.\n\n';

/** webshop.py (ReAct); identical in the 2024 and 2025 code. */
export const WEBSHOP_INSTRUCTION =
  'You are web shopping.\nI will give you instructions about what to do.\nYou have to follow the instructions.\nEvery round I will give you an observation and a list of available actions, you have to respond an action based on the state and instruction.\nYou can use search action if search is available.\nYou can click one of the buttons in clickables.\nAn action should be of the following structure:\nsearch[keywords]\nclick[value]\nIf the action is not valid, perform nothing.\nKeywords in search are up to you, but the value in click must be a value in the list of available actions.\nRemember that your keywords in search should be carefully designed.\nYour response should use the following format:\n\nThought:\nI think ... \n\nAction: \nclick[something]';

/** sciworld.py. */
export const SCIWORLD_INSTRUCTION =
  'You are an agent for science world. Every round I will give you an observation, you have to respond an action based on the observation to finish the given task. Here are the actions you may take: [{"action": "open/close OBJ", "description": "open/close a container"}, {"action": "de/activate OBJ", "description": "activate/deactivate a device"}, {"action": "connect OBJ to OBJ", "description": "connect electrical components"}, {"action": "disconnect OBJ", "description": "disconnect electrical components"}, {"action": "use OBJ [on OBJ]", "description": "use a device/item"}, {"action": "look around", "description": "describe the current room"}, {"action": "look at OBJ", "description": "describe an object in detail"}, {"action": "look in OBJ", "description": "describe a container\'s contents"}, {"action": "read OBJ", "description": "read a note or book"}, {"action": "move OBJ to OBJ", "description": "move an object to a container"}, {"action": "pick up OBJ", "description": "move an object to the inventory"}, {"action": "put down OBJ", "description": "drop an inventory item"}, {"action": "pour OBJ into OBJ", "description": "pour a liquid into a container"}, {"action": "dunk OBJ into OBJ", "description": "dunk a container into a liquid"}, {"action": "mix OBJ", "description": "chemically mix a container"}, {"action": "go to LOC", "description": "move to a new location"}, {"action": "eat OBJ", "description": "eat a food"}, {"action": "flush OBJ", "description": "flush a toilet"}, {"action": "focus on OBJ", "description": "signal intent on a task object"}, {"action": "wait", "description": "take no action for 10 iterations"}, {"action": "wait1", "description": "take no action for 1 iteration"}, {"action": "task", "description": "describe current task"}, {"action": "inventory", "description": "list your inventory"}]\nYour response should use the following format:\nThought:\nyour thoughts.\n\nAction:\nyour next action';

/** Environments with a known instruction; the built-in `crafting` engine plays TextCraft's rules. */
export type InstructionEnv = 'crafting' | 'textcraft' | 'textcraft-v2025' | 'webshop' | 'sciworld';

const instructions: Record<InstructionEnv, string> = {
  crafting: TEXTCRAFT_INSTRUCTION,
  textcraft: TEXTCRAFT_INSTRUCTION,
  'textcraft-v2025': TEXTCRAFT_INSTRUCTION_V2025,
  webshop: WEBSHOP_INSTRUCTION,
  sciworld: SCIWORLD_INSTRUCTION,
};

export function instructionFor(env: InstructionEnv): string {
  return instructions[env];
}
