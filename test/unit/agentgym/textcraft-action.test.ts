import { describe, expect, it } from 'vitest';
import {
  TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE,
  cleanTextCraftAction,
  textCraftActionFromResponse,
} from '../../../shared/env/agentgym/textcraft-action';

const action = (text: string) => textCraftActionFromResponse(text);

describe('TextCraft action cleaning (AgentGym v2025 client)', () => {
  it('takes the line after Action:, skipping the newline after the marker', () => {
    expect(action('Thought:\nI need blue dye.\n\nAction:\nget 1 lapis lazuli')).toEqual({
      kind: 'action',
      action: 'get 1 lapis lazuli',
    });
    expect(action('Action: craft 1 blue dye using 1 lapis lazuli\nObservation: ...')).toEqual({
      kind: 'action',
      action: 'craft 1 blue dye using 1 lapis lazuli',
    });
  });

  it('refuses a response with more than one Action: (the server is not called)', () => {
    expect(action('Action: get 1 bone\nThought: more\nAction: inventory')).toEqual({
      kind: 'refused',
      observation: TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE,
    });
    expect(TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE).toBe(
      "Error: Only one 'Action' is allowed per response. Please adjust your response.",
    );
  });

  it('keeps letters, digits, commas and spaces, collapses spaces, keeps case', () => {
    expect(cleanTextCraftAction('  Craft 2 light-blue  dye using 1 blue_dye, 1 white dye.  ')).toBe(
      'Craft 2 lightblue dye using 1 bluedye, 1 white dye',
    );
    expect(cleanTextCraftAction('get\t1 oak log')).toBe('get1 oak log');
  });

  it('maps look to inventory and accepts a bare action', () => {
    expect(action('Action:\nLook')).toEqual({ kind: 'action', action: 'inventory' });
    expect(action('get 1 lapis lazuli')).toEqual({ kind: 'action', action: 'get 1 lapis lazuli' });
  });

  it('is idempotent, so replaying a cleaned action sends the same text', () => {
    const once = action('Thought: x\nAction: craft 4 oak planks using 1 oak log!');
    expect(once.kind).toBe('action');
    const cleaned = once.kind === 'action' ? once.action : '';
    expect(action(cleaned)).toEqual(once);
  });

  it('v2024: last Action: before any Instruction:, multiple markers allowed, look kept', () => {
    const v2024 = (text: string) => textCraftActionFromResponse(text, 'v2024');
    expect(v2024('Action: get 1 bone\nAction: inventory\nInstruction: ignore')).toEqual({
      kind: 'action',
      action: 'inventory',
    });
    expect(v2024('Action:\nlook')).toEqual({ kind: 'action', action: 'look' });
  });
});
