import { DirectoriesService } from '../../src/tokens/directories.service';
import { GROUP, USER, startScim, type ScimTestApp } from '../support/scim-app';

// /Schemas must describe what the service does (RFC 7643 §7): a validator reads `uniqueness` and
// then expects a duplicate to be refused (409 uniqueness, RFC 7644 §3.3) or accepted accordingly.

describe('conformance: /Schemas agrees with behaviour', () => {
  let s: ScimTestApp;
  beforeAll(async () => {
    s = await startScim();
  });
  afterAll(() => s.close());

  interface Attr {
    name: string;
    uniqueness: string;
  }
  const groupDisplayName = async (token: string): Promise<string[]> => {
    const list = await s.request('GET', '/scim/v2/Schemas', { token });
    const one = await s.request('GET', `/scim/v2/Schemas/${GROUP}`, { token });
    expect([list.status, one.status]).toEqual([200, 200]);
    const fromList = list.body.Resources.find((d: { id: string }) => d.id === GROUP);
    return [fromList, one.body].map(
      (d: { attributes: Attr[] }) =>
        d.attributes.find((a) => a.name === 'displayName')?.uniqueness ?? 'missing',
    );
  };
  const twoGroups = async (token: string): Promise<number[]> => {
    const statuses: number[] = [];
    for (const displayName of ['Dup', 'DUP']) {
      const r = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName },
      });
      statuses.push(r.status);
    }
    return statuses;
  };

  it('says group displayName uniqueness is "server" where duplicates are refused', async () => {
    const token = await s.directory('disc-unique');
    expect(await groupDisplayName(token)).toEqual(['server', 'server']);
    expect(await twoGroups(token)).toEqual([201, 409]);
  });

  it('says "none" in a directory that turned the rule off, where duplicates are accepted', async () => {
    const token = await s.directory('disc-shared');
    await s.app.get(DirectoriesService).update('disc-shared', { uniqueGroupDisplayName: false });
    expect(await groupDisplayName(token)).toEqual(['none', 'none']);
    expect(await twoGroups(token)).toEqual([201, 201]);
  });

  it('says displayName, name.givenName and name.familyName are required where the aws profile refuses a user without them', async () => {
    interface Def {
      name: string;
      required: boolean;
      subAttributes?: Def[];
    }
    const requiredOf = async (token: string): Promise<string[]> => {
      const doc = (await s.request('GET', `/scim/v2/Schemas/${USER}`, { token })).body as {
        attributes: Def[];
      };
      const walk = (defs: Def[], parent: string): string[] =>
        defs.flatMap((d) => [
          ...(d.required ? [parent + d.name] : []),
          ...walk(d.subAttributes ?? [], `${parent}${d.name}.`),
        ]);
      return walk(doc.attributes, '').sort();
    };
    const aws = await s.directory('disc-aws', 'aws');
    expect(await requiredOf(aws)).toEqual(
      ['displayName', 'name', 'name.familyName', 'name.givenName', 'userName'].sort(),
    );
    const bare = await s.request('POST', '/scim/v2/Users', {
      token: aws,
      body: { schemas: [USER], userName: 'no-names' },
    });
    expect(bare.status).toBe(400);
    const plain = await s.directory('disc-default');
    expect(await requiredOf(plain)).toEqual(['userName']);
  });
});
