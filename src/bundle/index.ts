export * from './bundle.js';
export * from './layout.js';
