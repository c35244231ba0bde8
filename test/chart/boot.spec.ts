// Chart <-> code, for real: each Deployment of the kind render is started locally with
// exactly the command (from its Dockerfile), environment and files the manifest gives it.
// Secrets hold test values, the cluster's NATS and PostgreSQL are real local servers
// (NATS with the chart's own users and permissions), the Azure stand-ins run from their own
// Deployment with the configuration k8s/kind/create-secrets.sh makes, kind's service-account
// issuer is played by an HTTPS issuer with a CA of its own, and container ports move to free
// local ports. The migration Jobs run first; then every service's liveness and readiness
// probes must pass on the probed paths (the token broker's only once Key Vault accepted its
// workload identity), SIGTERM must end each process cleanly, and Chromium signs in through
// the rendered Ingress at the kind host names.
import {
  freePort,
  startNats,
  startNode,
  startPostgres,
  waitForHttp,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ofKind, renderSet, repoRoot, type K8sObject } from './support/chart';
import { defined } from '../support/defined';
import { probePort } from './support/pods';
import { startKindIssuer, type KindIssuer } from './support/kind-issuer';
import { run, waitForProbe, type Running } from './support/run';
import { localProcess, type LocalProcess, type World } from './support/simulate';

jest.setTimeout(180_000);

const objects = (): K8sObject[] => renderSet('kind').objects;
const named = (kind: string, suffix: string) =>
  ofKind(objects(), kind).find((o) => o.metadata.name.endsWith(suffix));

const NATS_SECRET = 'identity-platform-nats';
// values-kind.yaml's ingress host (the portal's public origin).
const INGRESS_HOST = 'identity.localtest.me';
const PG_SECRET = 'identity-platform-postgresql';

let pg: TestPostgres;
let nats: TestNatsServer;
let dir: string;
let world: World;
let kindIssuer: KindIssuer;
const running: Running[] = [];

/** The env a workload's pod would get, with container ports moved to free local ports. */
async function processOf(o: K8sObject): Promise<{
  p: LocalProcess;
  ports: Record<number, number>;
  /** The local port of a container port (default: the container's first). */
  port: (containerPort?: number) => number;
}> {
  const ports: Record<number, number> = {};
  for (const c of ofKindContainers(o))
    for (const port of c.ports ?? []) ports[port.containerPort] = await freePort();
  const p = localProcess(o, objects(), world, ports);
  const port = (containerPort = p.container.ports?.[0]?.containerPort): number =>
    defined(
      containerPort === undefined ? undefined : ports[containerPort],
      `${o.metadata.name}: local port for container port ${containerPort}`,
    );
  return { p, ports, port };
}

/** The rendered NATS users file (auth.conf). */
function natsAuthConf(): string {
  return defined(named('ConfigMap', '-nats-auth')?.data?.['auth.conf'], 'auth.conf ConfigMap');
}

function ofKindContainers(o: K8sObject) {
  const spec = (
    o.spec as { template: { spec: { containers: { ports?: { containerPort: number }[] }[] } } }
  ).template.spec;
  return spec.containers;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chart-boot-'));
  const secrets: World['secrets'] = {
    // One password per NATS user the chart renders (services and messaging.extraUsers).
    [NATS_SECRET]: Object.fromEntries(
      [...natsAuthConf().matchAll(/user: "([^"]+)"/g)].map(([, user]) => [
        user,
        `n${randomBytes(12).toString('hex')}`,
      ]),
    ),
    [PG_SECRET]: { 'postgres-password': randomBytes(12).toString('hex') },
    'identity-platform-portal': {
      'session-encryption-key': randomBytes(32).toString('base64'),
      'b2c-client-secret': 'portal-dev-secret-5f0c9a7e2b',
    },
  };
  world = {
    repoRoot,
    secrets,
    configMaps: {},
    hosts: {},
    dir,
    // The kubelet's projected token, from kind's issuer (set below).
    serviceAccountToken: (audience) =>
      kindIssuer.token('identity-platform', 'token-broker', audience),
    webhook: {
      tenantId: '00000000-0000-0000-0000-000000000000',
      authorityHost: 'https://login.microsoftonline.com/',
    },
  };

  // NATS with the chart's auth.conf; its passwords come from the server's environment, as the
  // rendered NATS StatefulSet wires them from the Secret.
  const natsSts = named('StatefulSet', '-nats')!;
  const natsEnv =
    (
      natsSts.spec as {
        template: {
          spec: {
            containers: {
              env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
            }[];
          };
        };
      }
    ).template.spec.containers[0]?.env ?? [];
  // (Defined as config variables, which nats-server resolves exactly like environment variables:
  // a child process cannot see process.env changes made inside jest's sandbox.)
  const passwords = natsEnv
    .filter((e) => e.valueFrom?.secretKeyRef)
    .map(
      (e) =>
        `${e.name}: ${JSON.stringify(secrets[e.valueFrom!.secretKeyRef!.name]?.[e.valueFrom!.secretKeyRef!.key])}`,
    );
  const authConf = natsAuthConf();
  [pg, nats] = await Promise.all([
    startPostgres(),
    startNats({ config: [...passwords, authConf].join('\n') }),
  ]);
  world.hosts['identity-nats:4222'] = `127.0.0.1:${nats.port}`;
  world.hosts['identity-postgresql:5432'] = `127.0.0.1:${pg.port}`;
  for (const db of ['portal', 'policy', 'scim']) await pg.createDatabase(db);

  // The dev CA and the certificate for the stand-ins and the ingress, as k8s/kind/create-secrets.sh makes them.
  const ensure = `import { ensureDevCa } from ${JSON.stringify(join(repoRoot, 'scripts', 'dev-ca.mjs'))}; await ensureDevCa({ hosts: ['identity-dev-azure', ${JSON.stringify(INGRESS_HOST)}] });`;
  execFileSync(process.execPath, ['--input-type=module', '-e', ensure]);
  const caDir = join(repoRoot, '.dev', 'ca');
  world.configMaps['identity-dev-ca'] = { 'ca.crt': readFileSync(join(caDir, 'ca.pem'), 'utf8') };
  // As create-secrets.sh: the seed config with a federated credential for kind's issuer and the
  // portal's ingress reply URL (k8s/kind/dev-azure-config.mjs), and the dev CA + cluster CA bundle.
  kindIssuer = await startKindIssuer(dir);
  execFileSync(process.execPath, [
    join(repoRoot, 'k8s', 'kind', 'dev-azure-config.mjs'),
    join(repoRoot, 'dev-azure', 'config', 'dev-azure.json'),
    join(dir, 'kind-dev-azure.json'),
    kindIssuer.issuer,
    'identity-platform:token-broker',
    `https://${INGRESS_HOST}`,
  ]);
  world.configMaps['identity-dev-azure-config'] = {
    'dev-azure.json': readFileSync(join(dir, 'kind-dev-azure.json'), 'utf8'),
  };
  world.configMaps['identity-dev-azure-trust'] = {
    'ca.crt': `${readFileSync(join(caDir, 'ca.pem'), 'utf8')}${kindIssuer.clusterCaPem}`,
  };
  secrets['identity-dev-azure-tls'] = {
    'tls.crt': readFileSync(join(caDir, 'server.pem'), 'utf8'),
    'tls.key': readFileSync(join(caDir, 'server.key.pem'), 'utf8'),
  };

  // The Azure stand-ins from their own Deployment.
  const devAzure = await processOf(named('Deployment', '-dev-azure')!);
  const [identityPort, keyVaultPort] = [devAzure.port(9443), devAzure.port(9444)];
  world.hosts['identity-dev-azure:9443'] = `localhost:${identityPort}`;
  world.hosts['identity-dev-azure:9444'] = `localhost:${keyVaultPort}`;
  world.hosts['identity-dev-azure'] = 'localhost';
  // The stand-ins' ingress host: what browsers and (through the CoreDNS rewrite) pods use.
  world.hosts['login.identity.localtest.me'] = `localhost:${identityPort}`;
  const again = localProcess(named('Deployment', '-dev-azure')!, objects(), world, devAzure.ports);
  const stand = run(again);
  running.push(stand);
  await waitForProbe(stand, identityPort, '/healthz', 'HTTPS');
});

afterAll(async () => {
  if (process.env.CHART_BOOT_DEBUG)
    for (const r of running) console.warn(`${r.p.owner}:\n${r.output()}`);
  await Promise.all(running.map((r) => r.stop()));
  await Promise.all([nats?.dispose(), pg?.stop(), kindIssuer?.stop()]);
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

  it.each(['portal', 'policy-api', 'scim', 'token-broker'])(
    '%s passes its liveness and readiness probes, then stops cleanly on SIGTERM',
    async (name) => {
      const deployment = named('Deployment', `-${name}`)!;
      const { p, port } = await processOf(deployment);
      const r = run(p);
      running.push(r);
      const c = p.container;
      const live = c.livenessProbe!;
      const ready = c.readinessProbe!;
      await waitForProbe(r, port(probePort(c, live)), live.httpGet!.path);
      await waitForProbe(r, port(probePort(c, ready)), ready.httpGet!.path);
      expect(await r.stop()).toBe(0);
    },
  );
});

describe('kind render, browser sign-in through the Ingress', () => {
  it("Chromium at https://identity.localtest.me signs in at the stand-ins' host and sees its claims and policy", async () => {
    // policy-api first: the portal reaches it through its Service name.
    const api = await processOf(named('Deployment', '-policy-api')!);
    const apiRun = run(api.p);
    running.push(apiRun);
    const apiPort = api.port();
    await waitForProbe(apiRun, apiPort, api.p.container.readinessProbe!.httpGet!.path);
    world.hosts['identity-policy-api:80'] = `127.0.0.1:${apiPort}`;
    const portal = await processOf(named('Deployment', '-portal')!);
    const portalRun = run(portal.p);
    running.push(portalRun);
    const portalPort = portal.port();
    await waitForProbe(portalRun, portalPort, portal.p.container.readinessProbe!.httpGet!.path);
    // The portal is told its public origin unchanged: the browser resolves the kind host names.
    expect(portal.p.env.PUBLIC_BASE_URL).toBe(`https://${INGRESS_HOST}`);

    // The ingress controller: TLS for the host, the rendered Ingress's paths to the local pods.
    type Rule = {
      host: string;
      http: { paths: { path: string; backend: { service: { name: string } } }[] };
    };
    const rule = (named('Ingress', 'identity')!.spec as { rules: Rule[] }).rules.find(
      (r) => r.host === INGRESS_HOST,
    )!;
    const local: Record<string, number> = {
      'identity-portal': portalPort,
      'identity-policy-api': apiPort,
    };
    const routes = rule.http.paths
      .filter((p) => local[p.backend.service.name])
      .map((p) => ({
        prefix: p.path,
        upstream: `http://127.0.0.1:${local[p.backend.service.name]}`,
      }));
    expect(routes.map((r) => r.prefix).sort()).toEqual(['/', '/api']);
    const entryPort = await freePort();
    const caDir = join(repoRoot, '.dev', 'ca');
    const entry = startNode(join(repoRoot, 'scripts', 'entry-proxy.mjs'), {
      ENTRY_PORT: String(entryPort),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_ROUTES: JSON.stringify(routes),
      // The Ingress's host rule (any other Host reaches no service, as ingress-nginx's default
      // backend), and the address the readiness check below uses.
      ENTRY_HOSTS: `${rule.host},127.0.0.1:${entryPort}`,
    });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // *.localtest.me is 127.0.0.1 with kind's port 443 mapped to the controller; here the host maps to the entry port.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--host-resolver-rules=MAP ${INGRESS_HOST} 127.0.0.1:${entryPort}`,
      ],
    });
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    try {
      await waitForHttp(`https://127.0.0.1:${entryPort}/healthz`);
      page.setDefaultTimeout(20_000);
      const origin = `https://${INGRESS_HOST}`;
      // Where login.identity.localtest.me points in this simulation (the stand-ins' identity port).
      const identity = new URL(`https://${world.hosts['login.identity.localtest.me']}`);
      await page.goto(`${origin}/`);
      await Promise.all([page.waitForURL((u) => u.host === identity.host), page.click('#signIn')]);
      // The sign-in page, not an AADB2C90006 error: the ingress reply URL is registered (k8s/kind/dev-azure-config.mjs).
      expect(await page.title()).toBe('Sign in');
      await page.fill('#email', 'alice@contoso.example');
      await page.fill('#password', 'Alice-dev-Passw0rd!');
      await Promise.all([
        page.waitForURL((u) => u.origin === origin && u.pathname === '/'),
        page.click('#next'),
      ]);
      expect((await page.locator('#userName').textContent())?.trim()).toBe('Alice Example');
      const cookie = (await page.context().cookies(origin)).find(
        (c) => c.name === '__Host-portal_sid',
      );
      expect(cookie).toMatchObject({ secure: true, httpOnly: true });
      await page.goto(`${origin}/claims`);
      expect((await page.locator('td[data-claim="emails"]').textContent())?.trim()).toBe(
        'alice@contoso.example',
      );
      // The policy page calls policy-api with the access token: issuer and audience agree across the render.
      await page.goto(`${origin}/policy`);
      expect((await page.locator('dd[data-field="policyNumber"]').textContent())?.trim()).toMatch(
        /^PN\d{10}$/,
      );
    } catch (e) {
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}\nat ${page.url()}: ${(await page.content()).slice(0, 1500)}\nportal:\n${portalRun.output().slice(-4000)}\npolicy-api:\n${apiRun.output().slice(-2000)}\nentry:\n${entry.output()}`,
      );
    } finally {
      await browser.close();
      await entry.stop();
    }
  });
});
