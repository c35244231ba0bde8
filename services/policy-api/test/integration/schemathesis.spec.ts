import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import { b2cEnv, daemonToken, userToken } from '../support/dev-azure';
import type { PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';

// An independent fuzzer, schemathesis (pinned in test/fuzz/requirements.txt at the repository
// root, installed by the bootstrap into .dev/tools/python, which `npm test` puts on PYTHONPATH),
// generates requests from policy-api's own OpenAPI document (GET /openapi.json) and runs every
// check it has against the real service: no 5xx, no hang, every status and body as documented,
// invalid input refused, valid input accepted. Once per kind of caller, with real tokens from the
// dev-azure identity stand-in. Seeded and bounded (examples per operation, one worker):
// SCHEMATHESIS_SEED=<seed> reproduces a run, SCHEMATHESIS_MAX_EXAMPLES=<n> digs deeper; the output
// names each failing request (a curl line).
const SEED = process.env.SCHEMATHESIS_SEED ?? '20261207';
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '20';
const repoRoot = join(__dirname, '..', '..', '..', '..');
const CONFIG = join(repoRoot, 'test', 'fuzz', 'policy-api.schemathesis.toml');
// `npm test` puts the bootstrap's folder on PYTHONPATH; a run in this workspace alone finds it too.
const pythonPath = [
  process.env.PYTHONPATH,
  join(process.env.IDP_TOOLS_DIR ?? join(repoRoot, '.dev', 'tools'), 'python'),
]
  .filter(Boolean)
  .join(delimiter);

interface Run {
  exitCode: number;
  output: string;
}

/**
 * The settings file plus a dictionary of real policy numbers: half of the generated
 * `GET /policies/{number}` requests name a policy that exists, so the found path (200 and its
 * body) is fuzzed too, not only 404s.
 */
function configWith(policyNumbers: string[], dir: string): string {
  const file = join(dir, 'schemathesis.toml');
  writeFileSync(
    file,
    `${readFileSync(CONFIG, 'utf8')}
[[operations]]
include-path = "/policies/{number}"
include-method = "GET"
parameters = { "path.number" = { dictionary = "known-policies", probability = 0.5 } }

[dictionaries]
known-policies = { values = ${JSON.stringify(policyNumbers)} }
`,
  );
  return file;
}

/** Runs in `cwd` (a temporary folder): hypothesis keeps its files (.hypothesis/) there. */
function schemathesis(
  config: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['-m', 'schemathesis.cli', '--config-file', config, 'run', ...args],
      {
        cwd,
        env: { ...process.env, PYTHONPATH: pythonPath, NO_COLOR: '1', COLUMNS: '200' },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ exitCode: code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe('policy-api fuzzed by schemathesis from its own OpenAPI document', () => {
  let azure: DevAzure;
  let h: Harness;
  let dataDir: string;
  let config: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'policy-api-schemathesis-'));
    azure = await startDevAzure({ dataDir, keyVault: false });
    h = await Harness.start(b2cEnv(azure));
    // Alice's policy (created by her first read) is the one the daemon finds by number.
    const token = await userToken(azure, 'alice@contoso.example', 'B2C_1_signupsignin');
    const mine = await h.call<PolicyBody>('GET', '/policies/me', { token });
    expect(mine.status).toBe(201); // created by this first read
    config = configWith([mine.body.policyNumber], dataDir);
  }, 90000);
  afterAll(async () => {
    await h?.stop();
    await azure?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const alice = (flow: string) => () => userToken(azure, 'alice@contoso.example', flow);
  async function daemon(): Promise<string> {
    const { status, token } = await daemonToken(azure);
    expect(status).toBe(200);
    return token;
  }

  const callers: Array<[string, () => Promise<string>]> = [
    ['a signed-in user (Accounts.Read, Accounts.Write)', alice('B2C_1_signupsignin')],
    ['a stepped-up user (MFA user flow)', alice('B2C_1_signupsignin_mfa')],
    ['an app-only daemon (Policies.Read.All)', daemon],
  ];

  it.each(callers)(
    'finds no 5xx, hang, undocumented status or body as %s',
    async (_who, token) => {
      const run = await schemathesis(
        config,
        [
          `${h.url}/openapi.json`,
          '--phases',
          'examples,coverage,fuzzing',
          '--max-examples',
          MAX_EXAMPLES,
          '--seed',
          SEED,
          '--workers',
          '1',
          '--request-timeout',
          '5',
          '--generation-database',
          'none',
          '--header',
          `Authorization: Bearer ${await token()}`,
        ],
        dataDir,
        100000,
      );
      // Every operation of the document was fuzzed: a run that skipped some (a schema it could
      // not read, an operation it could not generate for) must not pass as "no findings". Five
      // routes (public, policies/me, policies/{number}, beneficiaries, history) are at least five
      // of the document's operations (it has others too); fewer means one went missing.
      const ops = /Selected: (\d+)\/(\d+)\s+Tested: (\d+)/.exec(run.output);
      const [selected, total, tested] = (ops?.slice(1) ?? []).map(Number);
      const coverage =
        ops && total !== undefined && total >= 5 && selected === total && tested === total
          ? 'every operation'
          : `not every operation (${ops?.[0] ?? 'no summary'})`;
      // The whole report on failure: each finding with the request that reproduces it.
      expect(
        run.exitCode === 0 && coverage === 'every operation'
          ? 'no findings'
          : `schemathesis exited ${run.exitCode} (it needs python3 and test/fuzz/requirements.txt on ` +
              `PYTHONPATH=${pythonPath}; node scripts/bootstrap/cli.mjs python installs them into ` +
              `.dev/tools/python), ${coverage} tested:\n${run.output}`,
      ).toBe('no findings');
    },
    120000,
  );
});
