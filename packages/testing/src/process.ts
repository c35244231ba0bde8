import { spawn, type ChildProcess } from 'node:child_process';
import { endWithThisProcess } from './reaper';

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node <entry>` with the given environment (merged over a minimal base). */
export function startNode(
  entry: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): RunningProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  endWithThisProcess(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 20000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Polls a URL until it answers with the wanted status (default 200), or fails with the process output. */
export async function waitForHttp(
  url: string,
  o: { status?: number; timeoutMs?: number; proc?: RunningProcess } = {},
): Promise<Response> {
  const deadline = Date.now() + (o.timeoutMs ?? 30000);
  let last = '';
  for (;;) {
    if (o.proc && o.proc.child.exitCode !== null)
      throw new Error(
        `process exited (${o.proc.child.exitCode}) before ${url} answered:\n${o.proc.output()}`,
      );
    try {
      const r = await fetch(url);
      if (r.status === (o.status ?? 200)) return r;
      last = `status ${r.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${url} did not answer ${o.status ?? 200} in time (last: ${last})\n${o.proc?.output() ?? ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
