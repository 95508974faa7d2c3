import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the documentation honest: every relative link in README.md and docs/** points at a file
 * that exists (and at a heading that exists, for links into Markdown), the code map in
 * docs/architecture.md names every file under functions/ and infra/, and docs/configuration.md
 * names every variable of the configuration schema.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f).split(sep).join('/'))
    .sort();
}

const PAGES = ['README.md', ...filesUnder('docs', '.md')];
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The lines outside fenced code blocks, so a `# comment` in a shell sample is no heading. */
function prose(text: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(path: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(read(path))) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  page: string;
  target: string;
}

function linksOf(page: string): Link[] {
  const links: Link[] = [];
  for (const line of prose(read(page))) {
    const text = line.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ page, target });
    }
  }
  return links;
}

const LINKS = PAGES.flatMap(linksOf);

describe('the documentation', () => {
  it('has pages with links to check', () => {
    expect(PAGES).toContain('docs/architecture.md');
    expect(LINKS.length).toBeGreaterThan(20);
  });

  it.each(LINKS.map((l) => [`${l.page} -> ${l.target}`, l] as const))('%s resolves', (_name, link) => {
    const [path = '', anchor] = link.target.split('#');
    const file = path === '' ? link.page : relative(ROOT, resolve(ROOT, dirname(link.page), path));
    expect(existsSync(join(ROOT, file)), `${file} exists`).toBe(true);
    if (anchor !== undefined && file.endsWith('.md') && statSync(join(ROOT, file)).isFile()) {
      expect([...anchorsOf(file)], `#${anchor} is a heading of ${file}`).toContain(
        decodeURIComponent(anchor),
      );
    }
  });

  it('links every docs page from the README', () => {
    const linked = new Set(
      linksOf('README.md').map((l) => relative(ROOT, resolve(ROOT, l.target.split('#')[0] as string))),
    );
    expect(filesUnder('docs', '.md').filter((p) => !linked.has(p))).toEqual([]);
  });

  it('names every file under functions/ and infra/ in the code map of docs/architecture.md', () => {
    const architecture = read('docs/architecture.md');
    const start = architecture.indexOf('\n## Code map');
    expect(start).toBeGreaterThan(-1);
    const next = architecture.indexOf('\n## ', start + 1);
    const map = architecture.slice(start, next === -1 ? undefined : next);
    const files = [...filesUnder('functions', '.ts'), ...filesUnder('infra', '.ts')];
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => !map.includes(`\`${f}\``))).toEqual([]);
  });

  it('describes every variable of the configuration schema in docs/configuration.md', () => {
    const source = read('functions/config/config.ts');
    const start = source.indexOf('const EnvSchema = z.object({');
    expect(start).toBeGreaterThan(-1);
    const schema = source.slice(start, source.indexOf('\n});', start));
    const names = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(20);
    const configuration = read('docs/configuration.md');
    expect(names.filter((n) => !configuration.includes(`\`${n}\``))).toEqual([]);
  });
});
