// The login form: exchanges the admin token for a session cookie (POST /session), then goes to the
// page that sent the browser here. Plain DOM, no framework: it is the only script anonymous
// visitors get.
import type { LoginRequest } from '../../server/api/dashboard-schemas.js';
import './login.css';

/** Where to go after the login: a path of this site only (`next` comes from the URL). */
function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  return /^\/(?![/\\])/.test(next) ? next : '/';
}

function problemText(status: number, body: unknown): string {
  if (status === 401) return 'That token is not valid for this service.';
  const detail = (body as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? detail : `The service refused the login (HTTP ${status}).`;
}

const form = document.getElementById('login-form') as HTMLFormElement;
const input = document.getElementById('token') as HTMLInputElement;
const error = document.getElementById('login-error') as HTMLParagraphElement;
const button = form.querySelector('button') as HTMLButtonElement;

function showError(text: string): void {
  error.textContent = text;
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = input.value.trim();
  if (!token) {
    showError('Enter the admin token.');
    return;
  }
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    const body: LoginRequest = { token };
    const r = await fetch('/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    if (r.status === 201) {
      input.value = '';
      location.assign(nextPath());
      return;
    }
    showError(problemText(r.status, await r.json().catch(() => null)));
  } catch {
    showError('The service could not be reached.');
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
});

input.focus();
