import type { Logger } from '@nestjs/common';

/** Refusal lines per caller per window; the metric counts every refusal. */
const LINES_PER_WINDOW = 10;
const WINDOW_MS = 60_000;
/** Callers are authenticated NATS users (a short list); the cap only bounds a misconfiguration. */
const MAX_CALLERS = 1000;

interface Window {
  start: number;
  lines: number;
  suppressed: number;
}

/**
 * The warning for a refused token request, at most LINES_PER_WINDOW per caller per minute: a
 * caller retrying a refused request in a loop (each line carries its own registration and scope
 * strings) cannot flood the log. The first line of the next window says how many were left out.
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Pick<Logger, 'warn'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  refused(entry: { reason: string; caller: string; registration: string; scope: string }): void {
    const t = this.now();
    let w = this.windows.get(entry.caller);
    if (!w || t - w.start >= WINDOW_MS) {
      const suppressed = w?.suppressed ?? 0;
      if (!w && this.windows.size >= MAX_CALLERS) this.windows.clear();
      w = { start: t, lines: 0, suppressed: 0 };
      this.windows.set(entry.caller, w);
      if (suppressed > 0) {
        w.lines++;
        this.log.warn({ msg: 'token request refused', ...entry, suppressedBefore: suppressed });
        return;
      }
    }
    if (w.lines >= LINES_PER_WINDOW) {
      w.suppressed++;
      return;
    }
    w.lines++;
    // Names only (the request's own strings, JSON-escaped by the log); never a token.
    this.log.warn({ msg: 'token request refused', ...entry });
  }
}
