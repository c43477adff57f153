import { z } from 'zod';
import type { ChatMessage } from '../chat';

/**
 * How the conversation opens. `agent-r`: the reference code's FastChat template (a system turn,
 * a short acknowledgement). `agentgym`: AgentGym's own client (no system turn, its longer ack).
 */
export const conversationPresetSchema = z.enum(['agent-r', 'agentgym']);
export type ConversationPreset = z.infer<typeof conversationPresetSchema>;

export interface PresetTexts {
  system: string | null;
  acknowledgement: string;
}

const presetTexts: Record<ConversationPreset, PresetTexts> = {
  'agent-r': { system: 'You are a helpful assistant.', acknowledgement: 'Ok.' },
  agentgym: {
    system: null,
    acknowledgement: "OK. I'll follow your instructions and try my best to solve the task.",
  },
};

/** The fixed texts of a preset (the splicer and exporters need the acknowledgement too). */
export function presetTextsFor(preset: ConversationPreset): PresetTexts {
  return presetTexts[preset];
}

export interface RootPrefixInput {
  preset: ConversationPreset;
  instruction: string;
  firstObservation: string;
}

/**
 * The shared opening of every policy conversation and of every spliced training sample:
 * [system?], user = instruction, assistant = acknowledgement, user = first observation.
 */
export function buildRootPrefix({ preset, instruction, firstObservation }: RootPrefixInput): ChatMessage[] {
  const texts = presetTexts[preset];
  const messages: ChatMessage[] = [];
  if (texts.system !== null) messages.push({ role: 'system', content: texts.system });
  messages.push(
    { role: 'user', content: instruction },
    { role: 'assistant', content: texts.acknowledgement },
    { role: 'user', content: firstObservation },
  );
  return messages;
}
