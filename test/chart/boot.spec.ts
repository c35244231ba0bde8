// Chart <-> code, for real: each Deployment of the kind render is started locally with
// exactly the command (from its Dockerfile), environment and files the manifest gives it.
// Secrets hold test values, the cluster's NATS and PostgreSQL are real local servers
// (NATS with the chart's own users and permissions), the Azure stand-ins run from their own
// Deployment, and container ports move to free local ports. The migration Jobs run first;
// then every service's liveness and readiness probes must pass on the probed paths, and
// SIGTERM must end each process cleanly.
import { freePort, startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ofKind, renderSet, repoRoot, type K8sObject } from './support/chart';
import { probePort } from './support/pods';
import { run, waitForProbe, type Running } from './support/run';
import { localProcess, type LocalProcess, type World } from './support/simulate';

jest.setTimeout(180_000);

const objects = (): K8sObject[] => renderSet('kind').objects;
const named = (kind: string, suffix: string) => ofKind(objects(), kind).find((o) => o.metadata.name.endsWith(suffix));

const NATS_SECRET = 'identity-platform-nats';
const PG_SECRET = 'identity-platform-postgresql';

let pg: TestPostgres;
let nats: TestNatsServer;
let dir: string;
let world: World;
const running: Running[] = [];

/** The env a workload's pod would get, with container ports moved to free local ports. */
async function processOf(o: K8sObject): Promise<{ p: LocalProcess; ports: Record<number, number> }> {
  const ports: Record<number, number> = {};
  for (const c of ofKindContainers(o)) for (const port of c.ports ?? []) ports[port.containerPort] = await freePort();
  return { p: localProcess(o, objects(), world, ports), ports };
}

function ofKindContainers(o: K8sObject) {
  const spec = (o.spec as { template: { spec: { containers: { ports?: { containerPort: number }[] }[] } } }).template.spec;
  return spec.containers;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chart-boot-'));
  const secrets: World['secrets'] = {
    // One password per NATS user the chart renders (services and messaging.extraUsers).
    [NATS_SECRET]: Object.fromEntries(
      [...named('ConfigMap', '-nats-auth')!.data!['auth.conf'].matchAll(/user: "([^"]+)"/g)].map((m) => [m[1], `n${randomBytes(12).toString('hex')}`]),
    ),
    [PG_SECRET]: { 'postgres-password': randomBytes(12).toString('hex') },
    'identity-platform-portal': { 'session-encryption-key': randomBytes(32).toString('base64'), 'b2c-client-secret': 'portal-dev-secret-5f0c9a7e2b' },
  };
  world = {
    repoRoot,
    secrets,
    configMaps: {},
    hosts: {},
    dir,
    serviceAccountToken: () => readFileSync(join(dir, 'sa-token'), 'utf8'),
    webhook: { tenantId: '00000000-0000-0000-0000-000000000000', authorityHost: 'https://login.microsoftonline.com/' },
  };

  // NATS with the chart's auth.conf; its passwords come from the server's environment, as the
  // rendered NATS StatefulSet wires them from the Secret.
  const natsSts = named('StatefulSet', '-nats')!;
  const natsEnv = (natsSts.spec as { template: { spec: { containers: { env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }[] } } }).template.spec.containers[0].env;
  // (Defined as config variables, which nats-server resolves exactly like environment variables:
  // a child process cannot see process.env changes made inside jest's sandbox.)
  const passwords = natsEnv
    .filter((e) => e.valueFrom?.secretKeyRef)
    .map((e) => `${e.name}: ${JSON.stringify(secrets[e.valueFrom!.secretKeyRef!.name][e.valueFrom!.secretKeyRef!.key])}`);
  const authConf = named('ConfigMap', '-nats-auth')!.data!['auth.conf'];
  [pg, nats] = await Promise.all([startPostgres(), startNats({ config: [...passwords, authConf].join('\n') })]);
  world.hosts['identity-nats:4222'] = `127.0.0.1:${nats.port}`;
  world.hosts['identity-postgresql:5432'] = `127.0.0.1:${pg.port}`;
  for (const db of ['portal', 'policy', 'scim']) await pg.createDatabase(db);

  // The dev CA and the stand-ins' certificate, as k8s/kind/create-secrets.sh makes them.
  const ensure = `import { ensureDevCa } from ${JSON.stringify(join(repoRoot, 'scripts', 'dev-ca.mjs'))}; await ensureDevCa({ hosts: ['identity-dev-azure'] });`;
  execFileSync(process.execPath, ['--input-type=module', '-e', ensure]);
  const caDir = join(repoRoot, '.dev', 'ca');
  world.configMaps['identity-dev-ca'] = { 'ca.crt': readFileSync(join(caDir, 'ca.pem'), 'utf8') };
  // create-secrets.sh adds a federated credential for kind's issuer to the seed config and the
  // cluster CA to the stand-ins' trust bundle; here the stand-ins' own issuer plays the cluster's.
  world.configMaps['identity-dev-azure-config'] = { 'dev-azure.json': readFileSync(join(repoRoot, 'dev-azure', 'config', 'dev-azure.json'), 'utf8') };
  world.configMaps['identity-dev-azure-trust'] = { 'ca.crt': readFileSync(join(caDir, 'ca.pem'), 'utf8') };
  secrets['identity-dev-azure-tls'] = { 'tls.crt': readFileSync(join(caDir, 'server.pem'), 'utf8'), 'tls.key': readFileSync(join(caDir, 'server.key.pem'), 'utf8') };

  // The Azure stand-ins from their own Deployment. The projected service-account token a
  // kubelet would mount for the token broker comes from the stand-ins' cluster issuer.
  const devAzure = await processOf(named('Deployment', '-dev-azure')!);
  const [identityPort, keyVaultPort] = [devAzure.ports[9443], devAzure.ports[9444]];
  world.hosts['identity-dev-azure:9443'] = `localhost:${identityPort}`;
  world.hosts['identity-dev-azure:9444'] = `localhost:${keyVaultPort}`;
  world.hosts['identity-dev-azure'] = 'localhost';
  // The stand-ins' ingress host: what browsers and (through the CoreDNS rewrite) pods use.
  world.hosts['login.identity.localtest.me'] = `localhost:${identityPort}`;
  const again = localProcess(named('Deployment', '-dev-azure')!, objects(), world, devAzure.ports);
  const stand = run(again, { DEV_AZURE_SA_TOKEN_FILE: join(dir, 'sa-token'), DEV_AZURE_SERVICE_ACCOUNT: 'identity-platform:token-broker' });
  running.push(stand);
  await waitForProbe(stand, identityPort, '/healthz', 'HTTPS');
  for (let i = 0; !existsSync(join(dir, 'sa-token')) && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  if (process.env.CHART_BOOT_DEBUG) for (const r of running) console.warn(`${r.p.owner}:\n${r.output()}`);
  await Promise.all(running.map((r) => r.stop()));
  await Promise.all([nats?.dispose(), pg?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kind render, run locally', () => {
  it('the migration Jobs apply every service schema with the rendered command', async () => {
    const jobs = ofKind(objects(), 'Job');
    expect(jobs.length).toBe(3);
    for (const job of jobs) {
      const r = run(localProcess(job, objects(), world, {}));
      const code = await r.exited;
      if (code !== 0) throw new Error(`${job.metadata.name} exited ${code}:\n${r.output()}`);
      // Idempotent: a second run (pre-upgrade) finds nothing to do.
      const again = run(localProcess(job, objects(), world, {}));
      expect(await again.exited).toBe(0);
      expect(again.output()).toContain('up to date');
    }
  });

  it.each(['portal', 'policy-api', 'scim', 'token-broker'])('%s passes its liveness and readiness probes, then stops cleanly on SIGTERM', async (name) => {
    const deployment = named('Deployment', `-${name}`)!;
    const { p, ports } = await processOf(deployment);
    const r = run(p);
    running.push(r);
    const c = p.container;
    const live = c.livenessProbe!;
    const ready = c.readinessProbe!;
    await waitForProbe(r, ports[probePort(c, live)], live.httpGet!.path);
    await waitForProbe(r, ports[probePort(c, ready)], ready.httpGet!.path);
    expect(await r.stop()).toBe(0);
  });
});
