/**
 * Regenerates `api-types.ts` from the BFF's OpenAPI document: `npm run openapi:types`.
 * A test fails when the committed file differs from what this produces.
 */
import { writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../../src/openapi/openapi.js';

export async function generateApiTypes(): Promise<string> {
  const document = openApiDocument('http://localhost:3000') as unknown as Parameters<typeof openapiTS>[0];
  const ast = await openapiTS(document, { alphabetize: true });
  return `// Generated from GET /openapi.json by examples/client/generate.ts (npm run openapi:types). Do not edit.\n${astToString(ast)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('./api-types.ts', import.meta.url), await generateApiTypes());
}
