import type { Attributes, HrTime } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
  type IExportTraceServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * ExportTraceServiceRequest encoding, byte for byte what @opentelemetry/otlp-transformer's
 * ProtobufTraceSerializer writes (test/unit/otlp-protobuf.spec.ts compares them), at a fraction
 * of its CPU: every message size is computed once up front, so the request is written in one
 * pass into an exact-size buffer (the stock writer estimates everything in a first pass, then
 * shifts each length-prefixed message ≥ 128 bytes, i.e. every span, when it knows the length).
 * With every request sampled this encoding was the largest single cost tracing added per request.
 */

type Resource = ReadableSpan['resource'];
// Scope attributes are newer than this API version's type; the stock serializer writes them.
type Scope = ReadableSpan['instrumentationScope'] & {
  attributes?: Attributes;
  droppedAttributesCount?: number;
};
type Link = ReadableSpan['links'][number];
type TimedEvent = ReadableSpan['events'][number];

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

// Nested message sizes in the order the writer needs them (each computed once, in the size pass).
let sizes: number[] = [];
let next = 0;
/** A slot for a size known only after its contents were measured. */
const reserve = (): number => sizes.push(0) - 1;

let buf: Uint8Array = new Uint8Array(0);
let view: DataView = new DataView(buf.buffer);
let pos = 0;

// --- sizes ---------------------------------------------------------------------------------

/** Bytes of a varint as the stock writer writes it (negative numbers: 64-bit two's complement). */
function varintSize(v: number): number {
  if (v >= 0 && v < 128) return 1;
  if (v >= 0 && v < 16384) return 2;
  if (v >= 0 && v <= 4294967295) return v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
  let [low, high] = split64(v);
  let n = 1;
  while (high > 0 || low > 127) {
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
    n++;
  }
  return n;
}

function split64(value: number): [number, number] {
  if (value >= 0) return [value >>> 0, (value / 4294967296) >>> 0];
  const abs = Math.abs(value);
  let low = ~(abs >>> 0) >>> 0;
  let high = ~((abs / 4294967296) >>> 0) >>> 0;
  low = (low + 1) >>> 0;
  if (low === 0) high = (high + 1) >>> 0;
  return [low, high];
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** UTF-8 bytes of a string (lone surrogates as U+FFFD, like TextEncoder). */
function utf8Length(s: string): number {
  return s.length < 128 && isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

/** A length-delimited field's payload with its length prefix (the tag not included). */
const delimited = (n: number): number => varintSize(n) + n;
const strSize = (s: string): number => delimited(utf8Length(s));

function anyValueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 1 + strSize(value);
    case 'boolean':
      return 2;
    case 'number':
      return Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64
        ? 1 + varintSize(value)
        : 9;
    default:
      break;
  }
  if (value instanceof Uint8Array) return 1 + delimited(value.length);
  if (Array.isArray(value)) {
    const slot = reserve();
    let n = 0;
    for (const item of value as unknown[]) {
      const itemSlot = reserve();
      const size = anyValueSize(item);
      sizes[itemSlot] = size;
      n += 1 + delimited(size);
    }
    sizes[slot] = n;
    return 1 + delimited(n);
  }
  if (typeof value === 'object' && value !== null) {
    const slot = reserve();
    const n = attributesSize(value as Attributes);
    sizes[slot] = n;
    return 1 + delimited(n);
  }
  return 0;
}

/** Repeated KeyValue fields (tag included; field numbers here are all < 16). */
function attributesSize(attributes: Attributes): number {
  let n = 0;
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const kvSlot = reserve();
    const valueSlot = reserve();
    const valueSize = anyValueSize(attributes[key]);
    const kv = 1 + strSize(key) + 1 + delimited(valueSize);
    sizes[kvSlot] = kv;
    sizes[valueSlot] = valueSize;
    n += 1 + delimited(kv);
  }
  return n;
}

const idSize = (hex: string): number => delimited(hex.length >> 1);

function eventSize(e: TimedEvent): number {
  return (
    9 +
    1 +
    strSize(e.name) +
    (e.attributes ? attributesSize(e.attributes) : 0) +
    1 +
    varintSize(e.droppedAttributesCount || 0)
  );
}

function linkSize(l: Link): number {
  const ts = l.context.traceState?.serialize();
  return (
    1 +
    idSize(l.context.traceId) +
    1 +
    idSize(l.context.spanId) +
    (ts ? 1 + strSize(ts) : 0) +
    (l.attributes ? attributesSize(l.attributes) : 0) +
    1 +
    varintSize(l.droppedAttributesCount || 0) +
    5
  );
}

function statusSize(span: ReadableSpan): number {
  const { message, code } = span.status;
  return (message ? 1 + strSize(message) : 0) + 1 + varintSize(code);
}

function spanSize(span: ReadableSpan): number {
  const slot = reserve();
  const ctx = span.spanContext();
  let n = 1 + idSize(ctx.traceId) + 1 + idSize(ctx.spanId);
  const ts = ctx.traceState?.serialize();
  if (ts) n += 1 + strSize(ts);
  const parent = span.parentSpanContext?.spanId;
  if (parent) n += 1 + idSize(parent);
  n += 1 + strSize(span.name);
  if (span.kind != null) n += 1 + varintSize(span.kind + 1);
  n += 18;
  if (span.attributes) n += attributesSize(span.attributes);
  n += 1 + varintSize(span.droppedAttributesCount);
  for (const e of span.events) n += 1 + delimited(measured(eventSize, e));
  n += 1 + varintSize(span.droppedEventsCount);
  for (const l of span.links) n += 1 + delimited(measured(linkSize, l));
  n += 1 + varintSize(span.droppedLinksCount);
  n += 1 + delimited(measured(statusSize, span));
  n += 6; // flags: a two-byte tag (field 16) and a fixed32, never 0
  sizes[slot] = n;
  return n;
}

function measured<T>(size: (x: T) => number, x: T): number {
  const slot = reserve();
  const n = size(x);
  sizes[slot] = n;
  return n;
}

function scopeSize(scope: Scope): number {
  return measured(scopeBodySize, scope);
}

function scopeBodySize(scope: Scope): number {
  return (
    1 +
    strSize(scope.name) +
    (scope.version ? 1 + strSize(scope.version) : 0) +
    (scope.attributes ? attributesSize(scope.attributes) : 0) +
    (scope.droppedAttributesCount ? 1 + varintSize(scope.droppedAttributesCount) : 0)
  );
}

const resourceSize = (r: Resource): number =>
  measured((x: Resource) => (x.attributes ? attributesSize(x.attributes) : 0) + 2, r);

// --- writing -------------------------------------------------------------------------------

function writeVarint(value: number): void {
  if (value >= 0 && value <= 4294967295) {
    let v = value >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    return;
  }
  let [low, high] = split64(value);
  while (high > 0 || low > 127) {
    buf[pos++] = (low & 127) | 128;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  buf[pos++] = low & 127;
}

/** A tag of a field number < 16 (one byte). */
function tag(field: number, wire: number): void {
  buf[pos++] = (field << 3) | wire;
}

function writeString(s: string): void {
  const len = s.length;
  if (len < 128 && isAscii(s)) {
    buf[pos++] = len;
    for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
    return;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  writeVarint(bytes);
  pos += Buffer.from(buf.buffer, buf.byteOffset, buf.length).write(s, pos, bytes, 'utf8');
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

function writeId(hex: string): void {
  const n = hex.length >> 1;
  writeVarint(n);
  for (let i = 0; i < n; i++)
    buf[pos++] = (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
}

function writeFixed32(v: number): void {
  view.setUint32(pos, v >>> 0, true);
  pos += 4;
}

/** HrTime as unix nanoseconds, the same arithmetic as the stock writer. */
function writeTime(t: HrTime): void {
  const seconds = t[0];
  const nanos = t[1];
  const lower16 = (seconds & 65535) * 1e9;
  const upper = ((seconds / 65536) >>> 0) * 1e9;
  const low32 = (lower16 >>> 0) + ((((upper & 65535) * 65536) >>> 0) + nanos);
  const high =
    (Math.floor(lower16 / 4294967296) +
      ((upper / 65536) >>> 0) +
      Math.floor(low32 / 4294967296)) >>>
    0;
  view.setUint32(pos, low32 >>> 0, true);
  view.setUint32(pos + 4, high, true);
  pos += 8;
}

function writeAnyValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      tag(1, 2);
      writeString(value);
      return;
    case 'boolean':
      tag(2, 0);
      buf[pos++] = value ? 1 : 0;
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        tag(3, 0);
        writeVarint(value);
      } else {
        tag(4, 1);
        view.setFloat64(pos, value, true);
        pos += 8;
      }
      return;
    default:
      break;
  }
  if (value instanceof Uint8Array) {
    tag(7, 2);
    writeVarint(value.length);
    buf.set(value, pos);
    pos += value.length;
  } else if (Array.isArray(value)) {
    tag(5, 2);
    writeVarint(sizes[next++]!);
    for (const item of value as unknown[]) {
      tag(1, 2);
      writeVarint(sizes[next++]!);
      writeAnyValue(item);
    }
  } else if (typeof value === 'object' && value !== null) {
    tag(6, 2);
    writeVarint(sizes[next++]!);
    writeAttributes(value as Attributes, 1);
  }
}

function writeKeyValue(field: number, key: string, value: unknown): void {
  tag(field, 2);
  writeVarint(sizes[next++]!);
  const valueSize = sizes[next++]!;
  tag(1, 2);
  writeString(key);
  tag(2, 2);
  writeVarint(valueSize);
  writeAnyValue(value);
}

function writeAttributes(attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    writeKeyValue(field, key, attributes[key]);
  }
}

function writeSpan(span: ReadableSpan): void {
  tag(2, 2);
  writeVarint(sizes[next++]!);
  const ctx = span.spanContext();
  tag(1, 2);
  writeId(ctx.traceId);
  tag(2, 2);
  writeId(ctx.spanId);
  const ts = ctx.traceState?.serialize();
  if (ts) {
    tag(3, 2);
    writeString(ts);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    tag(4, 2);
    writeId(parent.spanId);
  }
  tag(5, 2);
  writeString(span.name);
  if (span.kind != null) {
    tag(6, 0);
    writeVarint(span.kind + 1);
  }
  tag(7, 1);
  writeTime(span.startTime);
  tag(8, 1);
  writeTime(span.endTime);
  if (span.attributes) writeAttributes(span.attributes, 9);
  tag(10, 0);
  writeVarint(span.droppedAttributesCount);
  for (const e of span.events) {
    tag(11, 2);
    writeVarint(sizes[next++]!);
    tag(1, 1);
    writeTime(e.time);
    tag(2, 2);
    writeString(e.name);
    if (e.attributes) writeAttributes(e.attributes, 3);
    tag(4, 0);
    writeVarint(e.droppedAttributesCount || 0);
  }
  tag(12, 0);
  writeVarint(span.droppedEventsCount);
  for (const l of span.links) {
    tag(13, 2);
    writeVarint(sizes[next++]!);
    tag(1, 2);
    writeId(l.context.traceId);
    tag(2, 2);
    writeId(l.context.spanId);
    const lts = l.context.traceState?.serialize();
    if (lts) {
      tag(3, 2);
      writeString(lts);
    }
    if (l.attributes) writeAttributes(l.attributes, 4);
    tag(5, 0);
    writeVarint(l.droppedAttributesCount || 0);
    tag(6, 5);
    writeFixed32(flagsOf(l.context.traceFlags, l.context.isRemote));
  }
  tag(14, 0);
  writeVarint(span.droppedLinksCount);
  tag(15, 2);
  writeVarint(sizes[next++]!);
  if (span.status.message) {
    tag(2, 2);
    writeString(span.status.message);
  }
  tag(3, 0);
  writeVarint(span.status.code);
  buf[pos++] = 0x85; // field 16, fixed32
  buf[pos++] = 0x01;
  writeFixed32(flagsOf(ctx.traceFlags, parent?.isRemote));
}

function flagsOf(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** Spans grouped by resource, then scope, in first-seen order (as the stock serializer does). */
function group(spans: ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const out = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = out.get(span.resource);
    if (!scopes) out.set(span.resource, (scopes = new Map()));
    const scope: Scope = span.instrumentationScope;
    const list = scopes.get(scope);
    if (list) list.push(span);
    else scopes.set(scope, [span]);
  }
  return out;
}

/** The ExportTraceServiceRequest for these spans (OTLP protobuf). */
export function encodeTraceExportRequest(spans: ReadableSpan[]): Uint8Array {
  const groups = group(spans);
  // Sizes first, in writing order: each resource block's, its resource's, each scope block's...
  sizes = [];
  next = 0;
  let total = 0;
  for (const [resource, scopes] of groups) {
    const resourceSlot = reserve();
    let rs = 1 + delimited(resourceSize(resource));
    for (const [scope, list] of scopes) {
      const scopeSlot = reserve();
      let ss = 1 + delimited(scopeSize(scope));
      for (const span of list) ss += 1 + delimited(spanSize(span));
      if (scope.schemaUrl) ss += 1 + strSize(scope.schemaUrl);
      sizes[scopeSlot] = ss;
      rs += 1 + delimited(ss);
    }
    if (resource.schemaUrl) rs += 1 + strSize(resource.schemaUrl);
    sizes[resourceSlot] = rs;
    total += 1 + delimited(rs);
  }
  buf = new Uint8Array(total);
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  pos = 0;
  for (const [resource, scopes] of groups) {
    tag(1, 2);
    writeVarint(sizes[next++]!);
    tag(1, 2);
    writeVarint(sizes[next++]!);
    if (resource.attributes) writeAttributes(resource.attributes, 1);
    tag(2, 0);
    buf[pos++] = 0;
    for (const [scope, list] of scopes) {
      tag(2, 2);
      writeVarint(sizes[next++]!);
      tag(1, 2);
      writeVarint(sizes[next++]!);
      tag(1, 2);
      writeString(scope.name);
      if (scope.version) {
        tag(2, 2);
        writeString(scope.version);
      }
      if (scope.attributes) writeAttributes(scope.attributes, 3);
      if (scope.droppedAttributesCount) {
        tag(4, 0);
        writeVarint(scope.droppedAttributesCount);
      }
      for (const span of list) writeSpan(span);
      if (scope.schemaUrl) {
        tag(3, 2);
        writeString(scope.schemaUrl);
      }
    }
    if (resource.schemaUrl) {
      tag(3, 2);
      writeString(resource.schemaUrl);
    }
  }
  if (pos !== total || next !== sizes.length)
    throw new Error(`OTLP encoding wrote ${pos} bytes of ${total}`);
  const out = buf;
  buf = new Uint8Array(0);
  sizes = [];
  return out;
}

const serializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: encodeTraceExportRequest,
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

/**
 * The OTLP http/protobuf trace exporter: @opentelemetry/exporter-trace-otlp-proto's transport
 * and configuration (every OTEL_EXPORTER_OTLP_* variable, retries, timeouts, compression,
 * headers, TLS files) with the encoder above in place of the stock serializer.
 */
export function otlpProtobufTraceExporter(): SpanExporter {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', {
        'Content-Type': 'application/x-protobuf',
      }),
      serializer,
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}
