/** The runtime's public surface: what a service's main.ts and phase.ts import. */
export {
  AvroCodec,
  type Decoded,
  Decoder,
  type Encoder,
  frame,
  type SchemaSource,
  schemaIdOf,
} from './codec.ts';
export { dlqHeaders } from './dlq.ts';
export { type EmbeddedError, type EmbeddedOptions, type EmbeddedResult, runEmbedded } from './embedded.ts';
export { type HealthReport, LoopHealth } from './health.ts';
export { type OpsServer, type OpsServerOptions, serveOps } from './http.ts';
export { createLogger, type Logger } from './logger.ts';
export { RuntimeMetrics, serviceRegistry } from './metrics.ts';
export {
  type BatchPhase,
  definePhase,
  type ExpandPhase,
  type MapPhase,
  type PhaseContext,
  type PhaseDefinition,
} from './phase.ts';
export { registrySchemaSource } from './registry.ts';
export { dlq, drop, ok, type PhaseResult, reject } from './result.ts';
export type { RetryPolicy } from './retry.ts';
export { type PhaseService, type RunOptions, runPhaseService } from './runner.ts';
