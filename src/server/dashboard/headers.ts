import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Response headers of every dashboard answer (pages, assets, session endpoints, redirects).
 *
 * The Content-Security-Policy (CSP Level 3) allows only this origin's own bundled scripts, styles,
 * images and API calls: no inline script or style attribute, no eval, no plugins, no framing, no
 * `<base>`, forms posting only here, and Trusted Types enforced so no string reaches an HTML or
 * script sink. The bundle is built for it (src/web/: no inline code, SVG drawn as elements).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers sent with every dashboard response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // Older browsers' framing control (CSP frame-ancestors supersedes it).
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** A name HSTS may be pinned for: not an IP literal (RFC 6797 §8.1.1) and not `localhost`. */
function hstsHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host : host.replace(/:\d+$/, '');
  if (name.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return false;
  return name !== 'localhost' && !name.endsWith('.localhost');
}

/**
 * Adds the security headers to a reply. HSTS (RFC 6797) only for a real host name: pinned on
 * `localhost` it would force HTTPS onto every other local development server of the browser.
 */
export function addSecurityHeaders(req: FastifyRequest, reply: FastifyReply): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
  if (hstsHost(req.headers.host)) reply.header('strict-transport-security', 'max-age=31536000');
}
