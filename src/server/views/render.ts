// Renders the /status pages with Eta (auto-escaping) from the .eta files beside this module's source,
// and names their one inline stylesheet for the Content-Security-Policy by its hash.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

/** Thrown when the template directory cannot be found (an install that left out src/server/views). */
export class ViewsNotFoundError extends Error {
  override readonly name = 'ViewsNotFoundError';
  readonly code = 'VIGIL_ERR_VIEWS';
  constructor(readonly searched: string[]) {
    super(`cannot find the status page templates; looked in ${searched.join(', ')}`);
  }
}

const MARKER = 'layout.eta';

/**
 * tsc copies no .eta files, so the compiled module (dist/src/server/views) looks for them in the
 * source tree: its own directory first (under tap, or when the files were copied beside it), then
 * src/server/views under the package root that holds vigil's package.json.
 */
export function findViewsDir(from = dirname(fileURLToPath(import.meta.url))): string {
  const searched = [from];
  if (existsSync(join(from, MARKER))) return from;
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'vigil') {
        const views = join(dir, 'src', 'server', 'views');
        searched.push(views);
        if (existsSync(join(views, MARKER))) return views;
        break;
      }
    }
    dir = dirname(dir);
  }
  throw new ViewsNotFoundError(searched);
}

export interface PageChrome {
  title: string;
  refreshSeconds: number | null;
}

let engine: { eta: Eta; css: string; styleSource: string } | null = null;

function load(): { eta: Eta; css: string; styleSource: string } {
  if (engine) return engine;
  const views = findViewsDir();
  const eta = new Eta({
    views,
    // Every <%= %> is HTML-escaped, quotes included; raw output (<%~ %>) is kept to our own CSS and included partials.
    autoEscape: true,
    cache: true,
    autoTrim: [false, 'nl'],
  });
  const css = readFileSync(join(views, 'status.css'), 'utf8');
  // layout.eta puts exactly these characters between <style> and </style>, so their hash is what a
  // browser computes for the element. Every response of every page then carries the same policy,
  // and a rendering can be kept and sent byte for byte.
  const styleSource = `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
  engine = { eta, css, styleSource };
  return engine;
}

/** The CSP source (`'sha256-…'`) that lets the pages' one inline <style> past style-src. */
export function styleSource(): string {
  return load().styleSource;
}

/** Renders `<name>.eta` inside the layout with `data` as `it`, plus `it.page` (title, refresh) and `it.css`. */
export type PageName = 'status' | 'incident' | 'not-found' | 'act' | 'denied' | 'unavailable';

export function renderPage(name: PageName, page: PageChrome, data: object): string {
  const { eta, css } = load();
  return eta.render(name, { ...data, page, css });
}

/** Escapes text for HTML with the templates' own escape function; used to scrub secrets from the rendered page. */
export function escapeHtml(text: string): string {
  return load().eta.config.escapeFunction(text);
}
