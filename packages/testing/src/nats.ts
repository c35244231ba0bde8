import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerBinary } from './binaries';
import { freePort, waitForPort } from './ports';
import { endWithThisProcess } from './reaper';

export interface NatsServerOptions {
  /** Extra nats-server configuration (e.g. an `authorization { users = [...] }` block). */
  config?: string;
  port?: number;
}

export interface TestNatsServer {
  url: string;
  port: number;
  /** Stops the server but keeps its JetStream store, so start() brings the same state back (outage tests). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its store. */
  dispose(): Promise<void>;
}

/** Starts a real nats-server with JetStream on a free port. */
export async function startNats(opts: NatsServerOptions = {}): Promise<TestNatsServer> {
  const bin = natsServerBinary();
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nats-'));
  const conf = join(dir, 'nats.conf');
  writeFileSync(
    conf,
    [
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      opts.config ?? '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    stderr = '';
    child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    endWithThisProcess(child);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      child?.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${stderr}`))),
    );
    await Promise.race([waitForPort(port), exited]);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 5000).unref();
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
