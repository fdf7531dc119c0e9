// The dashboard shell: navigation, client-side routing over the server's page paths, live status.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, html, navigate, startLiveUpdates, useConnection } from './lib.js';
import { AccountsPage } from './pages/accounts.js';
import { ActionsPage } from './pages/actions.js';
import { AuthFilesPage } from './pages/auth-files.js';
import { DoctorPage } from './pages/doctor.js';
import { InspectionPage } from './pages/inspection.js';
import { MonitoringPage } from './pages/monitoring.js';
import { OverviewPage } from './pages/overview.js';
import { SettingsPage } from './pages/settings.js';

const PAGES = [
  { path: '/', title: 'Overview', component: OverviewPage },
  { path: '/accounts', title: 'Accounts', component: AccountsPage },
  { path: '/inspection', title: 'Inspection', component: InspectionPage },
  { path: '/actions', title: 'Actions', component: ActionsPage },
  { path: '/monitoring', title: 'Monitoring', component: MonitoringPage },
  { path: '/auth', title: 'Auth files', component: AuthFilesPage },
  { path: '/settings', title: 'Settings', component: SettingsPage },
  { path: '/doctor', title: 'Doctor', component: DoctorPage },
];

function pageFor(path) {
  if (path.startsWith('/auth')) return PAGES.find((p) => p.path === '/auth');
  return PAGES.find((p) => p.path === path) ?? PAGES[0];
}

function useLocation() {
  const [loc, setLoc] = useState({ path: location.pathname, search: location.search });
  useEffect(() => {
    const on = () => setLoc({ path: location.pathname, search: location.search });
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return loc;
}

/** Same-origin links are handled in the page; modifier clicks still open new tabs. */
function onLinkClick(e) {
  const a = e.target.closest?.('a[href]');
  if (!a || a.target || a.origin !== location.origin || a.dataset.native !== undefined) return;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}

function LiveIndicator() {
  const state = useConnection();
  const text = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline' }[state];
  return html`<span class=${`live live-${state}`} role="status" aria-live="polite"><span class="dot"></span>${text}</span>`;
}

function App() {
  const { path, search } = useLocation();
  const page = pageFor(path);
  const [menuOpen, setMenuOpen] = useState(false);
  const keySet = document.querySelector('meta[name="admin-key-set"]')?.getAttribute('content') === 'true';
  const firstRender = useRef(true);
  useEffect(() => {
    document.title = `${page.title} · codex-fleet`;
    setMenuOpen(false);
    // After in-page navigation, move focus to the new content (as a page load would); not on load.
    if (!firstRender.current) document.getElementById('main')?.focus({ preventScroll: true });
    firstRender.current = false;
  }, [path]);
  const Page = page.component;
  const logout = async () => {
    await api('/logout', { method: 'POST' }).catch(() => {});
    location.href = '/login';
  };
  return html`
    <a class="skip" href="#main" data-native>Skip to content</a>
    <header class="topbar">
      <button type="button" class="btn icon menu-toggle" aria-expanded=${menuOpen} aria-controls="nav"
        onClick=${() => setMenuOpen(!menuOpen)}>☰<span class="sr-only">Menu</span></button>
      <a class="brand" href="/"><img src="/assets/favicon.svg" alt="" width="24" height="24" />codex-fleet</a>
      <${LiveIndicator} />
      ${keySet ? html`<button type="button" class="btn ghost small" onClick=${logout}>Log out</button>` : null}
    </header>
    <div class="layout">
      <nav id="nav" class=${menuOpen ? 'open' : ''} aria-label="Main">
        <ul>
          ${PAGES.map(
            (p) => html`<li><a href=${p.path} aria-current=${page === p ? 'page' : undefined}>${p.title}</a></li>`,
          )}
        </ul>
      </nav>
      <main id="main" tabindex="-1">
        <h1>${page.title}</h1>
        <${Page} path=${path} search=${search} />
      </main>
    </div>
  `;
}

document.addEventListener('click', onLinkClick);
startLiveUpdates();
const root = document.getElementById('app');
root.textContent = ''; // drop the boot message; preact renders into an empty node
render(html`<${App} />`, root);
