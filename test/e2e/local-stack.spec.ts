// `npm run up` from the outside: the one command brings every part up behind the HTTPS entry
// point, Ctrl-C stops it cleanly, and a second start keeps the data.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const seed = JSON.parse(readFileSync(join(root, 'dev-azure/config/dev-azure.json'), 'utf8')) as {
  tenants: {
    name: string;
    id: string;
    apps?: { name: string; clientId: string; secrets?: { value: string }[] }[];
  }[];
};
const fabrikam = seed.tenants.find((t) => t.name === 'fabrikam')!;
const scimAdmin = fabrikam.apps!.find((a) => a.name === 'scim-admin')!;
const scimApp = fabrikam.apps!.find((a) => a.name === 'scim')!;

// Away from the defaults, so a developer's own stack can keep running beside the test.
const OFFSET = 1000 + (process.pid % 400) * 10;
const port = { entry: 8443 + OFFSET, identity: 9443 + OFFSET, scim: 3002 + OFFSET };

interface Stack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function up(dataDir: string): Promise<Stack> {
  const child = spawn(process.execPath, [join(root, 'scripts/up.mjs'), '--no-build'], {
    cwd: root,
    env: {
      ...process.env,
      UP_DATA_DIR: dataDir,
      UP_PORT_OFFSET: String(OFFSET),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Identity platform is up')) resolve({ child, output: () => out, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) =>
      reject(
        new Error(`npm run up exited (${code}) before the stack was up:\n${out.slice(-3000)}`),
      ),
    );
  });
}

async function stop(s: Stack): Promise<number | null> {
  s.child.kill('SIGINT'); // what Ctrl-C sends
  return s.exited;
}

async function adminToken(): Promise<string> {
  const r = await fetch(`https://localhost:${port.identity}/${fabrikam.id}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: scimAdmin.clientId,
      client_secret: scimAdmin.secrets?.[0]?.value ?? '',
      scope: `api://scim/.default`,
    }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

describe('npm run up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-up-'));
  chmodSync(dataDir, 0o755); // the local PostgreSQL runs as the `postgres` user
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves every route of the ingress, stops on Ctrl-C and keeps its data for the next start', async () => {
    expect(scimApp.clientId).toBeTruthy();
    let stack = await up(dataDir);
    let userId: string;
    let scimToken: string;
    let demoToken: string;
    try {
      const entry = `https://localhost:${port.entry}`;
      expect((await fetch(`${entry}/`)).status).toBe(200);
      const pub = await fetch(`${entry}/api/public`);
      expect(pub.status).toBe(200);
      const me = await fetch(`${entry}/api/policies/me`);
      expect(me.status).toBe(401);
      expect(me.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const signIn = await fetch(`${entry}/auth/sign-in`, { redirect: 'manual' });
      expect(signIn.headers.get('location')).toContain(
        `https://localhost:${port.identity}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize`,
      );

      // Provision a user the way Entra would: admin token → SCIM token → POST /Users through the entry point.
      const directory = await fetch(`http://127.0.0.1:${port.scim}/admin/directories`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await adminToken()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ id: 'smoke' }),
      });
      expect(directory.status).toBe(201);
      const created = await fetch(`http://127.0.0.1:${port.scim}/admin/directories/smoke/tokens`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await adminToken()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'smoke' }),
      });
      expect(created.status).toBe(201);
      scimToken = ((await created.json()) as { token: string }).token;
      // /scim/v2 through the entry point (as the ingress routes it); the token picks the directory.
      const user = await fetch(`${entry}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: 'kept@fabrikam.example',
          active: true,
        }),
      });
      expect(user.status).toBe(201);
      userId = ((await user.json()) as { id: string }).id;

      // The demo directory's token, for trying SCIM without the admin API: where it is is printed,
      // the file is private, and it works through the entry point.
      expect(stack.output()).toContain(
        `https://localhost:${port.entry}/scim/v2   (directory "demo"; its bearer token: ${join(dataDir, 'scim-token')})`,
      );
      expect(statSync(join(dataDir, 'scim-token')).mode & 0o777).toBe(0o600);
      demoToken = readFileSync(join(dataDir, 'scim-token'), 'utf8').trim();
      const demo = await fetch(`${entry}/scim/v2/Users?count=0`, {
        headers: { authorization: `Bearer ${demoToken}` },
      });
      expect(demo.status).toBe(200);
    } finally {
      expect(await stop(stack)).toBe(0);
    }
    expect(stack.output()).toMatch(/\[up\] postgres stopped/);

    stack = await up(dataDir);
    try {
      const again = await fetch(`https://localhost:${port.entry}/scim/v2/Users/${userId}`, {
        headers: { authorization: `Bearer ${scimToken}` },
      });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { userName: string }).userName).toBe('kept@fabrikam.example');
      // A token that still works is kept, not replaced by a new one at every start.
      expect(readFileSync(join(dataDir, 'scim-token'), 'utf8').trim()).toBe(demoToken);
    } finally {
      expect(await stop(stack)).toBe(0);
    }
  }, 240_000);
});
