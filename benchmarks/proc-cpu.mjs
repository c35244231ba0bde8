// CPU time of processes from /proc (Linux), for benchmarks that report CPU per request: on a
// shared machine requests/s moves with other load, CPU time per request does not.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * One process's `comm`, parent, own CPU seconds and its reaped children's (exited PostgreSQL
 * backends count at the postmaster); undefined once it has exited.
 */
export function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after `(comm)`: ppid is the 2nd, utime and stime the 12th and 13th, cutime and
    // cstime the 14th and 15th, in clock ticks (100 Hz).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ppid: Number(f[1]),
      cpu: (Number(f[11]) + Number(f[12])) / 100,
      children: (Number(f[13]) + Number(f[14])) / 100,
    };
  } catch {
    return undefined;
  }
}

/** Every live process, by pid. */
export function allProcStats() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(d);
    if (s) out.set(Number(d), s);
  }
  return out;
}
