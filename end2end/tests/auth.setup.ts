import { test as setup, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ACCOUNTS, PASSWORD, callServerFn, hydrated, noSidewaysScroll, signIn } from './helpers';

setup.describe.configure({ mode: 'serial' });

setup('first run: the one-time setup link creates the admin; sign out and in', async ({ page, baseURL }) => {
  // The server printed the link to its log and wrote it beside its database.
  const url = readFileSync('.data/setup-url.txt', 'utf8').trim();
  expect(url).toMatch(/\/setup\?token=[A-Za-z0-9_-]{43}$/);
  await page.goto(url.replace(/^https?:\/\/[^/]+/, ''));
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Set up Stackyard' })).toBeVisible();
  await noSidewaysScroll(page);

  // Bad input is answered next to its field, and nothing is created.
  await page.getByLabel('Admin name').fill(ACCOUNTS.admin.name);
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByLabel('Password again').fill('too short');
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.locator('#setup-password-error')).toHaveText('Use at least 12 characters; this one has 9.');

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  await hydrated(page);

  // Sign out: the session is gone and the dashboard asks to sign in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  const status = await page.request.post('/api/dashboard/status', { headers: { Origin: baseURL! } });
  expect(status.status()).toBe(401);

  // A wrong password gets the one message for every failed login.
  await hydrated(page);
  await signIn(page, ACCOUNTS.admin.name, 'not the right password');
  await expect(page.getByRole('alert')).toHaveText('Wrong name or password.');
  await signIn(page, ACCOUNTS.admin.name);
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();

  // The setup link works once.
  const again = await page.request.post('/api/auth/setup', {
    form: { token: url.split('token=')[1], username: 'second', password: PASSWORD, confirm: PASSWORD },
    headers: { Origin: baseURL! },
  });
  expect(again.status()).toBe(409);

  for (const account of [ACCOUNTS.operator, ACCOUNTS.viewer]) {
    const r = await callServerFn(page.request, baseURL!, '/api/users/create', {
      username: account.name,
      password: PASSWORD,
      role: account.role,
    });
    expect(r.status(), await r.text()).toBe(200);
  }
  await page.context().storageState({ path: '.auth/admin.json' });
});

for (const account of [ACCOUNTS.viewer, ACCOUNTS.operator]) {
  setup(`an account with the ${account.role} role signs in`, async ({ browser, baseURL }) => {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    await page.goto('/');
    await hydrated(page);
    await signIn(page, account.name);
    await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
    await context.storageState({ path: `.auth/${account.role}.json` });
    await context.close();
  });
}
