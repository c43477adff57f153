// Training records -> every trainer format, manifests, and multi-run dataset assembly.
export * from './agentgym';
export * from './assemble';
export * from './export';
export * from './general-chat';
export * from './jsonl';
export * from './manifest';
export * from './native';
export * from './openai';
export * from './sha256';
export * from './sharegpt';
export * from './training-example';
export * from './trl';
export * from './turns';
export * from './xtuner';
