import { RefusalLog } from '../../src/broker/refusal-log';

describe('RefusalLog', () => {
  const entry = (caller: string, i: number) => ({
    reason: 'unknown_registration',
    caller,
    registration: `reg-${i}`,
    scope: 'api://x/.default',
  });

  it('writes at most ten lines per caller a minute, then says how many it left out', () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const log = new RefusalLog(
      { warn: (e: unknown) => void lines.push(e as Record<string, unknown>) },
      () => now,
    );
    for (let i = 0; i < 25; i++) log.refused(entry('loop', i));
    log.refused(entry('other', 0)); // another caller has its own budget
    expect(lines.filter((l) => l.caller === 'loop')).toHaveLength(10);
    expect(lines.map((l) => l.registration).slice(0, 10)).toEqual(
      Array.from({ length: 10 }, (_, i) => `reg-${i}`),
    );
    expect(lines.filter((l) => l.caller === 'other')).toHaveLength(1);

    now = 59_999;
    log.refused(entry('loop', 25));
    expect(lines).toHaveLength(11); // still the same window

    now = 60_000;
    log.refused(entry('loop', 26));
    expect(lines.at(-1)).toEqual({
      msg: 'token request refused',
      ...entry('loop', 26),
      suppressedBefore: 16,
    });
    log.refused(entry('loop', 27));
    expect(lines.at(-1)).toEqual({ msg: 'token request refused', ...entry('loop', 27) });
  });
});
