export * from './card';
export * from './markdown';
