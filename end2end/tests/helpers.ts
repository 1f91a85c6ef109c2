import { expect, type Page, type APIRequestContext } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';
export const ACCOUNTS = {
  admin: { name: 'admin', role: 'admin' },
  operator: { name: 'olga', role: 'operator' },
  viewer: { name: 'victor', role: 'viewer' },
} as const;

export const isPhone = (page: Page) => (page.viewportSize()?.width ?? 1280) < 700;

/** Resolves once the wasm bundle has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'true');
}

export async function noSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  expect(overflow.scroll, `page is ${overflow.scroll}px wide in a ${overflow.width}px viewport`).toBeLessThanOrEqual(
    overflow.width,
  );
}

/** Signs in through the form shown in place of a protected page. */
export async function signIn(page: Page, name: string, password = PASSWORD) {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Calls a server function the way a script would, with the page's cookies. */
export async function callServerFn(request: APIRequestContext, baseURL: string, path: string, form: Record<string, string>) {
  return request.post(path, { form, headers: { Origin: baseURL } });
}
