import { isStatementTimeout, isTransientDbError, pgErrorCode } from '../../src/db/pool';

// How Prisma's driver adapter wraps a pg error: PostgreSQL's code sits in meta, Prisma's own
// (P2010, P2039...) at the top.
const prismaWrapped = (code: string) => ({
  code: 'P2010',
  meta: { driverAdapterError: { cause: { originalCode: code } } },
});

describe('PostgreSQL error codes', () => {
  it("reads a pg error's code and the code Prisma wraps, never Prisma's own", () => {
    expect(pgErrorCode({ code: '23505' })).toBe('23505');
    expect(pgErrorCode(prismaWrapped('57014'))).toBe('57014');
    expect(pgErrorCode(new Error('x'))).toBeUndefined();
    expect(pgErrorCode(null)).toBeUndefined();
    expect(isStatementTimeout(prismaWrapped('57014'))).toBe(true);
  });

  it.each([
    ['57014', 'statement timeout'],
    ['55P03', 'lock not available'],
    ['53300', 'too many connections'],
    ['57P01', 'admin shutdown'],
    ['40P01', 'deadlock victim'],
    ['40001', 'serialization failure'],
  ])('%s (%s) is transient: retry later, never a 500', (code) => {
    expect(isTransientDbError({ code })).toBe(true);
    expect(isTransientDbError(prismaWrapped(code))).toBe(true);
  });

  it.each(['23505', '23503', '22P02', '42P01'])(
    '%s is not transient (a real answer or a bug)',
    (code) => {
      expect(isTransientDbError({ code })).toBe(false);
    },
  );
});
