import { expect, test } from '@playwright/test';
import { ACCOUNTS, PASSWORD, callServerFn, hydrated, isPhone, noSidewaysScroll } from './helpers';

test.describe('as a viewer', () => {
  test.use({ storageState: '.auth/viewer.json' });

  test('sees no edit controls and cannot reach admin pages', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    await expect(page.getByText(ACCOUNTS.viewer.name)).toBeVisible();
    if (isPhone(page)) await page.getByRole('button', { name: 'Menu' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Dashboard' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(nav.getByRole('link', { name: 'Audit' })).toHaveCount(0);

    const users = await page.goto('/users');
    expect(users?.status()).toBe(403);
    await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create account' })).toHaveCount(0);
    await noSidewaysScroll(page);
  });

  test("a direct call to an operator's server function is refused", async ({ page, baseURL }) => {
    await page.goto('/');
    const audit = await callServerFn(page.request, baseURL!, '/api/audit/list', {});
    expect(audit.status()).toBe(403);
    const create = await callServerFn(page.request, baseURL!, '/api/users/create', {
      username: 'sneaky',
      password: PASSWORD,
      role: 'admin',
    });
    expect(create.status()).toBe(403);
    // Its own reads still work.
    const status = await callServerFn(page.request, baseURL!, '/api/dashboard/status', {});
    expect(status.status()).toBe(200);
  });
});

test('the users page: create, refuse bad input, change role, disable', async ({ page }, testInfo) => {
  // One account per project, so desktop and phone runs do not collide.
  const name = `tester-${testInfo.project.name}`;
  await page.goto('/users');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await noSidewaysScroll(page);

  const form = page.getByRole('form', { name: 'New account' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Password').fill('short');
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#new-password-error')).toHaveText('Use at least 12 characters; this one has 5.');
  await expect(page.getByRole('listitem', { name: `Account ${name}` })).toHaveCount(0);

  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByLabel('Role').selectOption('operator');
  await form.getByRole('button', { name: 'Create account' }).click();
  const row = page.getByRole('listitem', { name: `Account ${name}` });
  await expect(row).toBeVisible();
  await expect(row.locator('.badge').first()).toHaveText('Operator');

  await row.getByLabel(`Role of ${name}`).selectOption('viewer');
  await row.getByRole('button', { name: 'Set role' }).click();
  await expect(row.locator('.badge').first()).toHaveText('Viewer');

  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row.getByText('Disabled')).toBeVisible();
  await expect(row.getByRole('button', { name: 'Enable' })).toBeVisible();
  await noSidewaysScroll(page);

  // The admin cannot disable the last admin: a clear refusal.
  const admin = page.getByRole('listitem', { name: `Account ${ACCOUNTS.admin.name}` });
  await admin.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'last enabled admin' })).toBeVisible();
});

test('the audit page lists what happened and filters it', async ({ page }) => {
  await page.goto('/audit');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'auth.setup' }).first()).toBeVisible();
  await page.getByLabel('Action').fill('auth.setup');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=auth.setup/);
  // The refused short password, the setup itself, and the second try with a used link.
  const actions = page.locator('td[data-label="Action"]');
  await expect(actions).toHaveCount(3);
  await expect(actions).toHaveText(['auth.setup', 'auth.setup', 'auth.setup']);
  await expect(page.locator('td[data-label="Outcome"]')).toHaveText(['failed', 'success', 'failed']);
  await page.getByLabel('From (UTC)').fill('yesterday');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('#f-from-error')).toContainText('is not a date');
  await noSidewaysScroll(page);
});
