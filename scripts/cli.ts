/**
 * Command-line options for the project's tools (`npm run chaos`, `bench`, `fuzz`): `--help` prints
 * the usage, and a mistyped option or value is answered with one line and the usage (exit 2),
 * never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Prints `message` (if any) and the usage to stderr, and exits 2. */
export function usageError(usage: string, message?: string): never {
  process.stderr.write(`${message ? `${message}\n` : ''}${usage}\n`);
  process.exit(2);
}

/** parseArgs over process.argv with `--help`/`-h` added; exits on help (0) or a bad option (2). */
export function parseCli<O extends Options>(options: O, usage: string) {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: O; strict: true }>>;
  try {
    parsed = parseArgs({ options: all, strict: true }) as unknown as typeof parsed;
  } catch (err) {
    usageError(usage, (err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}

/** A positive whole number from an option's text, or the usage error naming the option. */
export function positiveInt(name: string, text: string | undefined, usage: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usageError(usage, `--${name} must be a positive whole number`);
  return n;
}
