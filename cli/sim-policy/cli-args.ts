import { parseArgs } from 'node:util';
import { type FaultKind, faultKinds } from './faults';
import { type MistakeKind, mistakeKindSchema } from './mistakes';
import { type SimPolicyOptionsInput, simPolicyOptionsSchema } from './options';

/** Command-line flags of cli/sim-policy/main.ts. */

export const HELP = `sim-policy: a simulated OpenAI-compatible policy endpoint (not a language model)

  --port N               listen port on 127.0.0.1 (0 = any free port; default 0)
  --model NAME           model id reported by /v1/models (default sim-policy); a Llama 3 or
                         GPT id also counts tokens with that family's real tokenizer
  --tokenizer-model NAME count with NAME's tokenizer instead, and leave the card's root out
                         (a model served under a name that does not tell)
  --seed N               seed mixed into every draw (default 0)
  --latency-ms N         base service time per request (default 150)
  --per-token-ms N       service time per generated token (default 2)
  --capacity N           requests served at once; the rest queue FIFO (default 32)
  --error-rate X         policy mistake probability per step at temperature 1 (default 0.25)
  --error-rate-at-zero X mistake probability at temperature 0 (default 0)
  --mistakes a,b         mistake kinds: ${mistakeKindSchema.options.join(', ')}
  --judge-accuracy X     probability a verifier answer is right (default 0.9)
  --fault-5xx X, --fault-429 X, --fault-hang X, --fault-garbage X, --fault-empty X
                         injected fault rate per request (default 0); per request also
                         via header x-sim-fault: 500|502|503|429|hang|garbage|empty|none
  --retry-after N        retry-after seconds sent with 429/503 (default 1)
  --hang-ms N            how long a hung request stays open (default 300000)
  --context-limit N      context length in tokens (prompt + max tokens); longer requests get
                         vLLM's 400 refusal (default: no limit)
  --no-tokenize          do not serve POST /tokenize
  --no-max-model-len     do not report max_model_len in /v1/models
`;

export function parseSimPolicyArgs(argv: string[]): SimPolicyOptionsInput | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      model: { type: 'string' },
      'tokenizer-model': { type: 'string' },
      seed: { type: 'string' },
      'latency-ms': { type: 'string' },
      'per-token-ms': { type: 'string' },
      capacity: { type: 'string' },
      'error-rate': { type: 'string' },
      'error-rate-at-zero': { type: 'string' },
      mistakes: { type: 'string' },
      'judge-accuracy': { type: 'string' },
      'fault-5xx': { type: 'string' },
      'fault-429': { type: 'string' },
      'fault-hang': { type: 'string' },
      'fault-garbage': { type: 'string' },
      'fault-empty': { type: 'string' },
      'retry-after': { type: 'string' },
      'hang-ms': { type: 'string' },
      'context-limit': { type: 'string' },
      'no-tokenize': { type: 'boolean' },
      'no-max-model-len': { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const num = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const faults: Partial<Record<FaultKind, number>> = {};
  for (const kind of faultKinds) {
    const rate = num(values[`fault-${kind}`]);
    if (rate !== undefined) faults[kind] = rate;
  }
  const options = {
    port: num(values.port),
    model: values.model,
    tokenizerModel: values['tokenizer-model'],
    seed: num(values.seed),
    latencyMs: num(values['latency-ms']),
    perTokenMs: num(values['per-token-ms']),
    capacity: num(values.capacity),
    errorRate: num(values['error-rate']),
    errorRateAtZero: num(values['error-rate-at-zero']),
    mistakes: values.mistakes?.split(',').map((k) => k.trim() as MistakeKind),
    judgeAccuracy: num(values['judge-accuracy']),
    faults,
    retryAfterSeconds: num(values['retry-after']),
    hangMs: num(values['hang-ms']),
    contextLimit: num(values['context-limit']),
    tokenize: values['no-tokenize'] ? false : undefined,
    reportMaxModelLen: values['no-max-model-len'] ? false : undefined,
  };
  // Validate now so a bad flag fails before anything listens.
  simPolicyOptionsSchema.parse(options);
  return options;
}
