import { canonicalScimUrl } from '../../src/scim/scim-routes';

// Resource-type segments are matched case-insensitively and one trailing slash is accepted
// (clients send `/users` and `/Users/`); ids and the directory keep their case.

describe('SCIM resource paths', () => {
  it.each([
    ['/scim/v2/users', '/scim/v2/Users'],
    ['/scim/v2/USERS/', '/scim/v2/Users'],
    ['/Dir-A/scim/v2/groups/AbC?attributes=id', '/Dir-A/scim/v2/Groups/AbC?attributes=id'],
    ['/Dir-A/scim/v2/Users/AbC/', '/Dir-A/scim/v2/Users/AbC'],
    ['/scim/v2/serviceproviderconfig', '/scim/v2/ServiceProviderConfig'],
    ['/scim/v2/resourcetypes/User', '/scim/v2/ResourceTypes/User'],
    ['/scim/v2/users/.search', '/scim/v2/Users/.search'],
    ['/scim/v2/', '/scim/v2/'],
    ['/scim/v2/Unknown', '/scim/v2/Unknown'],
    ['/admin/directories/users', '/admin/directories/users'],
  ])('%s is routed as %s', (given, routed) => {
    expect(canonicalScimUrl(given)).toBe(routed);
  });
});
