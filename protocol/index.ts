export * from './errors.js';
export * from './signaling.js';
