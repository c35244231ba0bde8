import { z } from 'zod';
import { commonEnvShape } from '../../src/config/env';
import { ConfigError, loadConfig } from '../../src/config/load-config';

// TRUSTED_PROXIES is read at boot: a typo refuses to start, naming the variable and the entry,
// instead of Fastify's proxy-addr throwing on the first request (or trusting the wrong peers).
const schema = z.object({ TRUSTED_PROXIES: commonEnvShape.TRUSTED_PROXIES });
const parse = (value?: string) =>
  loadConfig(schema, value === undefined ? {} : { TRUSTED_PROXIES: value }).TRUSTED_PROXIES;
const problemsOf = (value: string): string[] => {
  try {
    parse(value);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error(`${value} was accepted`);
};

describe('TRUSTED_PROXIES', () => {
  it('defaults to loopback and private ranges (also when empty)', () => {
    expect(parse()).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(parse(' ')).toEqual(['loopback', 'linklocal', 'uniquelocal']);
  });

  it('takes IPs, CIDRs and the range names, trimmed', () => {
    expect(parse(' 10.244.0.0/16, 192.0.2.7 ,fd00::/8,::1, loopback')).toEqual([
      '10.244.0.0/16',
      '192.0.2.7',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
  });

  it('"none" trusts nobody', () => {
    expect(parse('none')).toEqual([]);
    expect(parse(' NONE ')).toEqual([]);
  });

  it.each([
    ['10.0.0.300', '10.0.0.300'],
    ['10.0.0.0/33', '10.0.0.0/33'],
    ['fd00::/129', 'fd00::/129'],
    ['10.0.0.0/', '10.0.0.0/'],
    ['10.0.0.0/8x', '10.0.0.0/8x'],
    ['ingress-nginx.svc', 'ingress-nginx.svc'],
    ['127.0.0.1,none', 'none'],
    ['10.0.0.0/8,private', 'private'],
  ])('refuses %s, naming the variable and the bad entry', (value, bad) => {
    const problems = problemsOf(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TRUSTED_PROXIES: /);
    expect(problems[0]).toContain(`"${bad}" is not an IP address`);
  });
});
