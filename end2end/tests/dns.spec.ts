import { expect, test } from '@playwright/test';
import { hydrated, isPhone, noSidewaysScroll } from './helpers';

test('dns: an A record with its PTR through the form; a bad IPv4 address is refused by its field', async ({ page }) => {
  // The desktop and phone runs share one server: each uses its own zone and network.
  const phone = isPhone(page);
  const domain = phone ? 'phone.example.test' : 'desk.example.test';
  const net = phone ? { prefix: '198.51.100', reverse: '100.51.198.in-addr.arpa.' } : { prefix: '203.0.113', reverse: '113.0.203.in-addr.arpa.' };

  await page.goto('/dns');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'DNS' })).toBeVisible();
  await page.getByLabel('Domain').fill(domain);
  await page.getByRole('button', { name: 'Create zone', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created' })).toHaveText(`Created the zone ${domain}.`);
  await noSidewaysScroll(page);
  await page.getByRole('link', { name: `${domain}.`, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: `${domain}.` })).toBeVisible();
  await hydrated(page);

  const form = page.getByRole('form', { name: 'Add a record' });
  await form.getByLabel('Name').fill('www');
  await expect(form.getByLabel('Type')).toHaveValue('A');
  await form.getByLabel('Address').fill(`${net.prefix}.300`);
  await form.getByRole('button', { name: 'Add record' }).click();
  // The server's message, next to the address field; nothing was saved.
  await expect(page.locator('#rec-address-error')).toHaveText(
    `"${net.prefix}.300" is not an IPv4 address; write four numbers from 0 to 255 separated by dots, such as 192.0.2.1`,
  );
  await expect(form.getByLabel('Address')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('No records yet.')).toBeVisible();
  await expect(page.getByRole('list', { name: 'History' }).getByRole('listitem')).toHaveCount(1);
  await noSidewaysScroll(page);

  // Corrected, with "also PTR" and the reverse zone created on the way.
  await form.getByLabel('Address').fill(`${net.prefix}.10`);
  await expect(form.getByLabel(/Also PTR/)).toBeChecked();
  await form.getByLabel(/Create the reverse zone/).check();
  await form.getByRole('button', { name: 'Add record' }).click();
  const saved = page.getByRole('status').filter({ hasText: 'Saved' });
  await expect(saved).toContainText(`PTR 10.${net.reverse} → www.${domain}. in ${net.reverse}`);
  const row = page.getByRole('row', { name: `www A ${net.prefix}.10` });
  await expect(row).toBeVisible();
  await expect(row.getByText('PTR', { exact: true })).toBeVisible();
  await expect(page.locator('#rec-address-error')).toBeEmpty();
  await noSidewaysScroll(page);

  // The reverse zone holds the PTR.
  await page.getByRole('link', { name: 'All zones' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'DNS' })).toBeVisible();
  await page.getByRole('link', { name: net.reverse, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: net.reverse })).toBeVisible();
  await expect(page.getByRole('row', { name: `10 PTR www.${domain}.` })).toBeVisible();
  await noSidewaysScroll(page);
});
