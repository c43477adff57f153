import type { LossMessage } from '../revision/conversation';

/** Leading system text (several system turns joined), and the rest of the conversation. */
export function splitSystem(messages: readonly LossMessage[]): {
  system: string | undefined;
  rest: LossMessage[];
} {
  let i = 0;
  const parts: string[] = [];
  for (; i < messages.length; i++) {
    const message = messages[i] as LossMessage;
    if (message.role !== 'system') break;
    parts.push(message.content);
  }
  return { system: parts.length > 0 ? parts.join('\n\n') : undefined, rest: messages.slice(i) };
}

/**
 * Makes turns strictly alternate user/assistant starting with a user turn, as the turn-pairing
 * formats need: consecutive same-role turns are joined (an assistant turn is trained if any
 * part was), a system turn after the start becomes user text, and a conversation that opens
 * with the assistant gets an empty user turn first.
 */
export function alternateTurns(messages: readonly LossMessage[]): LossMessage[] {
  const out: LossMessage[] = [];
  for (const message of messages) {
    const role = message.role === 'system' ? 'user' : message.role;
    const last = out[out.length - 1];
    if (last && last.role === role) {
      last.content = `${last.content}\n\n${message.content}`;
      if (role === 'assistant') last.loss = last.loss === true || message.loss === true;
      continue;
    }
    if (!last && role === 'assistant') out.push({ role: 'user', content: '' });
    out.push(
      role === 'assistant'
        ? { role, content: message.content, loss: message.loss === true }
        : { role, content: message.content },
    );
  }
  return out;
}
