// global.trustedProxies: which peers' X-Forwarded-* every service believes (TRUSTED_PROXIES).
// Unset by default, when the services keep their own default (loopback and private ranges, which
// holds the ingress controller's pods on kind and AKS); set, every service gets it, in a form
// each service's own config accepts.
import { join } from 'node:path';
import {
  defaultSets,
  helm,
  parseAndValidate,
  renderSet,
  renderYaml,
  repoRoot,
  templateArgs,
  valueSets,
  type K8sObject,
} from './support/chart';
import { serviceEnvs, SERVICES, type EnvVar } from './support/pods';
import { envProblems, serviceEnvSchema } from './support/service-env';

/** Each service's TRUSTED_PROXIES entries of a render (service -> env entries). */
const trustedOf = (objects: K8sObject[]): Map<string, EnvVar[]> =>
  new Map(
    [...serviceEnvs(objects)].map(([service, env]) => [
      service,
      env.filter((e) => e.name === 'TRUSTED_PROXIES'),
    ]),
  );
const render = (set: string[]) =>
  trustedOf(parseAndValidate(renderYaml({ set: [...defaultSets, ...set] }), []).objects);
const refused = (set: string[]): string => {
  const r = helm(templateArgs({ set: [...defaultSets, ...set] }));
  expect(r.status).not.toBe(0);
  return r.stderr;
};

/** The service's own schema's (built dist/config.js) problems with this TRUSTED_PROXIES value. */
const trustedProblems = (service: string, value: string): string[] =>
  envProblems(join(repoRoot, 'services', service), { TRUSTED_PROXIES: value }).filter((p) =>
    p.startsWith('TRUSTED_PROXIES'),
  );

describe('chart global.trustedProxies', () => {
  it.each(valueSets)(
    '%s values set no TRUSTED_PROXIES (the services keep their default)',
    (set) => {
      const envs = trustedOf(renderSet(set).objects);
      expect([...envs.keys()].sort()).toEqual(SERVICES);
      for (const [service, env] of envs) expect({ service, env }).toEqual({ service, env: [] });
    },
  );

  it('set: every service gets the list, comma-separated, and accepts it', () => {
    const envs = render([
      'global.trustedProxies={10.244.0.0/16,192.0.2.7,fd00::/8,2001:db8::1,loopback}',
    ]);
    expect([...envs.keys()].sort()).toEqual(SERVICES);
    for (const [service, env] of envs) {
      expect({ service, env }).toEqual({
        service,
        env: [
          {
            name: 'TRUSTED_PROXIES',
            value: '10.244.0.0/16,192.0.2.7,fd00::/8,2001:db8::1,loopback',
          },
        ],
      });
      // The service reads the variable and takes what the chart wrote (and would refuse a typo).
      expect(serviceEnvSchema(join(repoRoot, 'services', service)).keys).toContain(
        'TRUSTED_PROXIES',
      );
      expect({ service, problems: trustedProblems(service, env[0]?.value ?? '') }).toEqual({
        service,
        problems: [],
      });
      expect(trustedProblems(service, '10.0.0.0/33')).toHaveLength(1);
    }
  });

  it('[none] renders "none": every service believes nobody', () => {
    for (const [service, env] of render(['global.trustedProxies={none}']))
      expect({ service, env }).toEqual({
        service,
        env: [{ name: 'TRUSTED_PROXIES', value: 'none' }],
      });
  });

  it.each([
    ['a host name', 'global.trustedProxies={ingress-nginx.svc}'],
    ['an address out of range', 'global.trustedProxies={10.0.0.300}'],
    ['a prefix out of range', 'global.trustedProxies={10.0.0.0/33}'],
    ['none beside an address', 'global.trustedProxies={none,10.0.0.1}'],
    ['a string instead of a list', 'global.trustedProxies=10.0.0.1'],
  ])('refuses %s (schema)', (_what, set) => {
    expect(refused([set])).toMatch(/trustedProxies/);
  });

  it('refuses TRUSTED_PROXIES in a service env, where it would shadow global.trustedProxies', () => {
    expect(refused(['portal.env.TRUSTED_PROXIES=none'])).toContain(
      'portal.env/secretEnv sets TRUSTED_PROXIES',
    );
  });
});
