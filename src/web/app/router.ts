// Client-side routing over the History API: the service serves the same document for every view
// path (src/server/dashboard/routes.ts DASHBOARD_PAGES), and this maps the path to a view.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'overview' }
  | { view: 'certificates'; query: URLSearchParams }
  | { view: 'certificate'; issuer: string; serial: string }
  | { view: 'hierarchy' }
  | { view: 'expiry' }
  | { view: 'audit'; query: URLSearchParams }
  | { view: 'enrollment' }
  | { view: 'not-found' };

export function parseRoute(loc: { pathname: string; search: string }): Route {
  const path = loc.pathname;
  const query = new URLSearchParams(loc.search);
  if (path === '/') return { view: 'overview' };
  if (path === '/certificates') return { view: 'certificates', query };
  const m = /^\/certificates\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) return { view: 'certificate', issuer: decodeURIComponent(m[1]!), serial: decodeURIComponent(m[2]!) };
  if (path === '/hierarchy') return { view: 'hierarchy' };
  if (path === '/expiry') return { view: 'expiry' };
  if (path === '/audit') return { view: 'audit', query };
  if (path === '/enrollment') return { view: 'enrollment' };
  return { view: 'not-found' };
}

const CHANGE = 'fleetpki:navigate';

/** Goes to a path of the dashboard without reloading (state: kept in history, e.g. a page trail). */
export function navigate(href: string, o: { replace?: boolean; state?: unknown } = {}): void {
  if (o.replace) history.replaceState(o.state ?? null, '', href);
  else history.pushState(o.state ?? null, '', href);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current route, updated on navigation and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location));
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}

/** Click handler for in-app links: a plain left click navigates in place; others act as usual. */
export function onLinkClick(ev: MouseEvent, href: string): void {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(href);
}

/** The path of a certificate's detail view. */
export function certificatePath(issuer: string, serial: string): string {
  return `/certificates/${encodeURIComponent(issuer)}/${encodeURIComponent(serial)}`;
}

/** The inventory filtered by a query. */
export function inventoryPath(q: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `/certificates?${s}` : '/certificates';
}
