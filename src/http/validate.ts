import type { z } from 'zod';
import { AppError, type FieldError } from './errors.js';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: [field, ...issue.keys].filter(Boolean).join(', '), message: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    return { field: field || '(body)', message: issue.message };
  });
}

/** Parses `input` or throws a 400 `validation_failed` naming every offending field. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown, what = 'request body'): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new AppError('validation_failed', `Invalid ${what}: ${summary}`, { fields });
}
