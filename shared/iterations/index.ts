export * from './download-links';
export * from '../contracts/loops';
