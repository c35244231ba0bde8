// Loaded only when tracing was asked for (see register.ts): every require below is paid only then.
import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import { injectTraceContext } from './propagation';
import { RedactingSpanProcessor, SENSITIVE_QUERY_PARAMS } from './redaction';
import { enableServerSpans } from './server-spans';
import { enableMessageSpans } from './spans';

function envNumber(name: string): number | undefined {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function otlpExporter(): SpanExporter {
  const protocol = (
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  if (protocol === 'grpc') return new GrpcExporter();
  if (protocol === 'http/json') return new JsonExporter();
  if (protocol !== 'http/protobuf')
    diag.warn(`Unsupported OTLP traces protocol "${protocol}", using http/protobuf`);
  return new ProtobufExporter();
}

/**
 * The span pipeline OTEL_TRACES_EXPORTER asks for (otlp by default, console for debugging),
 * behind the redacting processor. The SDK's own env parsing is bypassed only because a custom
 * processor replaces it; OTEL_BSP_* keep their meaning.
 */
function spanProcessors(): SpanProcessor[] {
  const names = new Set(
    (process.env.OTEL_TRACES_EXPORTER ?? 'otlp')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: SpanProcessor[] = [new RedactingSpanProcessor()];
  if (names.has('otlp') || names.size === 0)
    out.push(
      new BatchSpanProcessor({
        exporter: otlpExporter(),
        maxQueueSize: envNumber('OTEL_BSP_MAX_QUEUE_SIZE'),
        scheduledDelayMillis: envNumber('OTEL_BSP_SCHEDULE_DELAY'),
        exportTimeoutMillis: envNumber('OTEL_BSP_EXPORT_TIMEOUT'),
        maxExportBatchSize: envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      }),
    );
  if (names.has('console'))
    out.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  return out;
}

export interface RunningTelemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK: HTTP server spans (Fastify hooks, server-spans.ts), HTTP client
 * (node:http, undici/fetch), pg and Prisma. Azure SDK and MSAL requests are node:https calls, so
 * they are client spans too. No header is ever captured; query values and token-shaped strings
 * are redacted. Sampling follows OTEL_TRACES_SAMPLER/_ARG (SDK default: parent-based, always
 * on). Metrics and logs stay with Prometheus (prom-client) and pino: the SDK's metric and log
 * pipelines are not started.
 */
export function startSdk(serviceName: string): RunningTelemetry {
  const sdk = startNodeSdk({
    resourceAttributes: process.env.OTEL_SERVICE_NAME ? {} : { 'service.name': serviceName },
    spanProcessors: spanProcessors(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Outgoing node:http(s) only (Azure SDK, MSAL): server spans come from server-spans.ts.
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        redactedQueryParams: SENSITIVE_QUERY_PARAMS,
      }),
      new UndiciInstrumentation(),
      // Background polling (outbox relay, readiness) outside a request is not worth a trace each.
      // Pool checkouts are not worth a span each (the query span shows the wait).
      new PgInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        ignoreConnectSpans: true,
      }),
      new PrismaInstrumentation(),
    ],
  });
  // NATS requests and events carry the active W3C context from now on (headers set in
  // @idp/contracts, required only now so it loads after the instrumentations hooked require).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { setTraceContextSource } = require('@idp/contracts') as typeof import('@idp/contracts');
  setTraceContextSource(() => injectTraceContext({}));
  enableMessageSpans();
  enableServerSpans();
  return sdk;
}
