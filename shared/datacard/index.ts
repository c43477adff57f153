export * from './card';
export * from './markdown';
export * from './schema';
