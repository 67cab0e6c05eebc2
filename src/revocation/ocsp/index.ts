export * from './cert-id.js';
export * from './client.js';
export * from './nonce.js';
export * from './reason.js';
export * from './request.js';
export * from './response.js';
