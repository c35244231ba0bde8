import { classify } from '../../src/provisioning-log/classify';

// The provisioning log and the per-directory metrics both name a request through classify().
describe('classify (provisioning log / metrics)', () => {
  it.each([
    [
      'POST',
      '/d1/scim/v2/.search',
      { directoryId: 'd1', resourceType: 'All', operation: 'search' },
    ],
    ['POST', '/scim/v2/.search', { resourceType: 'All', operation: 'search' }],
    ['GET', '/d1/scim/v2/.search', { directoryId: 'd1', resourceType: 'All', operation: 'get' }],
    ['POST', '/d1/scim/v2/Users/.search', { resourceType: 'User', operation: 'search' }],
    [
      'PATCH',
      '/d1/scim/v2/Groups/g%201',
      { resourceType: 'Group', operation: 'update', resourceId: 'g 1' },
    ],
    ['GET', '/d1/scim/v2/users', { resourceType: 'User', operation: 'list' }],
    ['GET', '/d1/scim/v2/constructor', { resourceType: 'Unknown', operation: 'list' }],
  ])('%s %s', (method, url, expected) => {
    expect(classify(method, url)).toMatchObject(expected);
  });

  it('ignores paths outside the SCIM base', () => {
    expect(classify('GET', '/health')).toBeUndefined();
    expect(classify('POST', '/d1/scim/v2/.search/x/y')).toBeUndefined();
  });
});
