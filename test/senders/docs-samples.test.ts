import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSendersConfig } from '../../functions/senders/routes';
import { SYSTEMS } from '../../functions/senders/systems';

/**
 * Every sample body in docs/senders/*.md runs through its route's adapter. A sample is a ```json
 * block right after a line `<!-- sample: <route> <close|reopen|comment|ignored> -->`; a block after
 * `<!-- senders-config -->` adds its routes to the configuration the samples run under (every
 * system's route with its defaults otherwise).
 */
const DOCS = new URL('../../docs/senders/', import.meta.url);
const pages = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .map((name) => ({ name, text: readFileSync(new URL(name, DOCS), 'utf8') }));

const BLOCK =
  /<!-- (sample: (\S+) (close|reopen|comment|ignored)|senders-config) -->\n```json\n([\s\S]*?)\n```/g;
const samples: { page: string; route: string; expected: string; body: string }[] = [];
const routes: Record<string, unknown> = Object.fromEntries(SYSTEMS.map((s) => [`/${s}`, {}]));
for (const { name, text } of pages) {
  for (const m of text.matchAll(BLOCK)) {
    const [, marker, route, expected, body] = m;
    if (marker === 'senders-config')
      Object.assign(routes, (JSON.parse(body as string) as { routes: object }).routes);
    else
      samples.push({
        page: name,
        route: route as string,
        expected: expected as string,
        body: body as string,
      });
  }
}
const table = parseSendersConfig(JSON.stringify({ routes }));

describe('the sample bodies in docs/senders', () => {
  it('has samples on every page but the index, and every ```json block after a sample marker is one', () => {
    const withSamples = new Set(samples.map((s) => s.page));
    expect(pages.map((p) => p.name).filter((n) => n !== 'README.md' && !withSamples.has(n))).toEqual([]);
    for (const { name, text } of pages) {
      const markers = text.match(/<!-- sample: /g)?.length ?? 0;
      expect(samples.filter((s) => s.page === name)).toHaveLength(markers);
    }
  });

  it.each(samples.map((s, i) => [`${s.page} #${i + 1} (${s.route} ${s.expected})`, s] as const))(
    '%s',
    (_name, s) => {
      const route = table.find(s.route);
      expect(route?.path).toBeDefined();
      const adapted = route?.adapter.adapt(JSON.parse(s.body));
      if (s.expected === 'ignored') {
        expect(adapted?.kind).toBe('ignore');
      } else {
        expect(adapted?.kind === 'event' ? adapted.event.action : adapted?.reason).toBe(s.expected);
      }
    },
  );
});
