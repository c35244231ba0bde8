export * from './propagation';
export * from './spans';
export { tracingRequested } from './settings';
export { redactText, redactUrl } from './redaction';
export { shutdownTelemetry } from './lifecycle';
