// What every tool definition needs: where the tools folder is, how to run and find programs,
// and what this machine allows (root, sudo, apt, brew, go).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** The git-ignored tools folder (IDP_TOOLS_DIR overrides it, e.g. for a trial into an empty folder). */
export function toolsDirOf(env = process.env) {
  return path.resolve(env.IDP_TOOLS_DIR || path.join(repoRoot, '.dev', 'tools'));
}

const isExecutable = (p) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The last few lines of a failed command's output: enough to say why, short enough for one message. */
export const tail = (text, lines = 3) =>
  String(text ?? '')
    .trim()
    .split('\n')
    .slice(-lines)
    .join(' / ');

export function createContext(env = process.env) {
  const tools = toolsDirOf(env);
  let sudo;
  let aptUpdated = false;
  const ctx = {
    env,
    tools,
    bin: path.join(tools, 'bin'),
    platform: process.platform,
    arch: process.arch,
    isRoot: process.getuid?.() === 0,
    /** First executable `name` on this context's PATH. */
    which(name) {
      for (const dir of (env.PATH ?? '').split(path.delimiter)) {
        const p = dir && path.join(dir, name);
        if (p && isExecutable(p)) return p;
      }
      return undefined;
    },
    /** Runs a program to completion; throws with its exit status and output tail on failure. */
    run(cmd, args, opts = {}) {
      const r = spawnSync(cmd, args, {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        ...opts,
        env: { ...env, ...opts.env },
      });
      if (r.error) throw new Error(`${path.basename(cmd)}: ${r.error.message}`);
      if (r.status !== 0)
        throw new Error(
          `${path.basename(cmd)} ${args.slice(0, 3).join(' ')} exited ${r.status ?? r.signal}: ${tail(r.stderr || r.stdout)}`,
        );
      return r.stdout + r.stderr;
    },
    /** The output of `cmd args`, or undefined when it cannot run. */
    probe(cmd, args, opts = {}) {
      try {
        return ctx.run(cmd, args, { timeout: 20000, ...opts });
      } catch {
        return undefined;
      }
    },
    /** Why the OS package manager cannot be used here, or undefined when it can. */
    aptUnavailable() {
      if (env.IDP_NO_OS_PACKAGES === '1') return 'IDP_NO_OS_PACKAGES=1';
      if (ctx.platform !== 'linux' || !existsSync('/usr/bin/apt-get'))
        return 'not a Debian/Ubuntu system (no apt-get)';
      if (ctx.isRoot) return undefined;
      sudo ??= spawnSync('sudo', ['-n', 'true']).status === 0;
      return sudo ? undefined : 'needs root or passwordless sudo';
    },
    apt(packages) {
      const asRoot = (args) =>
        ctx.isRoot ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
      if (!aptUpdated) {
        ctx.run(...asRoot(['update', '-qq']), { timeout: 600000 });
        aptUpdated = true;
      }
      ctx.run(...asRoot(['install', '-y', '-qq', '--no-install-recommends', ...packages]), {
        env: { DEBIAN_FRONTEND: 'noninteractive' },
        timeout: 1200000,
      });
    },
    brewUnavailable() {
      if (env.IDP_NO_OS_PACKAGES === '1') return 'IDP_NO_OS_PACKAGES=1';
      if (ctx.platform !== 'darwin') return 'not macOS';
      return ctx.which('brew') ? undefined : 'brew not found';
    },
  };
  return ctx;
}
