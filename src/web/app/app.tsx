import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { SessionInfo } from '../../server/api/dashboard-schemas.js';
import { ApiClient } from './api.js';
import { ErrorNotice, Link, Loading } from './components/ui.js';
import { commonName } from './format.js';
import { ApiContext } from './hooks.js';
import { type Route, useRoute } from './router.js';
import { AuditView } from './views/audit.js';
import { CertificateView } from './views/certificate.js';
import { EnrollmentView } from './views/enrollment.js';
import { ExpiryView } from './views/expiry.js';
import { HierarchyView } from './views/hierarchy.js';
import { InventoryView } from './views/inventory.js';
import { NotFoundView } from './views/not-found.js';
import { OverviewView } from './views/overview.js';

/** Sends the browser to the login form, coming back here afterwards. */
function toLogin(): void {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

const NAV: readonly { href: string; label: string; views: readonly Route['view'][] }[] = [
  { href: '/', label: 'Overview', views: ['overview'] },
  { href: '/certificates', label: 'Certificates', views: ['certificates', 'certificate'] },
  { href: '/hierarchy', label: 'CA hierarchy', views: ['hierarchy'] },
  { href: '/expiry', label: 'Expiry timeline', views: ['expiry'] },
  { href: '/audit', label: 'Audit log', views: ['audit'] },
  { href: '/enrollment', label: 'Enrollment', views: ['enrollment'] },
];

function who(s: SessionInfo): string {
  if (s.subject) return commonName(s.subject);
  const m = /^admin:(token|cert):(.{1,12})/.exec(s.requester);
  return m ? `${m[1] === 'token' ? 'Token' : 'Certificate'} ${m[2]}` : s.requester;
}

function View(props: { route: Route }) {
  const r = props.route;
  switch (r.view) {
    case 'overview':
      return <OverviewView />;
    case 'certificates':
      return <InventoryView query={r.query} />;
    case 'certificate':
      return <CertificateView issuer={r.issuer} serial={r.serial} />;
    case 'hierarchy':
      return <HierarchyView />;
    case 'expiry':
      return <ExpiryView />;
    case 'audit':
      return <AuditView query={r.query} />;
    case 'enrollment':
      return <EnrollmentView />;
    default:
      return <NotFoundView />;
  }
}

export function App() {
  const api = useMemo(() => new ApiClient(toLogin), []);
  const [session, setSession] = useState<SessionInfo>();
  const [error, setError] = useState<Error>();
  const route = useRoute();
  const first = useRef(true);

  useEffect(() => {
    api.session().then(setSession, setError);
  }, [api]);

  // After an in-app navigation, start keyboard and screen-reader users at the new view's heading.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
    window.scrollTo(0, 0);
  }, [route]);

  const signOut = async () => {
    try {
      await api.logout();
    } finally {
      location.assign('/login');
    }
  };

  return (
    <ApiContext.Provider value={api}>
      <div class="shell">
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <aside class="sidebar">
          <div class="brand">
            <svg class="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
              <rect width="32" height="32" rx="7" />
              <path d="M16 6l8 3v6c0 5.2-3.4 9.4-8 11-4.6-1.6-8-5.8-8-11V9z" class="brand-shield" />
              <path d="M12.2 16.2l2.6 2.6 5-5.2" class="brand-check" />
            </svg>
            <span class="brand-name">fleetpki</span>
          </div>
          <nav aria-label="Main">
            <ul class="nav">
              {NAV.map((n) => {
                const current = n.views.includes(route.view);
                return (
                  <li key={n.href}>
                    <Link href={n.href} class="nav-link" aria-current={current ? 'page' : undefined}>
                      {n.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          <div class="sidebar-footer">
            {session ? (
              <>
                <p class="who" title={session.requester}>
                  <span class="who-label">Signed in</span>
                  <span class="who-name">{who(session)}</span>
                </p>
                {session.method === 'session' ? (
                  <button type="button" class="btn btn-small btn-sidebar" onClick={signOut}>
                    Sign out
                  </button>
                ) : (
                  <p class="who-label">
                    with the {session.method === 'bearer' ? 'bearer token' : 'client certificate'}
                  </p>
                )}
              </>
            ) : null}
          </div>
        </aside>
        <main id="main" class="content" tabIndex={-1}>
          {error ? <ErrorNotice error={error} /> : session ? <View route={route} /> : <Loading />}
        </main>
      </div>
    </ApiContext.Provider>
  );
}
