// What a container runs when the manifest gives no command: the image's WORKDIR, ENTRYPOINT
// and CMD, read from the Dockerfile that builds it (final stage).
import { readFileSync } from 'node:fs';

export interface ImageRuntime {
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  user?: string;
}

export function imageRuntime(dockerfile: string): ImageRuntime {
  const lines = readFileSync(dockerfile, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim());
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const final = lines.slice(lastFrom);
  const get = (instr: string) =>
    final
      .filter((l) => l.toUpperCase().startsWith(`${instr} `))
      .map((l) => l.slice(instr.length + 1).trim());
  const exec = (v: string | undefined): string[] => (v ? (JSON.parse(v) as string[]) : []);
  return {
    workdir: get('WORKDIR').pop() ?? '/',
    entrypoint: exec(get('ENTRYPOINT').pop()),
    cmd: exec(get('CMD').pop()),
    user: get('USER').pop(),
  };
}
