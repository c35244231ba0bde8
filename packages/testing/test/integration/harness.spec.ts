import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { startNats, startPostgres } from '../../src';

describe('test harness', () => {
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
