import type { ChildProcess } from 'node:child_process';

const live = new Map<ChildProcess, NodeJS.Signals>();
let hooked = false;

/**
 * A server a test or benchmark starts ends with the process that started it, also when that
 * process throws or exits before it stopped the server (else nats-server and postgres outlive
 * it). `signal` is how the server wants to be stopped fast (postgres: SIGQUIT, SIGINT when its data is kept).
 */
export function endWithThisProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  live.set(child, signal);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const [c, s] of live) if (c.exitCode === null && c.signalCode === null) c.kill(s);
  });
}
