import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';
import { errorStatus, errorTitle, type ErrorCode } from '../src/http/errors.js';
import { openApiDocument } from '../src/openapi/openapi.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const readme = read('README.md');
const docFiles = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
const docs = Object.fromEntries(docFiles.map((path) => [path, read(path)]));
const envExample = read('.env.example');

/** Markdown link targets `[text](target)`, without the #fragment; external URLs left out. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]!);
}

describe('README.md', () => {
  it('when it starts, then its first block is exactly the two commands: the sandbox and the tests', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = firstBlock.split('\n').filter(Boolean).map((line) => line.split('#')[0]!.trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('when read by a newcomer, then it has the flow diagram, the three integration steps with code, and links to every reference file', () => {
    expect(readme).toMatch(/```mermaid\nsequenceDiagram/);
    const steps = /## Integrate in three steps([\s\S]*?)\n## /.exec(readme)![1]!;
    expect([...steps.matchAll(/^### (\d)\. /gm)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect(steps).toContain('ALLOWED_ORIGINS');
    expect(steps).toContain('UcwConnect.create(');
    const hook = read('examples/react/use-ucw-connect.ts');
    // The README's hook is the type-checked example, verbatim.
    expect(steps).toContain(hook.slice(hook.indexOf('export function useUcwConnect')).trim());
    expect(steps).toContain('webhook-signature');
    const linked = new Set(relativeLinks(readme));
    expect(docFiles.filter((path) => !linked.has(path))).toEqual([]);
  });

  it('when it grows, then it stays an introduction (the reference lives in docs/)', () => {
    expect(readme.split('\n').length).toBeLessThan(200);
  });
});

describe('links', () => {
  it('when README.md or a docs/ page links a file, then the file exists inside the repository', () => {
    const broken: string[] = [];
    for (const [path, markdown] of [['README.md', readme], ...Object.entries(docs)] as const) {
      for (const target of relativeLinks(markdown)) {
        const file = resolve(root, dirname(path), target);
        if (relative(root, file).startsWith('..') || !existsSync(file)) broken.push(`${path} → ${target}`);
      }
      // Nothing outside the repository: a reader of the repository has nothing else.
      if (/\.\.\/shared|\/work\//.test(markdown)) broken.push(`${path} cites a file outside the repository`);
    }
    expect(broken).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  const configuration = docs['docs/configuration.md']!;

  it('when a config variable exists, then docs/configuration.md documents it in its table and .env.example lists it', () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(30);
    const rows = configuration.split('\n').filter((line) => line.startsWith('| `'));
    const undocumented = CONFIG_VARIABLES.filter((name) => !rows.some((row) => row.split('|')[1]!.includes(`\`${name}\``)));
    const unlisted = CONFIG_VARIABLES.filter((name) => !new RegExp(`^${name}=`, 'm').test(envExample));
    expect({ undocumented, unlisted }).toEqual({ undocumented: [], unlisted: [] });
  });

  it('when the table names a variable, then the service reads it (no stale rows)', () => {
    const rows = configuration.split('\n').filter((line) => line.startsWith('| `'));
    const named = rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect(named.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });
});

describe('docs/api.md', () => {
  const api = docs['docs/api.md']!;

  it('when an endpoint exists, then docs/api.md names it', () => {
    const paths = openApiDocument('http://x').paths as Record<string, Record<string, unknown>>;
    const documented = (path: string) => path.replace(/\{(\w+)\}/g, ':$1').replace(':sessionId', ':id');
    const missing = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .map((method) => method.toUpperCase())
        .filter((method) => !new RegExp(`\`${method} ${documented(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\`?]`).test(api))
        .map((method) => `${method} ${path}`),
    );
    expect(missing).toEqual([]);
  });

  it('when an error code exists, then docs/api.md lists it with its status and title', () => {
    const missing = (Object.entries(errorStatus) as [ErrorCode, number][]).filter(
      ([code, status]) => !api.includes(`| \`${code}\` | ${status} | ${errorTitle[code]} |`),
    );
    expect(missing).toEqual([]);
  });
});

describe('docs/operations.md and compose.yaml', () => {
  it('when they set a variable for the service, then the service reads that variable', () => {
    const compose = read('compose.yaml');
    const bffEnvironment = / {2}bff:[\s\S]*?environment:\n((?: {6}\w+: .*\n)+)/.exec(compose)![1]!;
    const composeNames = [...bffEnvironment.matchAll(/^ {6}(\w+):/gm)].map((m) => m[1]!);
    const dockerRunNames = [...docs['docs/operations.md']!.matchAll(/-e (\w+)=/g)].map((m) => m[1]!);
    expect(composeNames).toEqual(['NODE_ENV', 'HOST', 'PORT', 'DATABASE_URL']);
    expect(dockerRunNames).toContain('SANDBOX_UCW_HOST');
    expect([...composeNames, ...dockerRunNames].filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it('when the image runs, then its data directory is a volume and both compose services have health checks', () => {
    expect(read('Dockerfile')).toMatch(/^VOLUME \["\/app\/data"\]$/m);
    expect(read('compose.yaml').match(/^ {4}healthcheck:$/gm)).toHaveLength(2);
    expect(read('compose.yaml')).toContain('condition: service_healthy');
  });
});
