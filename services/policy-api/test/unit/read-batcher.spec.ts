import { ReadBatcher } from '../../src/policies/read-batcher';

describe('ReadBatcher', () => {
  it('answers lookups of one turn with one load, each caller getting its own key (duplicates shared)', async () => {
    const loads: string[][] = [];
    const b = new ReadBatcher<string, string>(async (keys) => {
      loads.push(keys);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()]));
    });
    const results = await Promise.all(['a', 'b', 'a', 'missing'].map((k) => b.get(k)));
    expect(results).toEqual(['A', 'B', 'A', undefined]);
    expect(loads).toEqual([['a', 'b', 'missing']]);
    expect(await b.get('c')).toBe('C');
    expect(loads).toHaveLength(2);
  });

  it('rejects every caller of a failed load, and later loads work again', async () => {
    let fail = true;
    const b = new ReadBatcher<string, number>(async (keys) => {
      if (fail) throw new Error('database down');
      return new Map(keys.map((k) => [k, k.length]));
    });
    await expect(Promise.all([b.get('x'), b.get('yy')])).rejects.toThrow('database down');
    fail = false;
    expect(await b.get('yy')).toBe(2);
  });

  it('splits batches at the maximum size', async () => {
    const sizes: number[] = [];
    const b = new ReadBatcher<number, number>(async (keys) => {
      sizes.push(keys.length);
      return new Map(keys.map((k) => [k, k]));
    }, 3);
    await Promise.all([1, 2, 3, 4, 5].map((k) => b.get(k)));
    expect(sizes).toEqual([3, 2]);
  });
});
