export * from './bundle.js';
export * from './layout.js';
export * from './purge-signature.js';
