// Values that would silently weaken the deployment are refused at render time, naming the value:
// an Ingress without TLS, egress to NATS or PostgreSQL anywhere, the stand-ins' API-server egress
// to anywhere. And no shipped render has an egress rule open to any address but Azure's 443.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chartDir,
  defaultSets,
  helm,
  ofKind,
  parseAndValidate,
  renderSet,
  templateArgs,
  valueSets,
  type K8sObject,
} from './support/chart';
import { containerOf } from './support/pods';

type Peer = { ipBlock?: { cidr: string; except?: string[] }; podSelector?: unknown };
type Rule = { to?: Peer[]; ports?: { port: number | string; protocol?: string }[] };
type PolicySpec = { egress?: Rule[] };

const policy = (objects: K8sObject[], name: string): PolicySpec =>
  ofKind(objects, 'NetworkPolicy').find((p) => p.metadata.name === name)!.spec as PolicySpec;
const without = (prefix: string) => defaultSets.filter((s) => !s.startsWith(prefix));
const render = (o: { valuesFiles?: string[]; set?: string[] }) => helm(templateArgs(o));
const ok = (o: { valuesFiles?: string[]; set?: string[] }) => {
  const r = render(o);
  expect(r.stderr).toBe('');
  return parseAndValidate(r.stdout, []).objects;
};

describe('an Ingress without TLS needs an explicit insecure acknowledgement', () => {
  const ack = 'ingress.tls.acknowledgeInsecurePlaintext';

  it.each(['values-kind.yaml', 'values-aks.yaml'])(
    '%s with ingress.tls.enabled=false fails the render, naming the acknowledgement',
    (file) => {
      const r = render({ valuesFiles: [file], set: ['ingress.tls.enabled=false'] });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(ack);
    },
  );

  it("the stand-ins' own Ingress is held to it too (with the main Ingress off)", () => {
    const r = render({
      valuesFiles: ['values-kind.yaml'],
      set: ['ingress.tls.enabled=false', 'ingress.enabled=false'],
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(ack);
  });

  it('renders plain HTTP once acknowledged, and the portal is told its http origin', () => {
    const objects = ok({
      valuesFiles: ['values-kind.yaml'],
      set: ['ingress.tls.enabled=false', `${ack}=true`],
    });
    for (const i of ofKind(objects, 'Ingress')) expect(i.spec).not.toHaveProperty('tls');
    const portal = ofKind(objects, 'Deployment').find(
      (d) => d.metadata.name === 'identity-portal',
    )!;
    expect(containerOf(portal).env).toContainEqual({
      name: 'PUBLIC_BASE_URL',
      value: 'http://identity.localtest.me',
    });
  });

  it('AKS values never acknowledge plaintext; the defaults do not either', () => {
    expect(readFileSync(join(chartDir, 'values-aks.yaml'), 'utf8')).not.toContain(
      'acknowledgeInsecurePlaintext',
    );
    expect(readFileSync(join(chartDir, 'values.yaml'), 'utf8')).toMatch(
      /^ {4}acknowledgeInsecurePlaintext: false$/m,
    );
  });
});

describe('external NATS: egress only to messaging.cidr', () => {
  it('fails the render without messaging.cidr, naming it', () => {
    const r = render({ set: without('messaging.cidr=') });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('messaging.cidr is required');
    expect(r.stderr).toContain('networkPolicy.natsTo');
  });

  it('refuses a malformed messaging.cidr through the schema', () => {
    const r = render({ set: [...defaultSets, 'messaging.cidr=10.30.0.0'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
    expect(r.stderr).toContain('/messaging/cidr');
  });

  it("every service that uses NATS reaches it at that range only, on every server URL's port; the portal not at all", () => {
    const objects = ok({
      set: [
        ...without('messaging.url='),
        'messaging.url=nats://a.example:4222\\,tls://b.example:7422\\,nats://c.example',
      ],
    });
    // The portal publishes and subscribes to nothing: no egress to the NATS range or its ports.
    const portalEgress = policy(objects, 'identity-portal').egress!;
    expect(
      portalEgress.filter(
        (r) =>
          r.to?.some((t) => t.ipBlock?.cidr === '10.30.0.0/24') ||
          r.ports?.some((p) => p.port === 4222 || p.port === 7422),
      ),
    ).toEqual([]);
    for (const svc of ['policy-api', 'scim', 'token-broker']) {
      const rule = policy(objects, `identity-${svc}`).egress!.find((r) =>
        r.ports?.some((p) => p.port === 7422),
      );
      expect(rule).toEqual({
        to: [{ ipBlock: { cidr: '10.30.0.0/24' } }],
        ports: [
          { port: 4222, protocol: 'TCP' },
          { port: 7422, protocol: 'TCP' },
        ],
      });
    }
  });

  it('a NATS inside the cluster is named by its pods instead (networkPolicy.natsTo): AKS values do so', () => {
    const rule = (objects: K8sObject[]) =>
      policy(objects, 'identity-scim').egress!.find((r) => r.ports?.some((p) => p.port === 4222));
    const peer = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nats' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } },
    };
    expect(rule(renderSet('aks').objects)?.to).toEqual([peer]);
    const objects = ok({
      set: [
        ...without('messaging.cidr='),
        'networkPolicy.natsTo[0].namespaceSelector.matchLabels.team=messaging',
      ],
    });
    expect(rule(objects)?.to).toEqual([
      { namespaceSelector: { matchLabels: { team: 'messaging' } } },
    ]);
  });

  it('is not needed when NATS runs in the release (its pods are the peer)', () => {
    const objects = ok({
      set: [...without('messaging.'), 'natsServer.enabled=true'],
    });
    const nats = policy(objects, 'identity-policy-api').egress!.find((r) =>
      r.ports?.some((p) => p.port === 4222),
    );
    expect(nats?.to).toEqual([
      {
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'nats',
            'app.kubernetes.io/instance': 'identity',
          },
        },
      },
    ]);
  });
});

describe('external PostgreSQL: egress only to postgresql.external.cidr', () => {
  it('fails the render without postgresql.external.cidr, naming it', () => {
    const r = render({ set: without('postgresql.external.cidr=') });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('postgresql.external.cidr is required');
  });

  it('AKS values name the database subnet; services with a database and the migrations reach only it', () => {
    const objects = renderSet('aks').objects;
    for (const name of [
      'identity-portal',
      'identity-policy-api',
      'identity-scim',
      'identity-migrations',
    ]) {
      const rules = policy(objects, name).egress!.filter((r) =>
        r.ports?.some((p) => p.port === 5432),
      );
      expect(rules).toEqual([
        { to: [{ ipBlock: { cidr: '10.20.0.0/24' } }], ports: [{ port: 5432, protocol: 'TCP' }] },
      ]);
    }
  });
});

describe("kind: the stand-ins reach the API server's addresses only", () => {
  it('every egress rule of the stand-ins names its peer; none is open to any address', () => {
    const egress = policy(renderSet('kind').objects, 'identity-dev-azure').egress!;
    for (const r of egress) expect(r.to?.length).toBeGreaterThan(0);
    const blocks = egress.flatMap((r) => (r.to ?? []).flatMap((p) => (p.ipBlock ? [p] : [])));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks)
      expect(Number(b.ipBlock!.cidr.split('/')[1])).toBeGreaterThanOrEqual(16);
  });

  it('takes the addresses k8s/kind/up.sh passes, port by port', () => {
    const r = helm([
      ...templateArgs({ valuesFiles: ['values-kind.yaml'] }),
      '--set-json',
      'devAzure.apiServerEgress.to=[{"cidr":"10.96.0.1/32","ports":[443]},{"cidr":"172.19.0.3/32","ports":[6443]}]',
    ]);
    expect(r.stderr).toBe('');
    const egress = policy(parseAndValidate(r.stdout, []).objects, 'identity-dev-azure').egress!;
    expect(egress.slice(1)).toEqual([
      { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }], ports: [{ port: 443, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '172.19.0.3/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] },
    ]);
  });

  it('fails the render when enabled without addresses', () => {
    const r = helm([
      ...templateArgs({ valuesFiles: ['values-kind.yaml'] }),
      '--set-json',
      'devAzure.apiServerEgress.to=[]',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('devAzure.apiServerEgress.to is required');
  });
});

describe.each(valueSets)('egress on the %s render', (set) => {
  it('every egress rule names its peer, and only the Azure/identity 443 rules may reach any public address', () => {
    for (const np of ofKind(renderSet(set).objects, 'NetworkPolicy')) {
      for (const r of (np.spec as PolicySpec).egress ?? []) {
        expect({ policy: np.metadata.name, peers: r.to?.length ?? 0 }).not.toEqual({
          policy: np.metadata.name,
          peers: 0,
        });
        for (const peer of r.to ?? []) {
          const cidr = peer.ipBlock?.cidr;
          if (cidr !== '0.0.0.0/0' && cidr !== '::/0') continue;
          expect({
            policy: np.metadata.name,
            ports: r.ports,
            except: peer.ipBlock?.except,
          }).toEqual({
            policy: np.metadata.name,
            ports: [{ port: 443, protocol: 'TCP' }],
            except: expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
          });
        }
      }
    }
  });
});
