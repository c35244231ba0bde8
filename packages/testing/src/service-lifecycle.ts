import type { TestNatsServer } from './nats';
import { waitForHttp, type RunningProcess } from './process';

/** What a service process showed through the lifecycle every service shares (see below). */
export interface LifecycleObservation {
  /** The /readyz body once up. */
  ready: unknown;
  /** The /readyz body (answered 503) while NATS was down. */
  readyWithoutNats: { checks?: Record<string, string> };
  /** The x-request-id echoed for a request that sent `req-123`. */
  echoedRequestId: string | null;
  /** The exit code after SIGTERM. */
  exitCode: number | null;
  /** Everything the process wrote. */
  logs: string;
  /** Log lines that are not JSON (Node's own `(node:` warnings excepted). */
  unstructuredLines: string[];
}

/**
 * Drives the lifecycle every service shares, for its boot spec to assert on: /healthz, then
 * /readyz, then /readyz while NATS is stopped (503) and after it is back, a request carrying
 * `x-request-id: req-123` and a bearer token `secret-token` (which must never be logged), `during`
 * (the service's own checks against `base`), and SIGTERM (the process is stopped even when a step
 * fails).
 */
export async function observeLifecycle(o: {
  proc: RunningProcess;
  port: number;
  nats: TestNatsServer;
  during?: (base: string) => Promise<void>;
}): Promise<LifecycleObservation> {
  const base = `http://127.0.0.1:${o.port}`;
  const proc = o.proc;
  let ready: unknown;
  let readyWithoutNats: LifecycleObservation['readyWithoutNats'];
  let echoedRequestId: string | null;
  let exitCode: number | null;
  try {
    await waitForHttp(`${base}/healthz`, { proc });
    ready = await (await waitForHttp(`${base}/readyz`, { proc })).json();
    await o.nats.stop();
    const down = await waitForHttp(`${base}/readyz`, { status: 503, proc });
    readyWithoutNats = (await down.json()) as LifecycleObservation['readyWithoutNats'];
    await o.nats.start();
    await waitForHttp(`${base}/readyz`, { proc });
    const r = await fetch(`${base}/no-such-route`, {
      headers: { 'x-request-id': 'req-123', authorization: 'Bearer secret-token' },
    });
    echoedRequestId = r.headers.get('x-request-id');
    await o.during?.(base);
  } finally {
    exitCode = await proc.stop('SIGTERM');
  }
  const logs = proc.output();
  const unstructuredLines = logs
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('(node:') && !isJson(line));
  return { ready, readyWithoutNats, echoedRequestId, exitCode, logs, unstructuredLines };
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
