import { firstDuplicateKey } from '../../src/http/duplicate-keys';

describe('firstDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"b":{"c":1,"c":2}}', 'c'],
    ['[{"x":1},{"y":[{"z":1,"z":1}]}]', 'z'],
    ['{"a":{"b":1},"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'], // the same name, escaped
    ['{ "k" : "v" , "k" : "w" }', 'k'],
    ['{"":1,"":2}', ''],
    ['{"q\\"":1,"q\\"":2}', 'q"'],
  ])('finds the repeated name in %s', (text, name) => {
    expect(firstDuplicateKey(text)).toBe(name);
  });

  it.each([
    '{"a":1,"b":2}',
    '{"a":{"a":{"a":1}}}', // the same name at different levels
    '[{"a":1},{"a":2}]', // sibling objects
    '{"a":"a","b":["a","a"],"c":"{\\"a\\":1,\\"a\\":1}"}', // names inside string values
    '{"a\\\\":1,"a":2}', // an escaped backslash ends the name
    '"a"',
    '[]',
    '{}',
    '{"a":"}","b":"]","c":","}',
  ])('finds none in %s', (text) => {
    expect(firstDuplicateKey(text)).toBeUndefined();
  });

  it('folds names when asked (SCIM attribute names are case-insensitive)', () => {
    const text = '{"userName":"a","USERNAME":"b"}';
    expect(firstDuplicateKey(text)).toBeUndefined();
    expect(firstDuplicateKey(text, (n) => n.toLowerCase())).toBe('USERNAME');
  });

  it('agrees with JSON.parse on generated documents', () => {
    // A small deterministic generator: stringify never repeats a name, so a document is
    // clean until one member is copied next to itself.
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const names = ['a', 'b', 'é', '"', '\\', '{', '[', ',', ':', ' ', '\u2028'];
    const gen = (depth: number): unknown => {
      const k = rnd(depth > 3 ? 3 : 5);
      if (k === 0) return names[rnd(names.length)];
      if (k === 1) return rnd(100);
      if (k === 2) return null;
      if (k === 3) return Array.from({ length: rnd(4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = rnd(4); i > 0; i--) o[names[rnd(names.length)]! + rnd(3)] = gen(depth + 1);
      return o;
    };
    for (let n = 0; n < 300; n++) {
      const doc = { root: gen(0), last: 1 };
      const text = JSON.stringify(doc);
      expect(firstDuplicateKey(text)).toBeUndefined();
      const repeated = `${text.slice(0, -1)},"last":2}`;
      expect(JSON.parse(repeated)).toMatchObject({ last: 2 });
      expect(firstDuplicateKey(repeated)).toBe('last');
    }
  });
});
