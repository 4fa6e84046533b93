// Flag parsing for the CLI: node's parseArgs (strict), with errors that name the flag.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Flags every command takes: where Temporal is (they override the env variables). */
export const connectionFlags: Options = {
  'temporal-address': { type: 'string' },
  namespace: { type: 'string' },
  'task-queue': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const FLAG_TO_ENV: Record<string, string> = {
  'temporal-address': 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  'task-queue': 'TEMPORAL_TASK_QUEUE',
};

export function parse(argv: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...connectionFlags, ...options }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--tabel'"; keep its words, drop its hint about '--'.
    throw new UsageError((err as Error).message.split('. To specify')[0]!);
  }
}

export const str = (p: Parsed, flag: string): string | undefined => p.values[flag] as string | undefined;
export const bool = (p: Parsed, flag: string): boolean => p.values[flag] === true;
export const list = (p: Parsed, flag: string): string[] =>
  ((p.values[flag] as string[] | undefined) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

export function required(p: Parsed, flag: string, what: string): string {
  const value = str(p, flag);
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required: ${what}`);
  return value;
}

export function positional(p: Parsed, index: number, name: string): string {
  const value = p.positionals[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
}

/** A JSON document from a file, or from stdin for '-'. */
export function readJson(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--${flag}: '${file}' is not valid JSON: ${(err as Error).message}`);
  }
}

/** Every unset key of `value` is dropped, so zod defaults apply. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
