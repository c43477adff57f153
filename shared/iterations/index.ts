export * from './download-links';
export * from './schema';
