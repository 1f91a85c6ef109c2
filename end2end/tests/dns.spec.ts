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
  // The history is opened on demand (its code is fetched then).
  await page.getByRole('button', { name: 'Show the history…' }).click();
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

test('dns: import and history are opened on demand; an internationalised owner is imported as punycode', async ({
  page,
}) => {
  const domain = `${isPhone(page) ? 'phone' : 'desk'}-${Date.now().toString(36)}.import.test`;
  await page.goto('/dns');
  await hydrated(page);
  await page.getByLabel('Domain').fill(domain);
  await page.getByRole('button', { name: 'Create zone', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created' })).toHaveText(`Created the zone ${domain}.`);
  // Cold, by its address, as a person coming back to it would.
  const link = page.getByRole('link', { name: `${domain}.`, exact: true });
  await page.goto((await link.getAttribute('href'))!);
  await hydrated(page);

  // Neither panel's code is part of the page: each is fetched on its first click.
  const chunks: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/pkg/')) chunks.push(r.url());
  });
  await expect(page.getByRole('textbox', { name: 'Zone file' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Import a zone file…' }).click();
  const text = page.getByRole('textbox', { name: 'Zone file' });
  await expect(text).toBeVisible();
  expect(chunks.some((u) => u.includes('split_ZoneRoute__Import'))).toBe(true);

  // A broken line is reported with its number; nothing can be imported.
  await text.fill('www 300 IN A 192.0.2.10\nmail 300 IN A 192.0.2.300\n');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'nothing can be imported' })).toContainText('line 2');
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toBeDisabled();
  // An internationalised owner is stored as its punycode (UTS #46).
  const soa = `@ 3600 IN SOA ns1.${domain}. hostmaster.${domain}. ( 1 7200 3600 1209600 300 )`;
  await text.fill(`${soa}\nwww 300 IN A 192.0.2.10\nbücher 300 IN A 192.0.2.11\n`);
  await page.getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByLabel('Import preview');
  await expect(preview).toContainText('Added (2)');
  await expect(preview).toContainText(`xn--bcher-kva.${domain}.`);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Imported' })).toContainText('Imported; serial');
  await expect(page.getByRole('table', { name: 'Records' })).toContainText('xn--bcher-kva');

  // The history: the import is the newest version; the one before can be restored.
  await page.getByRole('button', { name: 'Show the history…' }).click();
  const history = page.getByRole('list', { name: 'History' });
  await expect(history.getByRole('listitem')).toHaveCount(2);
  expect(chunks.some((u) => u.includes('split_ZoneRoute__History'))).toBe(true);
  await history.getByRole('listitem').first().getByRole('button', { name: 'Show diff' }).click();
  await expect(page.locator('.dns-diff')).toContainText('xn--bcher-kva');

  // The export, also on demand: the file as NSD serves it.
  await page.getByRole('button', { name: 'Export the zone…' }).click();
  await page.getByRole('button', { name: 'Show the file' }).click();
  await expect(page.locator('pre.dns-file:not(.dns-diff)')).toContainText('xn--bcher-kva');
  await expect(page.getByRole('link', { name: /^Download / })).toBeVisible();
  expect(chunks.some((u) => u.includes('split_ZoneRoute__Export'))).toBe(true);
  await noSidewaysScroll(page);
});

test('dns: a tool whose code cannot be fetched says so in its panel, and the rest of the page keeps working', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const domain = `${isPhone(page) ? 'phone' : 'desk'}-${Date.now().toString(36)}.offline.test`;
  await page.goto('/dns');
  await hydrated(page);
  await page.getByLabel('Domain').fill(domain);
  await page.getByRole('button', { name: 'Create zone', exact: true }).click();
  const link = page.getByRole('link', { name: `${domain}.`, exact: true });
  await page.goto((await link.getAttribute('href'))!);
  await hydrated(page);
  // The import tool's chunk cannot be fetched (connection lost).
  const chunk = (url: URL) => url.pathname.includes('/pkg/split_ZoneRoute__Import');
  await page.route(chunk, (route) => route.abort('internetdisconnected'));
  await page.getByRole('button', { name: 'Import a zone file…' }).click();
  const panel = page.getByRole('article', { name: 'Import a zone file' });
  await expect(panel.getByRole('alert')).toContainText('This part could not be loaded');
  await expect(panel.getByRole('button', { name: 'Reload' })).toBeVisible();
  // Another tool still opens; the splitter's loader may leave its own
  // "Failed to fetch" unhandled, anything else (a panic) would show here.
  await page.getByRole('button', { name: 'Show the history…' }).click();
  await expect(page.getByRole('list', { name: 'History' })).toBeVisible();
  expect(errors.filter((e) => e !== 'Failed to fetch')).toEqual([]);
  // Reload, with the connection back: the tool opens.
  await page.unroute(chunk);
  await panel.getByRole('button', { name: 'Reload' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Import a zone file…' }).click();
  await expect(page.getByRole('textbox', { name: 'Zone file' })).toBeVisible();
});
