export * from './first-error';
export * from './loops';
export * from './metrics';
export * from './recovery';
export * from './revisions';
export * from '../contracts/eval';
export * from './splits';
export * from './trajectory';
