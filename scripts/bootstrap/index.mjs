// One bootstrap for `npm run up` and `npm test`: makes sure each tool they need exists, installing
// what is missing (pinned, into the git-ignored tools folder where possible) without asking, and
// returns the environment that points the tests and services at them. See README "What the bootstrap installs".
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { createContext, repoRoot } from './context.mjs';
import { chromium } from './tools/chromium.mjs';
import { coredns, helm, jaeger, natsServer, promtool } from './tools/go-binaries.mjs';
import { isCurrentNode, node } from './tools/node.mjs';
import { postgres } from './tools/postgres.mjs';
import { python } from './tools/python.mjs';

export const allTools = {
  node,
  'nats-server': natsServer,
  postgres,
  chromium,
  helm,
  coredns,
  promtool,
  python,
  jaeger,
};
export const forUp = ['node', 'nats-server', 'postgres'];
/** Only when asked: `npm run up -- --traces`. */
export const forTraces = ['jaeger'];
export const forTest = Object.keys(allTools).filter((t) => !forTraces.includes(t));

export class BootstrapError extends Error {}

const rel = (p) =>
  path.isAbsolute(p) && p.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, p) : p;
const versionOf = (ctx, tool, p) => {
  const v = tool.version(ctx, p);
  if (!v) throw new Error(`${p} did not report a version`);
  return v;
};
const accepted = (tool, c, v) => (c.accept ? c.accept(v) : !c.pinned || v === tool.pin);

/** Finds or installs one tool: { path, version, line } or a BootstrapError naming every method tried. */
async function provision(ctx, tool) {
  const label = tool.pin ? `${tool.name} ${tool.pin}` : tool.name;
  const override = tool.override && ctx.env[tool.override];
  if (override) {
    try {
      const version = versionOf(ctx, tool, override);
      return {
        path: override,
        version,
        line: `${tool.name} ${version}: ${override} (from ${tool.override})`,
      };
    } catch (e) {
      throw new BootstrapError(
        `${tool.name}: ${tool.override}=${override} is not usable: ${e.message}\n  fix: unset ${tool.override} or point it at a working ${tool.name}`,
      );
    }
  }
  const stale = [];
  for (const c of tool.candidates(ctx)) {
    if (!c.path) continue;
    let version;
    try {
      version = versionOf(ctx, tool, c.path);
    } catch {
      continue;
    }
    if (accepted(tool, c, version)) {
      stale.forEach((s) => s());
      return { path: c.path, version, line: `${tool.name} ${version}: found at ${rel(c.path)}` };
    }
    if (c.stale) stale.push(c.stale);
  }
  const tried = [];
  for (const m of tool.methods) {
    const why = m.unavailable?.(ctx);
    if (why) {
      tried.push(`${m.name}: ${why}`);
      continue;
    }
    const started = Date.now();
    try {
      const p = await m.install(ctx);
      const version = versionOf(ctx, tool, p);
      if (tool.pin && !m.anyVersion && version !== tool.pin)
        throw new Error(`installed ${version}, not ${tool.pin}`);
      const folder = statSync(p).isDirectory() ? p : path.dirname(p);
      const where = p.startsWith(ctx.tools) ? `installed to ${rel(folder)}` : `installed at ${p}`;
      const after = tried.length ? ` (after ${tried.join('; ')})` : '';
      return {
        path: p,
        version,
        line: `${tool.name} ${version}: ${where} via ${m.name}, ${Math.round((Date.now() - started) / 1000)} s${after}`,
      };
    } catch (e) {
      tried.push(`${m.name}: ${e.message}`);
    }
  }
  throw new BootstrapError(
    `${label} is missing and could not be installed. Tried:\n${tried.map((t) => `  - ${t}`).join('\n')}\n  fix: ${tool.fix}`,
  );
}

/**
 * Provisions `need` (names from allTools) and returns the environment for the commands that use
 * them: PATH with tools/bin first (and Node 24's folder when this node is older), NATS_SERVER_BIN,
 * PG_BIN_DIR, CHROMIUM_PATH, COREDNS_BIN, PYTHONPATH; plus `node`, the Node 24 to run under.
 */
export async function bootstrap({
  need,
  env = process.env,
  say = (m) => console.log(`[bootstrap] ${m}`),
}) {
  const ctx = createContext(env);
  const out = { IDP_TOOLS_DIR: ctx.tools };
  const failures = [];
  let nodePath = process.execPath;
  for (const name of need) {
    try {
      const r = await provision(ctx, allTools[name]);
      say(r.line);
      Object.assign(out, allTools[name].env(r.path));
      if (name === 'node') nodePath = r.path;
    } catch (e) {
      if (!(e instanceof BootstrapError)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length) throw new BootstrapError(failures.join('\n'));
  const pathDirs = [ctx.bin, ...(nodePath === process.execPath ? [] : [path.dirname(nodePath)])];
  out.PATH = [...pathDirs.reverse(), env.PATH].join(path.delimiter);
  if (out.PYTHONPATH && env.PYTHONPATH) out.PYTHONPATH += path.delimiter + env.PYTHONPATH;
  out.IDP_TOOLS_READY = need.join(',');
  return { env: { ...env, ...out }, node: nodePath };
}

/**
 * The bootstrap for a top-level script (up.mjs, test.mjs): provisions `need`, then re-runs the script
 * under Node 24 when this node is older. Resolves to the environment when this process should go on;
 * never resolves in the parent of a re-run (it exits with the child's status).
 */
export async function ensureTools(need) {
  const ready = (process.env.IDP_TOOLS_READY ?? '').split(',');
  if (need.every((n) => ready.includes(n)) && isCurrentNode(process.version)) return process.env;
  let result;
  try {
    result = await bootstrap({ need });
  } catch (e) {
    if (!(e instanceof BootstrapError)) throw e;
    console.error(`[bootstrap] ${e.message}`);
    process.exit(1);
  }
  Object.assign(process.env, result.env);
  if (isCurrentNode(process.version)) return process.env;
  const child = spawn(
    result.node,
    [...process.execArgv, process.argv[1], ...process.argv.slice(2)],
    { stdio: 'inherit', env: result.env },
  );
  // Ctrl-C reaches the child through the terminal; a kill of this process is passed on.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 128 : 1)));
  return new Promise(() => {});
}
