import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { browserBuildOutputs } from '../../scripts/build-browser.js';
import * as bundles from '../../src/generated/browser-bundles.js';

describe('browser bundles (src/generated/browser-bundles.ts)', () => {
  it('when src/browser/ changes, then the committed bundles and connect.d.ts are rebuilt (npm run build:browser)', { timeout: 60_000 }, async () => {
    const outputs = await browserBuildOutputs();
    for (const [path, content] of Object.entries(outputs)) {
      expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), `${path} is stale: run npm run build:browser`).toBe(content);
    }
  });

  it('when inspected, then every bundle is a plain script that parses, with no module syntax and no HTML sinks', () => {
    const scripts = Object.entries(bundles).filter(([name]) => name.endsWith('_JS'));
    expect(scripts.map(([name]) => name).sort()).toEqual(['CONNECT_JS', 'DEMO_PAGE_JS', 'ERROR_PAGE_JS', 'HOST_PAGE_JS', 'SANDBOX_WIDGET_JS']);
    for (const [name, code] of scripts) {
      expect(() => new vm.Script(code, { filename: name })).not.toThrow();
      expect(code, name).not.toMatch(/^\s*(import|export)\b/m);
      expect(code, name).not.toMatch(/\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval)\b/);
    }
  });
});
