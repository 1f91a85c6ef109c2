import { expect, test, type Page } from '@playwright/test';
import http from 'node:http';
import { hydrated, isPhone } from './helpers';
import { fill, objects, routes } from './routes';

// What a phone downloads on a first visit: each page opened in a new browser
// context (an empty cache) and hydrated; every `/pkg/` file it fetched (the
// main module, its glue, the page's chunks, the stylesheet) counted at its
// brotli size. Chromium asks for gzip only over plain http, so each file is
// fetched again asking for brotli, and the bytes on the wire are counted.
const LOGIN_BUDGET = 250 * 1024;
const PAGE_BUDGET = 390 * 1024;
// The small shared chunks are merged (scripts/cargo-leptos): up to 24 chunks
// a page, with the main module, its glue, the loader and the stylesheet.
const MAX_FILES = 30;
const budgetOf = (path: string) => (path === '/login' ? LOGIN_BUDGET : PAGE_BUDGET);

/** The size on the wire of `url` fetched with `accept-encoding: br`. */
function brotliSize(url: string, cookie: string): Promise<{ bytes: number; encoding: string; cache: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'br', cookie } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({
            bytes,
            encoding: String(res.headers['content-encoding'] ?? 'identity'),
            cache: String(res.headers['cache-control'] ?? ''),
          }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The `/pkg/` files `page` requests from now on. */
function pkgRequests(page: Page): Set<string> {
  const urls = new Set<string>();
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) urls.add(r.url());
  });
  return urls;
}

async function weigh(urls: Set<string>, cookie: string) {
  let total = 0;
  for (const url of urls) {
    const { bytes, encoding, cache } = await brotliSize(url, cookie);
    // Precompressed on disk: every code file goes out as brotli, and is
    // revalidated (a new build is fetched, an unchanged file answers 304).
    if (/\.(wasm|js|css)$/.test(new URL(url).pathname)) expect(encoding, url).toBe('br');
    expect(cache, url).toBe('no-cache');
    total += bytes;
  }
  return total;
}

test('a phone loads each page with under 390 KB of code, the sign-in page under 250 KB', async ({ browser, baseURL }, info) => {
  test.skip(info.project.name !== 'phone', 'measured once, at phone size');
  test.setTimeout(120_000);
  const admin = await browser.newContext({ baseURL, storageState: '.auth/admin.json' });
  const o = await objects(admin.request, baseURL!, info);
  const cookie = (await admin.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  await admin.close();

  const rows: { path: string; files: number; kb: number }[] = [];
  for (const route of routes) {
    const signedIn = route.access !== 'public';
    const context = await browser.newContext({
      baseURL,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      ...(signedIn ? { storageState: '.auth/admin.json' } : {}),
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const urls = pkgRequests(page);
    const url = fill(route.path, o);
    await page.goto(url);
    await hydrated(page);
    await page.waitForLoadState('networkidle');
    expect(errors, url).toEqual([]);
    const bytes = await weigh(urls, signedIn ? cookie : '');
    rows.push({ path: route.path, files: urls.size, kb: bytes / 1024 });
    await context.close();
  }

  const width = Math.max(...rows.map((r) => r.path.length));
  console.log(`${'page'.padEnd(width)}  files  brotli KB  budget`);
  for (const r of rows) {
    const target = r.path === '/login' ? LOGIN_BUDGET : PAGE_BUDGET;
    const over = r.kb * 1024 > target ? `  over by ${(r.kb - target / 1024).toFixed(1)} KB` : '';
    console.log(`${r.path.padEnd(width)}  ${String(r.files).padStart(5)}  ${r.kb.toFixed(1).padStart(9)}  ${target / 1024}${over}`);
  }
  for (const r of rows) {
    expect(r.kb * 1024, `${r.path}: ${r.kb.toFixed(1)} KB`).toBeLessThanOrEqual(budgetOf(r.path));
    // Few files too: over plain http a phone fetches six at a time.
    expect(r.files, `${r.path}: ${r.files} files`).toBeLessThanOrEqual(MAX_FILES);
  }
});

test("a deep link to one area, then a click to another: the second area's chunk loads and its form works", async ({
  page,
}) => {
  test.setTimeout(60_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/dns');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'DNS' })).toBeVisible();

  const urls = pkgRequests(page);
  if (isPhone(page)) await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mail', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Mail' })).toBeVisible();
  // The mail page's code was not on the DNS page: it came as a chunk now.
  expect([...urls].filter((u) => u.endsWith('.wasm')).length, [...urls].join('\n')).toBeGreaterThan(0);

  const domain = `chunk-${isPhone(page) ? 'phone' : 'desk'}-${Date.now().toString(36)}.test`;
  await page.getByLabel('Domain', { exact: true }).fill('not a domain');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.locator('#mail-domain-name-error')).toContainText('is not a valid mail domain');
  await page.getByLabel('Domain', { exact: true }).fill(domain);
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.getByRole('status')).toContainText(`Added ${domain}.`);
  expect(errors).toEqual([]);
});

test('a chunk that cannot be fetched: the page says so and offers a reload, which works once the network is back', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/dns');
  await hydrated(page);
  // Every chunk fails from now on (the main module is already running).
  const chunk = (url: URL) => url.pathname.startsWith('/pkg/') && url.pathname.endsWith('.wasm') && !url.pathname.endsWith('/stackyard.wasm');
  await page.route(chunk, (route) => route.abort('internetdisconnected'));
  if (isPhone(page)) await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'This page could not be loaded' })).toBeVisible();
  // The splitter's loader leaves the other failed fetches of the same load
  // unhandled ("Failed to fetch"); anything else (a panic) would show here.
  expect(errors.filter((e) => e !== 'Failed to fetch')).toEqual([]);

  await page.unroute(chunk);
  await page.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  await hydrated(page);
  expect(errors.filter((e) => e !== 'Failed to fetch')).toEqual([]);
});
