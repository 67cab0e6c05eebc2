// Placeholder until the extension codecs land: exports the registry and the types.
export * from './registry.js';
export type * from './types.js';
