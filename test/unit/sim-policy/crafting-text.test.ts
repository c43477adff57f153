import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../shared/chat';
import {
  displayName,
  parseCraftingTask,
  readCraftingConversation,
  reconstructInventory,
} from '../../../cli/sim-policy/crafting-text';
import { learnNames } from '../../../cli/sim-policy/knowledge';
import { memberKey } from '../../../cli/sim-policy/recipe-book';

// A real TextCraft observation (AgentGym server, task 168).
const acaciaGate = [
  'Crafting commands:',
  'craft 1 acacia pressure plate using 2 acacia planks',
  'craft 4 dark oak planks using 1 dark oak logs',
  'craft 4 stick using 2 planks',
  'craft 1 stick using 2 bamboo',
  'craft 4 acacia planks using 1 acacia logs',
  'craft 4 oak planks using 1 oak logs',
  'craft 1 acacia fence gate using 4 stick, 2 acacia planks',
  '',
  'Goal: craft acacia fence gate.',
].join('\n');

describe('reading crafting text', () => {
  it('parses recipe lines and the goal', () => {
    const task = parseCraftingTask(acaciaGate)!;
    expect(task.goal).toBe('acacia fence gate');
    expect(task.recipes).toHaveLength(7);
    expect(task.recipes[6]).toEqual({
      outCount: 1,
      output: 'acacia fence gate',
      inputs: [
        { count: 4, name: 'stick' },
        { count: 2, name: 'acacia planks' },
      ],
      line: 'craft 1 acacia fence gate using 4 stick, 2 acacia planks',
    });
    expect(parseCraftingTask('You are web shopping.')).toBeNull();
  });

  it('names items without their namespace', () => {
    expect(displayName('minecraft:dark_oak_planks')).toBe('dark oak planks');
    expect(displayName('workshop:oak_timber')).toBe('oak timber');
  });

  it('reconstructs the inventory from observations', () => {
    const inventory = reconstructInventory([
      { action: 'get 1 acacia logs', observation: 'Got 1 acacia logs' },
      {
        action: 'craft 4 acacia planks using 1 acacia logs',
        observation: 'Crafted 4 minecraft:acacia_planks',
      },
      { action: 'craft 4 stick using 2 acacia planks', observation: 'Crafted 4 minecraft:stick' },
      { action: 'get 2 planks', observation: 'Could not find planks' },
    ]);
    expect([...inventory]).toEqual([
      ['acacia planks', 2],
      ['stick', 4],
    ]);
    const stated = reconstructInventory([
      { action: 'get 1 x', observation: 'Got 1 x' },
      { action: 'inventory', observation: 'Inventory: [oak planks] (2) [acacia fence gate] (1) ' },
    ]);
    expect([...stated]).toEqual([
      ['oak planks', 2],
      ['acacia fence gate', 1],
    ]);
    expect(
      reconstructInventory([
        { action: 'inventory', observation: 'Inventory: You are not carrying anything.' },
      ]).size,
    ).toBe(0);
  });

  it('pairs responses with observations in a conversation', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'instruction' },
      { role: 'assistant', content: 'Ok.' },
      { role: 'user', content: acaciaGate },
      { role: 'assistant', content: 'Thought: wood.\nAction: get 1 acacia logs' },
      { role: 'user', content: 'Got 1 acacia logs' },
      { role: 'assistant', content: 'Thought: oops\nAction: look around!' },
      { role: 'user', content: 'Could not execute look around' },
    ];
    const conversation = readCraftingConversation(messages)!;
    expect(conversation.task.goal).toBe('acacia fence gate');
    expect(conversation.steps).toEqual([
      { action: 'get 1 acacia logs', observation: 'Got 1 acacia logs' },
      { action: 'look around', observation: 'Could not execute look around' },
    ]);
  });

  it('learns from refused names', () => {
    const task = parseCraftingTask(acaciaGate)!;
    const knowledge = learnNames(task, [
      { action: 'get 2 planks', observation: 'Could not find planks' },
      {
        action: 'craft 4 stick using 2 birch planks',
        observation:
          "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='minecraft:stick'), count=4)",
      },
      // Wrong counts teach nothing about names.
      {
        action: 'craft 4 stick using 3 oak planks',
        observation:
          "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='minecraft:stick'), count=4)",
      },
    ]);
    expect([...knowledge.notFetchable]).toEqual(['planks']);
    expect([...knowledge.rejectedMembers]).toEqual([memberKey('planks', 'birch planks')]);
  });
});
