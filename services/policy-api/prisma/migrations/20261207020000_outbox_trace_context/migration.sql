-- The W3C trace context (traceparent, tracestate) of the request that staged the event: the
-- relay publishes the event as a child of it, so one trace runs from the request to the
-- event's consumers (issue 15). NULL when the request was not traced.
ALTER TABLE "outbox" ADD COLUMN "trace_context" JSONB;
