import { vi } from 'vitest';

/**
 * Captures everything written to stdout and stderr (Powertools Logger and Metrics write there)
 * while still letting tests run normally.
 */
export function captureOutput(): { lines: () => string[]; restore: () => void } {
  const chunks: string[] = [];
  const wrap = (stream: NodeJS.WriteStream) =>
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    }) as typeof stream.write);
  const out = wrap(process.stdout);
  const err = wrap(process.stderr);
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
