export * from './bundle.js';
export * from './purge-signature.js';
