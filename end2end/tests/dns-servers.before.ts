import { expect, test } from '@playwright/test';
import { hydrated, noSidewaysScroll, PASSWORD } from './helpers';

test('dns servers: add a secondary, edit it by form with messages by the fields, remove it', async ({ page }) => {
  await page.goto('/dns/servers');
  await hydrated(page);
  const add = page.getByRole('form', { name: 'Add a DNS server' });
  await add.getByLabel('Name', { exact: true }).fill('ns2');
  await add.getByLabel('Role').selectOption('secondary');
  await add.getByLabel('Host name (NS records)').fill('ns2.example.test');
  await add.getByLabel('Address').fill('192.0.2.999');
  await add.getByLabel('Port').fill('5353');
  await add.getByLabel('Reload with').selectOption('command');
  await add.getByLabel('nsd.conf, command or pidfile').fill('systemctl reload nsd');
  await add.getByLabel('Your password, to confirm').fill(PASSWORD);
  await add.getByRole('button', { name: 'Add server' }).click();
  await expect(page.locator('#srv-address-error')).toContainText('is not an IPv4 or IPv6 address');
  await add.getByLabel('Address').fill('192.0.2.54');
  await add.getByRole('button', { name: 'Add server' }).click();
  const row = page.getByRole('row', { name: 'DNS server ns2' });
  await expect(row).toContainText('192.0.2.54 port 5353');

  // Edit: the form opens with the stored values, the reload method included.
  await row.getByRole('button', { name: 'Edit ns2' }).click();
  const edit = page.getByRole('form', { name: 'Edit ns2' });
  await expect(edit.getByLabel('Address')).toHaveValue('192.0.2.54');
  await expect(edit.getByLabel('Role')).toHaveValue('secondary');
  await expect(edit.getByLabel('Reload with')).toHaveValue('command');
  await expect(edit.getByLabel('nsd.conf, command or pidfile')).toHaveValue('systemctl reload nsd');
  await edit.getByLabel('Address').fill('192.0.2.55');
  await edit.getByLabel('Port').fill('0');
  await edit.getByLabel('Your password, to confirm').fill(PASSWORD);
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#edit-srv-port-error')).toContainText('is not a port');
  // Refused: what was typed stays, and the entry is unchanged.
  await expect(edit.getByLabel('Address')).toHaveValue('192.0.2.55');
  await expect(row).toContainText('192.0.2.54 port 5353');
  await edit.getByLabel('Port').fill('5354');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row).toContainText('192.0.2.55 port 5354');
  await noSidewaysScroll(page);

  // Leave no entry behind: new zones of the other tests get no extra NS.
  await row.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('No DNS server yet.')).toBeVisible();
});
