// scim.rateLimit: the per-directory SCIM rate limit (SCIM_RATE_LIMIT_PER_SECOND / _BURST). Off (0)
// by default, when the chart sets neither variable and the service keeps its own default (no
// limit); set, it reaches the scim container only, in a form scim's own config accepts.
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
} from './support/chart';
import { serviceEnvs, SERVICES, type EnvVar } from './support/pods';
import { envProblems } from './support/service-env';

const RATE_VARS = ['SCIM_RATE_LIMIT_PER_SECOND', 'SCIM_RATE_LIMIT_BURST'];

const envsOf = serviceEnvs;
const rateEnv = (env: EnvVar[]) => env.filter((e) => RATE_VARS.includes(e.name));
const render = (set: string[]) =>
  envsOf(parseAndValidate(renderYaml({ set: [...defaultSets, ...set] }), []).objects);
const refused = (set: string[]): string => {
  const r = helm(templateArgs({ set: [...defaultSets, ...set] }));
  expect(r.status).not.toBe(0);
  return r.stderr;
};

describe('chart scim.rateLimit', () => {
  it.each(valueSets)('%s values set no rate limit variable (off by default)', (set) => {
    const envs = envsOf(renderSet(set).objects);
    expect([...envs.keys()].sort()).toEqual(SERVICES);
    for (const [service, env] of envs)
      expect({ service, rate: rateEnv(env) }).toEqual({ service, rate: [] });
  });

  it('0 is off: explicit zeros render nothing either', () => {
    const envs = render(['scim.rateLimit.perSecond=0', 'scim.rateLimit.burst=0']);
    expect(rateEnv(envs.get('scim') ?? [])).toEqual([]);
  });

  it('set: the scim container (only) gets both variables, and scim accepts them', () => {
    const envs = render(['scim.rateLimit.perSecond=50', 'scim.rateLimit.burst=200']);
    const scim = envs.get('scim') ?? [];
    expect(rateEnv(scim)).toEqual([
      { name: 'SCIM_RATE_LIMIT_PER_SECOND', value: '50' },
      { name: 'SCIM_RATE_LIMIT_BURST', value: '200' },
    ]);
    for (const [service, env] of envs)
      if (service !== 'scim')
        expect({ service, rate: rateEnv(env) }).toEqual({ service, rate: [] });
    // scim's own schema (built dist/config.js) takes what the chart wrote.
    const given = {
      NATS_URL: 'nats://nats.messaging.svc:4222', // what scim requires besides
      DATABASE_URL: 'postgresql://app:secret@db.example:5432/scim',
      ...Object.fromEntries(rateEnv(scim).map((e) => [e.name, e.value ?? ''])),
    };
    expect(envProblems(join(repoRoot, 'services', 'scim'), given)).toEqual([]);
  });

  it('a rate without a burst leaves the burst to the service (one second worth)', () => {
    const envs = render(['scim.rateLimit.perSecond=1000000']);
    // Large numbers stay integers (no 1e+06 the service would refuse).
    expect(rateEnv(envs.get('scim') ?? [])).toEqual([
      { name: 'SCIM_RATE_LIMIT_PER_SECOND', value: '1000000' },
    ]);
  });

  it.each([
    ['a negative rate', 'scim.rateLimit.perSecond=-1', /perSecond/],
    ['a fractional rate', 'scim.rateLimit.perSecond=2.5', /perSecond/],
    ['a rate that is not a number', 'scim.rateLimit.perSecond=fast', /perSecond/],
    ['a negative burst', 'scim.rateLimit.burst=-5', /burst/],
    ['a misspelt key', 'scim.rateLimit.perSec=5', /perSec/],
  ])('refuses %s (schema)', (_what, set, message) => {
    expect(refused([set])).toMatch(message);
  });

  it('refuses a burst without a rate (it would limit nothing)', () => {
    expect(refused(['scim.rateLimit.burst=20'])).toContain(
      'scim.rateLimit.burst is set but scim.rateLimit.perSecond is 0',
    );
  });

  it('refuses the variables in scim.env, where they would shadow or duplicate scim.rateLimit', () => {
    for (const name of RATE_VARS)
      expect(refused([`scim.env.${name}=10`])).toContain(`scim.env/secretEnv sets ${name}`);
  });
});
