let stop: (() => Promise<void>) | undefined;

/** Called once by register.ts when the SDK started. */
export function onTelemetryShutdown(fn: () => Promise<void>): void {
  stop = fn;
}

/** Flushes queued spans and stops the SDK (bounded); a no-op when tracing is off. */
export async function shutdownTelemetry(timeoutMs = 2000): Promise<void> {
  const s = stop;
  stop = undefined;
  if (!s) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s().catch(() => undefined),
    new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
  ]);
  clearTimeout(timer);
}
