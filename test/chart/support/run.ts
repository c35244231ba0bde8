// Runs a LocalProcess (node + args in its working directory) and asks it what a kubelet would.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LocalProcess } from './simulate';

export interface Running {
  p: LocalProcess;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function run(p: LocalProcess, extraEnv: Record<string, string> = {}): Running {
  // Only what the manifest gives (plus PATH): no inherited variables can hide a missing one.
  const child = spawn(process.execPath, p.args, {
    cwd: p.cwd,
    env: { PATH: process.env.PATH, ...p.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    p,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A kubelet httpGet probe: any 2xx/3xx passes; HTTPS certificates are not verified (kubelet doesn't). */
export function probe(port: number, path: string, scheme = 'HTTP'): Promise<number> {
  return new Promise((resolve) => {
    const req = (scheme === 'HTTPS' ? httpsRequest : httpRequest)(
      { host: '127.0.0.1', port, path, method: 'GET', timeout: 3000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls a probe until it passes, failing with the process output when it exits or times out. */
export async function waitForProbe(
  r: Running,
  port: number,
  path: string,
  scheme = 'HTTP',
  timeoutMs = 45000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  for (;;) {
    if (r.child.exitCode !== null)
      throw new Error(
        `${r.p.owner} exited (${r.child.exitCode}) before ${path} passed:\n${r.output()}`,
      );
    last = await probe(port, path, scheme);
    if (last >= 200 && last < 400) return last;
    if (Date.now() > deadline)
      throw new Error(`${r.p.owner}: ${path} on ${port} still answers ${last}:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
