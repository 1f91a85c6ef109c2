import { expect, test } from '@playwright/test';
import { hydrated, isPhone, noSidewaysScroll } from './helpers';

test('the dashboard loads inside the shell and reports its database', async ({ page }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/Stackyard/);
  await expect(page.getByRole('link', { name: 'Stackyard' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  await expect(page.getByText('SQLite')).toBeVisible();
  await expect(page.getByText('answering')).toBeVisible();
  await noSidewaysScroll(page);
});

test('hydration makes the page interactive', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const checked = page.getByTestId('checked-at');
  await expect(checked).toBeVisible();
  // The Refresh button only works once the wasm has taken over: it calls the
  // status server function again and re-renders the time it answered.
  const [reply] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/dashboard/status') && r.status() === 200),
    page.getByRole('button', { name: 'Refresh' }).click(),
  ]);
  const body = await reply.json();
  // Whole seconds since the epoch on the wire; ISO 8601 in the attribute.
  const iso = new Date(body.checked_at * 1000).toISOString().replace(/\.000Z$/, 'Z');
  await expect(checked).toHaveAttribute('datetime', iso);
});

test('navigation: every area is reachable and nothing scrolls sideways', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const menu = page.getByRole('button', { name: 'Menu' });
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const area of ['Hosts', 'Layouts', 'DNS', 'Mail', 'Users', 'Audit', 'Dashboard']) {
    if (isPhone(page)) {
      await expect(nav).toBeHidden();
      await menu.click();
      await expect(menu).toHaveAttribute('aria-expanded', 'true');
    } else {
      await expect(menu).toBeHidden();
    }
    await nav.getByRole('link', { name: area, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: area })).toBeVisible();
    await expect(page).toHaveTitle(new RegExp(`${area} · Stackyard`));
    await noSidewaysScroll(page);
    if (isPhone(page)) {
      await expect(nav).toBeHidden();
    }
  }
});

test('an unknown path gets a 404 page inside the shell', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Stackyard' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
});

test('pages carry a strict Content-Security-Policy and security headers', async ({ page }) => {
  const response = await page.goto('/');
  const headers = response?.headers() ?? {};
  const csp = headers['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+'/);
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  // Hydration still works under that policy (no CSP violation blocked it).
  await hydrated(page);
});

test('keyboard focus is visible', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
});

test('light and dark themes follow the system setting', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(light).not.toBe(dark);
});
