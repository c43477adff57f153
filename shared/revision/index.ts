// Finished trees -> Agent-R training records (pairing, first-error frontier, splicing).
export * from './conversation';
export * from './early-judging';
export * from './first-error';
export * from './leaf-paths';
export * from './native-record';
export * from './pairs';
export * from './per-pair';
export * from './revision-sentences';
export * from './splice';
export * from './splice-task';
export * from './stable-hash';
