export * from './features';
export * from './presets';
export * from './rules';
export * from './steps';
