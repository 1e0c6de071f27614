import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';
import { openApiDocument } from '../src/openapi/openapi.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

describe('documentation', () => {
  it('when a config variable exists, then README.md documents it and .env.example lists it', () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(30);
    const undocumented = CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    const unlisted = CONFIG_VARIABLES.filter((name) => !new RegExp(`^${name}=`, 'm').test(envExample));
    expect({ undocumented, unlisted }).toEqual({ undocumented: [], unlisted: [] });
  });

  it('when an endpoint exists, then README.md names it', () => {
    const paths = Object.keys((openApiDocument('http://x') as { paths: Record<string, unknown> }).paths);
    const readmePath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1').replace(':sessionId', ':id');
    const missing = paths.filter((path) => !readme.includes(readmePath(path)));
    expect(missing).toEqual([]);
  });

  it('when README.md starts, then its first commands run the service and the tests', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock).toContain('npm start');
    expect(firstBlock).toContain('npm test');
  });
});

describe('error codes', () => {
  it('when an error code exists, then README.md lists it with its status and title', async () => {
    const { errorStatus, errorTitle } = await import('../src/http/errors.js');
    const missing = Object.entries(errorStatus).filter(([code, status]) => !readme.includes(`| \`${code}\` | ${status} | ${errorTitle[code as keyof typeof errorStatus]} |`));
    expect(missing).toEqual([]);
  });
});
