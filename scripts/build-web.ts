// Builds the dashboard (src/web/) with Vite into a directory (default dist/web/), as
// src/server/dashboard/assets.ts expects it: index.html and login.html, the application's files
// under assets/ (served to admins) and the login form's under login/ (served to anyone), and
// .vite/manifest.json saying which is which. `npm run build` runs it after tsc; the browser tests
// build into a temporary directory of their own.
//
//   node --import tsx scripts/build-web.ts [OUT_DIR]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../src/web/', import.meta.url));

/** True for a file only the login page uses (its own script and style; the shared icon). */
function loginFile(names: readonly string[]): boolean {
  return names.some((n) => /(^|\/)(login\.(css|ts)|favicon\.svg)$/.test(n));
}

/** Runs the production build into `outDir` (emptied first). */
export async function buildDashboard(outDir: string, o: { quiet?: boolean } = {}): Promise<void> {
  await build({
    configFile: false,
    root,
    base: '/',
    publicDir: false,
    logLevel: o.quiet ? 'warn' : 'info',
    // Preact's automatic JSX runtime (no React plugin needed).
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir: resolve(outDir),
      emptyOutDir: true,
      manifest: true,
      target: 'es2022',
      // Nothing inlined as data: URLs, so the CSP can stay at img-src 'self'.
      assetsInlineLimit: 0,
      // The polyfill would be an inline-free but unneeded extra: every supported browser has modulepreload.
      modulePreload: { polyfill: false },
      sourcemap: false,
      chunkSizeWarningLimit: 400,
      rolldownOptions: {
        input: { index: resolve(root, 'index.html'), login: resolve(root, 'login.html') },
        output: {
          entryFileNames: (c) => (c.name === 'login' ? 'login/[name]-[hash].js' : 'assets/[name]-[hash].js'),
          chunkFileNames: 'assets/[name]-[hash].js',
          assetFileNames: (a) =>
            loginFile([...(a.names ?? []), ...(a.originalFileNames ?? [])])
              ? 'login/[name]-[hash][extname]'
              : 'assets/[name]-[hash][extname]',
        },
      },
    },
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildDashboard(process.argv[2] ?? fileURLToPath(new URL('../dist/web/', import.meta.url)));
}
