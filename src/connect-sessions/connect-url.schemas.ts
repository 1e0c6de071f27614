import { z } from 'zod';
import { JOB_TYPES } from '../ucw/job-types.js';

const jobType = z.enum(JOB_TYPES, { error: `must be one of ${JOB_TYPES.join(', ')}` });

/** An array or a comma-separated string; duplicates collapse, order of first appearance kept. */
const jobTypes = z
  .union([z.array(z.string()), z.string()], { error: 'must be an array of job types or a comma-separated string' })
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter((item) => item !== ''))
  .pipe(z.array(jobType).min(1, 'at least one job type is required'))
  .transform((items) => [...new Set(items)]);

const ucwId = z.string().trim().min(1).max(256);

export const connectUrlBody = z.strictObject({
  jobTypes,
  institutionId: ucwId.optional(),
  connectionId: z.string().max(256).optional(),
  singleAccountSelect: z.boolean().optional(),
  targetOrigin: z.string().optional(),
  embed: z.enum(['host', 'direct']).optional().default('host'),
  presentation: z.enum(['auto', 'iframe', 'popup']).optional().default('auto'),
  redirectUri: z.url({ protocol: /^[a-z][a-z0-9+.-]*$/ }).max(2048).optional(),
});

export type ConnectUrlBody = z.infer<typeof connectUrlBody>;
