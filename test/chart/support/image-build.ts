// An image build without a container engine: the stages of a Dockerfile replayed in a
// temporary directory, one directory per stage standing for that stage's filesystem root.
// COPY follows Docker's rules (build context filtered by .dockerignore, `--from=<stage>`,
// a source directory's contents copied into the destination, symlinks kept as they are) and
// RUN commands run with `sh -c` in the stage's WORKDIR, their absolute image paths (/app, /out,
// ...) moved under the stage's root. Only RUN commands that install system tools are skipped
// (see SKIPPED_RUN); the tools they install come from this machine (turbo from the repo's
// node_modules/.bin).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  op: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Instructions by stage; comments and parser directives dropped, `\` continuations joined. */
export function parseDockerfile(path: string): Stage[] {
  const logical = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const OP = op.toUpperCase();
    if (OP === 'FROM') {
      const [, base, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      if (!base) throw new Error(`${path}: FROM ${args} is not understood`);
      stages.push({ base, name: name ?? String(stages.length), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: OP, args });
    }
  }
  return stages;
}

/** RUN commands that only install system tools (replaced by this machine's own). */
export const SKIPPED_RUN = [
  /^apt-get update && apt-get install -y --no-install-recommends tini /,
  /^npm install -g turbo@[\d.]+ /,
];

/** The repository copied as `docker build` would send it: .dockerignore applied (Docker's rules:
 *  `**` any number of directories, a pattern also matching everything under a matched
 *  directory, the last matching pattern deciding, `!` re-including). */
const GLOBSTAR = '<globstar>';

export function buildContext(repoRoot: string, dest: string): void {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      const re = p
        .split('/')
        .map((seg) =>
          seg === '**'
            ? GLOBSTAR
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replaceAll(`${GLOBSTAR}/`, '(?:.*/)?')
        .replaceAll(`/${GLOBSTAR}`, '(?:/.*)?')
        .replaceAll(GLOBSTAR, '.*');
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`), raw: p };
    });
  const excluded = (rel: string) => {
    let out = false;
    for (const p of patterns) if (p.re.test(rel)) out = !p.negate;
    return out;
  };
  // A directory is walked when it is kept or a `!` pattern may re-include something inside it.
  const mayReinclude = (rel: string) =>
    patterns.some((p) => p.negate && (p.raw.startsWith(`${rel}/`) || p.raw.startsWith('**')));
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(repoRoot, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const out = excluded(r);
      if (entry.isDirectory()) {
        if (!out || mayReinclude(r)) walk(r);
      } else if (!out) {
        mkdirSync(join(dest, rel), { recursive: true });
        cpSync(join(repoRoot, r), join(dest, r), { verbatimSymlinks: true });
      }
    }
  };
  mkdirSync(dest, { recursive: true });
  walk('');
}

export interface SimulationOptions {
  repoRoot: string;
  dockerfile: string;
  /** Empty directory that receives context/ and stages/<name>/. */
  dir: string;
  /**
   * Stages whose RUN commands are not executed; their COPY lines are, and afterwards each
   * workspace they hold gets the repository's own build output (dist/, src/generated/) instead,
   * i.e. what that stage's build would produce from the same sources. Saves a full install and
   * build where a test only looks at the later stages.
   */
  reuseRepoBuildFor?: string[];
  log?: (line: string) => void;
}

export interface Simulation {
  stages: Stage[];
  /** Host directory standing for `/` of a stage. */
  rootOf(stage: string): string;
  /** The final stage: host path of its WORKDIR, its ENV, and what was skipped. */
  final: { name: string; root: string; workdir: string; env: Record<string, string> };
  skipped: string[];
}

/** Environment for RUN commands: this machine's tools, none of the npm_* settings of the npm
 *  run that started the tests (e.g. npm_config_workspace), plus the stage's ENV. */
function runEnv(repoRoot: string, stageEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$|TURBO_)/i.test(k)) env[k] = v;
  env.PATH = `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`;
  env.npm_config_update_notifier = 'false';
  return { ...env, ...stageEnv };
}

export function simulateImage(opts: SimulationOptions): Simulation {
  const { repoRoot, dockerfile, dir } = opts;
  const log = opts.log ?? (() => undefined);
  const stages = parseDockerfile(dockerfile);
  const context = join(dir, 'context');
  buildContext(repoRoot, context);
  const rootOf = (stage: string) => join(dir, 'stages', stage);
  // Top-level image directories the Dockerfile uses (/app, /repo, /out): moved under the stage root in RUN commands.
  const imageDirs = new Set<string>();
  for (const s of stages)
    for (const i of s.instructions) {
      const paths =
        i.op === 'WORKDIR'
          ? [i.args]
          : i.op === 'COPY'
            ? i.args.split(' ').filter((a) => !a.startsWith('--'))
            : [];
      for (const p of paths) {
        const [, top] = p.split('/');
        if (p.startsWith('/') && top) imageDirs.add(top);
      }
    }
  const mapRun = (cmd: string, root: string) =>
    imageDirs.size
      ? cmd.replace(
          new RegExp(`(^|[\\s=:'"])/(${[...imageDirs].join('|')})(?=[/\\s'":]|$)`, 'g'),
          (_m, pre: string, d: string) => `${pre}${root}/${d}`,
        )
      : cmd;
  const skipped: string[] = [];
  let last: Simulation['final'] | undefined;

  for (const stage of stages) {
    const root = rootOf(stage.name);
    mkdirSync(root, { recursive: true });
    let workdir = '/';
    const env: Record<string, string> = {};
    const reuse = opts.reuseRepoBuildFor?.includes(stage.name) ?? false;
    for (const { op, args } of stage.instructions) {
      if (op === 'WORKDIR') {
        workdir = posix.resolve(workdir, args);
        mkdirSync(join(root, workdir), { recursive: true });
      } else if (op === 'ENV') {
        const [, name, value] = /^(\S+?)[= ](.*)$/.exec(args) ?? [];
        if (name === undefined || value === undefined)
          throw new Error(`ENV ${args} is not understood`);
        env[name] = value;
      } else if (op === 'COPY') {
        const words = args.split(' ');
        const flags = words.filter((w) => w.startsWith('--'));
        const paths = words.filter((w) => !w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        if (flags.some((f) => !f.startsWith('--from=')))
          throw new Error(`COPY flag not simulated: ${args}`);
        const srcRoot = from ? rootOf(from) : context;
        const destRaw = paths.pop()!;
        const dest = join(root, posix.resolve(workdir, destRaw));
        for (const s of paths) {
          if (/[*?[]/.test(s)) throw new Error(`COPY wildcard not simulated: ${args}`);
          const src = join(srcRoot, from ? s : posix.resolve('/', s));
          if (!existsSync(src))
            throw new Error(`COPY source missing in ${from ?? 'context'}: ${s}`);
          if (statSync(src).isDirectory())
            cpSync(src, dest, { recursive: true, verbatimSymlinks: true, force: true });
          else {
            const target =
              destRaw.endsWith('/') || paths.length > 1 ? join(dest, basename(src)) : dest;
            mkdirSync(dirname(target), { recursive: true });
            cpSync(src, target, { verbatimSymlinks: true, force: true });
          }
        }
        log(`[${stage.name}] COPY ${args}`);
      } else if (op === 'RUN') {
        if (SKIPPED_RUN.some((re) => re.test(args))) {
          skipped.push(args);
          log(`[${stage.name}] skipped RUN ${args}`);
          continue;
        }
        if (reuse) {
          log(`[${stage.name}] replaced by the repository's build: RUN ${args}`);
          continue;
        }
        const cmd = mapRun(args, root);
        const t0 = Date.now();
        const r = spawnSync('sh', ['-c', cmd], {
          cwd: join(root, workdir),
          env: runEnv(repoRoot, env),
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        log(`[${stage.name}] RUN (${((Date.now() - t0) / 1000).toFixed(1)}s) ${args}`);
        if (r.status !== 0)
          throw new Error(
            `[${stage.name}] RUN failed (${r.status}): ${cmd}\n${r.stdout}\n${r.stderr}`,
          );
      }
      // ARG, USER, EXPOSE, ENTRYPOINT, CMD, LABEL: nothing to do on the filesystem.
    }
    if (reuse) copyRepoBuild(repoRoot, join(root, workdir));
    last = { name: stage.name, root, workdir: join(root, workdir), env };
  }
  return { stages, rootOf, final: last!, skipped };
}

/** dist/ and src/generated/ of each workspace present under `tree`, from the repository. */
function copyRepoBuild(repoRoot: string, tree: string): void {
  const ws =
    (JSON.parse(readFileSync(join(tree, 'package.json'), 'utf8')) as { workspaces?: string[] })
      .workspaces ?? [];
  for (const w of ws) {
    if (/[*?]/.test(w)) throw new Error(`unexpected workspace glob in a pruned tree: ${w}`);
    for (const out of ['dist', join('src', 'generated')]) {
      const from = join(repoRoot, w, out);
      if (!existsSync(from)) continue;
      if (!existsSync(join(tree, w))) continue;
      cpSync(from, join(tree, w, out), { recursive: true, verbatimSymlinks: true, force: true });
    }
  }
}

/** Bytes under a directory (files and links themselves, links not followed). */
export function duBytes(path: string): number {
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

/** Installed package names (scoped ones as @scope/name) directly under node_modules, and where nested. */
export function installedPackages(tree: string): string[] {
  const found: string[] = [];
  const visit = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm)) {
      if (e.startsWith('.')) continue;
      const names = e.startsWith('@') ? readdirSync(join(nm, e)).map((n) => `${e}/${n}`) : [e];
      for (const n of names) {
        found.push(`${relative(tree, nm)}/${n}`);
        visit(join(nm, n, 'node_modules'));
      }
    }
  };
  const walkWs = (d: string) => {
    visit(join(d, 'node_modules'));
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
        walkWs(join(d, e.name));
  };
  walkWs(tree);
  return found;
}

/** Workspace directories (repo-relative) in the production dependency tree of `ws`: itself and
 *  the workspace packages reached through `dependencies` (never `devDependencies`). */
export function productionWorkspaces(repoRoot: string, ws: string): string[] {
  const globs = (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }
  ).workspaces;
  const dirs = globs.flatMap((g) =>
    g.endsWith('/*')
      ? readdirSync(join(repoRoot, g.slice(0, -2)), { withFileTypes: true })
          .filter(
            (e) =>
              e.isDirectory() && existsSync(join(repoRoot, g.slice(0, -2), e.name, 'package.json')),
          )
          .map((e) => `${g.slice(0, -2)}/${e.name}`)
      : [g],
  );
  const manifest = (d: string) =>
    JSON.parse(readFileSync(join(repoRoot, d, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
    };
  const byName = new Map(dirs.map((d) => [manifest(d).name, d]));
  const seen = new Set<string>();
  const visit = (d: string) => {
    if (seen.has(d)) return;
    seen.add(d);
    for (const dep of Object.keys(manifest(d).dependencies ?? {}))
      if (byName.has(dep)) visit(byName.get(dep)!);
  };
  visit(ws);
  return [...seen].sort();
}

/** Packages no runtime image may hold: build, test and type tooling, the Prisma CLI and engines. */
export const FORBIDDEN = [
  /^prisma$/,
  /^@prisma\/(engines|engines-version|fetch-engine|get-platform|migrate|studio-core|dev|config)$/,
  /^typescript$/,
  /^@idp\/testing$/,
  /^jest$/,
  /^ts-jest$/,
  /^@jest\//,
  /^@types\//,
  /^@swc\//,
  /^eslint$/,
  /^turbo$/,
  /^@nestjs\/testing$/,
];

/** `require("x")` / `import("x")` in the built code under `app` (outside node_modules) that do not resolve there (not `obj.require(...)`). */
export function unresolvedModules(app: string, env: Record<string, string> = {}): string[] {
  const script = `
    const { createRequire, isBuiltin } = require('node:module');
    const fs = require('node:fs'), path = require('node:path');
    const missing = [];
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules') walk(p); return; }
      if (!p.endsWith('.js') || !p.includes('/dist/')) return;
      const src = fs.readFileSync(p, 'utf8');
      for (const m of src.matchAll(/(?<![.\\w$])(?:require|import)\\(\\s*["']([^"']+)["']\\s*\\)/g)) {
        if (isBuiltin(m[1])) continue;
        try { createRequire(p).resolve(m[1]); } catch { missing.push(path.relative(process.cwd(), p) + ': ' + m[1]); }
      }
    });
    walk(process.cwd());
    process.stdout.write(JSON.stringify(missing));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: app,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`module scan failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}
