// The tests' Python packages, exact pins: the SCIM validator (services/scim/test/validator) and
// the chart validator (test/chart). Already in python3's site-packages, else
// `pip install --target tools/python` (tests get it on PYTHONPATH).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../context.mjs';

// The chart's pins last: the line printed ends with them, as before.
const requirements = [
  path.join(repoRoot, 'services', 'scim', 'test', 'validator', 'requirements.txt'),
  path.join(repoRoot, 'test', 'fuzz', 'requirements.txt'),
  path.join(repoRoot, 'test', 'chart', 'requirements.txt'),
];
const target = (ctx) => path.join(ctx.tools, 'python');
const pinsIn = () =>
  requirements.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean),
  );
// Prints the requirements' versions as installed, failing when one is missing or differs, or is
// not pinned exactly (`name[extra]==version`).
const check = `import sys, importlib.metadata as m
for r in sys.argv[1:]:
    n, sep, v = r.partition("==")
    if not sep or not v: sys.exit(f"{r}: not pinned with ==")
    n = n.split("[")[0]
    if m.version(n) != v: sys.exit(f"{n} {m.version(n)} != {v}")
print(" ".join(sys.argv[1:]))`;
const imports = 'import yaml, kubernetes_validate, scim2_tester, scim2_client.engines.httpx2';

export const python = {
  name: 'python packages',
  candidates: (ctx) => [{ path: target(ctx) }, { path: 'site-packages' }],
  version(ctx, where) {
    const python3 = ctx.which('python3');
    if (!python3) throw new Error('python3 not found on PATH');
    const env =
      where === 'site-packages'
        ? {}
        : { PYTHONPATH: [where, ctx.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
    const out = ctx.run(python3, ['-c', check, ...pinsIn()], { env });
    ctx.run(python3, ['-c', imports], { env });
    return out.trim();
  },
  methods: [
    {
      name: 'pip install --target',
      unavailable: (ctx) => (ctx.which('python3') ? undefined : 'python3 not found on PATH'),
      install(ctx) {
        ctx.run(
          ctx.which('python3'),
          [
            '-m',
            'pip',
            'install',
            '--quiet',
            '--disable-pip-version-check',
            '--upgrade',
            '--target',
            target(ctx),
            ...requirements.flatMap((r) => ['-r', r]),
          ],
          { timeout: 900000 },
        );
        return target(ctx);
      },
    },
  ],
  fix: `python3 -m pip install -r services/scim/test/validator/requirements.txt -r test/fuzz/requirements.txt -r test/chart/requirements.txt (python3 with pip: apt-get install python3-pip, or brew install python)`,
  env: (where) => (where === 'site-packages' ? {} : { PYTHONPATH: where }),
};
