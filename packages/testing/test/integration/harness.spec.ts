import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { startNats, startPostgres } from '../../src';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('test harness', () => {
  it('ends the servers it started with the process, also when that process throws', async () => {
    // A script that starts both servers, prints their ports' owners, and throws without stopping them.
    const dist = join(__dirname, '..', '..', 'dist');
    const script = `
      const { execFileSync } = require('node:child_process');
      const t = require(${JSON.stringify(dist)});
      (async () => {
        await Promise.all([t.startPostgres(), t.startNats()]);
        const kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' });
        process.stdout.write(kids);
        throw new Error('a benchmark that fails half-way');
      })();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]).catch(
      (e: { stdout: string }) => e,
    );
    const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(2); // postmaster and nats-server (ps itself is gone)
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('starts a real PostgreSQL and creates isolated databases', async () => {
    const pg = await startPostgres();
    try {
      const a = await pg.createDatabase();
      const b = await pg.createDatabase();
      expect(a).not.toEqual(b);
      const c = new Client({ connectionString: a });
      await c.connect();
      const r = await c.query<{ v: string }>('select version() as v');
      await c.end();
      expect(r.rows[0]?.v).toMatch(/PostgreSQL/);
    } finally {
      await pg.stop();
    }
  });

  it('starts a real nats-server with JetStream that survives stop/start with its data', async () => {
    const nats = await startNats();
    try {
      let nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'] });
      await jetstream(nc).publish('harness.x', 'kept');
      await nc.close();
      await nats.stop();
      await nats.start();
      nc = await connect({ servers: nats.url });
      const info = await (await jetstreamManager(nc)).streams.info('HARNESS');
      expect(info.state.messages).toBe(1);
      await nc.close();
    } finally {
      await nats.dispose();
    }
  });
});
