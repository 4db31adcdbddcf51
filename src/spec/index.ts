export * from './schema.js';
export * from './primitives.js';
export * from './problems.js';
export * from './validate.js';
export * from './file.js';
export * from './diff.js';
export * from './edge-report.js';
export * from './secrets.js';
