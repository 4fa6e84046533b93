import { z } from 'zod';
import { Secret } from './secret';

// What a valid value of each kind of environment variable looks like; every message shows the
// value it refused, except a secret's.

export const shown = (value: unknown): string => `'${String(value)}'`;

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isHostPort(value: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  return match !== null && (match[2] === undefined || Number(match[2]) <= 65535);
}

export const httpUrl = z
  .string()
  .refine(isHttpUrl, { error: (issue) => `must be an http(s) URL, got ${shown(issue.input)}` })
  .transform((value) => value.replace(/\/+$/, ''));

export const hostPort = z.string().refine(isHostPort, {
  error: (issue) => `must be host:port (e.g. 127.0.0.1:7233), got ${shown(issue.input)}`,
});

export const name = z.string().refine((value) => !/\s/.test(value), {
  error: (issue) => `must not contain whitespace, got ${shown(issue.input)}`,
});

// Catalog and database names are spliced into Flink SQL (CREATE CATALOG, USE), so only plain
// identifiers get through; anything else would need quoting rules we do not want to own.
export const sqlIdentifier = z.string().refine((value) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(value), {
  error: (issue) =>
    `must be a SQL identifier (letters, digits and _, not starting with a digit), got ${shown(issue.input)}`,
});

export const uri = (example: string) =>
  z.string().refine((value) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\/.+$/.test(value), {
    error: (issue) => `must be a URI with a scheme, e.g. ${example}, got ${shown(issue.input)}`,
  });

export const positiveMillis = z
  .string()
  .refine((value) => /^\d+$/.test(value) && Number(value) > 0, {
    error: (issue) => `must be a positive whole number of milliseconds, got ${shown(issue.input)}`,
  })
  .transform(Number);

// A poll interval: below 50 ms a poll loop only loads the JobManager; above 60 s a wait is blind.
export const pollMillis = z
  .string()
  .refine((value) => /^\d+$/.test(value) && Number(value) >= 50 && Number(value) <= 60_000, {
    error: (issue) => `must be a whole number of milliseconds from 50 to 60000, got ${shown(issue.input)}`,
  })
  .transform(Number);

export const filePath = z.string();

// Secrets never appear in messages, not even when they are malformed.
export const secret = z
  .string()
  .refine((value) => !/[\r\n]/.test(value), { error: 'must be a single line (value not shown)' })
  .transform((value) => new Secret(value));

const CATALOG_OPTIONS_HINT =
  'must be a JSON object of string options, e.g. {"s3.endpoint":"http://minio:9000"} (value not shown)';

export const catalogOptions = z.string().transform((value, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const isStringMap =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((option) => typeof option === 'string');
  if (!isStringMap) {
    ctx.addIssue({ code: 'custom', message: CATALOG_OPTIONS_HINT });
    return z.NEVER;
  }
  return new Secret<Readonly<Record<string, string>>>(parsed as Record<string, string>);
});
