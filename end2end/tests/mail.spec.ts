import { expect, test } from '@playwright/test';
import { hydrated, isPhone, noSidewaysScroll, PASSWORD } from './helpers';

test('mail: add a domain and its zone, build and publish SPF from choices, generate a DKIM key, run the readiness check', async ({
  page,
}) => {
  test.setTimeout(90_000);
  // Each viewport drives its own domain; the suffix keeps reruns against a
  // reused server apart.
  const domain = `${isPhone(page) ? 'phone' : 'desk'}-${Date.now().toString(36)}.test`;

  await page.goto('/mail');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Mail' })).toBeVisible();
  await page.getByLabel('Domain', { exact: true }).fill('not a domain');
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.locator('#mail-domain-name-error')).toContainText('is not a valid mail domain');
  await page.getByLabel('Domain', { exact: true }).fill(domain);
  await page.getByRole('button', { name: 'Add domain' }).click();
  await expect(page.getByRole('status')).toContainText(`Added ${domain}.`);
  await noSidewaysScroll(page);
  await page.getByRole('status').getByRole('link', { name: domain }).click();

  await expect(page.getByRole('heading', { level: 1, name: domain })).toBeVisible();
  await hydrated(page);
  // No zone yet: the page offers to create it.
  await page.getByRole('button', { name: `Create the zone ${domain}` }).click();
  await expect(page.getByText(`Records live in the zone ${domain}.`)).toBeVisible();

  // SPF from choices; a bad address is answered next to its field. The
  // builder is opened first (its code is fetched then).
  await page.getByRole('button', { name: 'Build an SPF record…' }).click();
  const spf = page.getByRole('form', { name: 'Build an SPF record' });
  await spf.getByLabel(/mx: the domain's mail servers/).check();
  await spf.getByLabel('ip4 addresses or networks').fill('192.0.2.300');
  await spf.getByRole('button', { name: 'Build SPF record' }).click();
  await expect(page.locator('#spf-ip4-error')).toContainText('192.0.2.300');
  await spf.getByLabel('ip4 addresses or networks').fill('192.0.2.25');
  await spf.getByLabel('Everyone else (all)').selectOption('~');
  await spf.getByRole('button', { name: 'Build SPF record' }).click();
  await expect(page.locator('#spf-ip4-error')).toBeEmpty();
  await expect(page.getByTestId('record-value')).toHaveText('v=spf1 ip4:192.0.2.25 mx ~all');
  await expect(page.getByTestId('spf-lookups')).toHaveText('DNS lookups: 1 lookups, within the limit of 10');
  await page.getByRole('button', { name: 'Publish this SPF record' }).click();
  await expect(page.getByText(/Published in .* \(serial \d+\)\./)).toBeVisible();
  await expect(page.locator('#spf-title ~ .mail-current')).toContainText('v=spf1 ip4:192.0.2.25 mx ~all');
  await noSidewaysScroll(page);

  // DMARC, built the same way; a percentage over 100 is refused by its field.
  await page.getByRole('button', { name: 'Build a DMARC record…' }).click();
  const dmarc = page.getByRole('form', { name: 'Build a DMARC record' });
  await dmarc.getByLabel('Policy (p)').selectOption('quarantine');
  await dmarc.getByLabel('Percentage (pct)').fill('150');
  await dmarc.getByRole('button', { name: 'Build DMARC record' }).click();
  await expect(page.locator('#dmarc-pct-error')).not.toBeEmpty();
  await dmarc.getByLabel('Percentage (pct)').fill('');
  await dmarc.getByLabel('Aggregate reports to (rua)').fill(`dmarc@${domain}`);
  await dmarc.getByRole('button', { name: 'Build DMARC record' }).click();
  await expect(page.locator('#dmarc-pct-error')).toBeEmpty();
  await page.getByRole('button', { name: 'Publish this DMARC record' }).click();
  await expect(page.locator('#dmarc-title ~ .mail-current')).toContainText(`v=DMARC1; p=quarantine; rua=mailto:dmarc@${domain}`);
  await noSidewaysScroll(page);

  // MX: the form is fetched when opened; a line that is not "preference
  // host" is answered by its field, nothing published.
  await page.getByRole('button', { name: 'Change the MX records…' }).click();
  const mx = page.getByRole('form', { name: 'MX records' });
  await mx.getByLabel('Mail servers').fill('ten mail');
  await mx.getByRole('button', { name: 'Publish MX' }).click();
  await expect(page.locator('#mx-error')).not.toBeEmpty();
  await expect(page.locator('#mx-title ~ .mail-current')).toContainText('None published.');
  await mx.getByLabel('Mail servers').fill('10 mail');
  await mx.getByRole('button', { name: 'Publish MX' }).click();
  await expect(page.locator('#mx-title ~ .mail-current')).toContainText(`10 mail.${domain}`);
  await noSidewaysScroll(page);

  // DKIM: RSA 2048 under a selector, published as TXT strings; the private
  // key is downloadable by an admin. Each form is fetched when opened.
  await page.getByRole('button', { name: 'Generate a DKIM key…' }).click();
  const dkim = page.getByRole('form', { name: 'Generate a DKIM key' });
  await dkim.getByLabel('Selector').fill('bad_selector');
  await dkim.getByRole('button', { name: 'Generate and publish key' }).click();
  await expect(page.locator('#dkim-selector-error')).toContainText('is not a DNS label');
  await dkim.getByLabel('Selector').fill('pw');
  await expect(dkim.getByLabel('Key')).toHaveValue('rsa2048');
  await dkim.getByRole('button', { name: 'Generate and publish key' }).click();
  const key = page.getByRole('listitem', { name: 'DKIM key pw' });
  await expect(key).toContainText(`TXT at pw._domainkey.${domain}, 2 strings:`);
  await expect(key.getByText('RSA 2048')).toBeVisible();
  await expect(key).toContainText('"v=DKIM1; k=rsa; p=MII');
  // The private key asks for the admin's password again; a wrong one is
  // answered by the field.
  await key.getByRole('button', { name: 'Private key…' }).click();
  const unlock = key.getByRole('form', { name: 'Private key of pw' });
  await unlock.getByLabel('Your password, to confirm').fill('not my password');
  await unlock.getByRole('button', { name: 'Get the private key' }).click();
  await expect(page.locator('#dkim-password-pw-error')).toContainText('That is not your password.');
  await unlock.getByLabel('Your password, to confirm').fill(PASSWORD);
  await unlock.getByRole('button', { name: 'Get the private key' }).click();
  const link = page.getByRole('link', { name: `Download pw.${domain}.private.pem` });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toBe(`pw.${domain}.private.pem`);
  await noSidewaysScroll(page);

  // The readiness check with configured settings: every item is listed with
  // its status, and every failure with its fix (DNS here may answer nothing).
  await page.getByRole('button', { name: 'Change the check settings…' }).click();
  const settings = page.getByRole('form', { name: 'Check settings' });
  await settings.getByLabel('Mail IP').fill('192.0.2.999');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.locator('#check-ip-error')).toContainText('is not an IPv4 or IPv6 address');
  await settings.getByLabel('Mail IP').fill('192.0.2.25');
  await settings.getByLabel('Blocklists (DNSBL zones)').fill('zen.spamhaus.org bl.test');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await expect(page.getByRole('article', { name: 'Readiness check' })).toContainText('mail IP: 192.0.2.25');
  await page.getByRole('button', { name: 'Run the check' }).click();
  const checklist = page.getByRole('list', { name: 'Readiness checklist' });
  await expect(checklist).toBeVisible({ timeout: 60_000 });
  const ids = ['host-address', 'ptr', 'mx', 'spf', 'dkim:pw', 'dmarc', 'dnsbl:zen.spamhaus.org', 'dnsbl:bl.test'];
  for (const id of ids) {
    const item = checklist.locator(`li[data-check="${id}"]`);
    await expect(item).toBeVisible();
    await expect(item.locator('.badge')).toHaveText(/^(Pass|Fail|Warning|Skipped)$/);
    const status = await item.locator('.badge').textContent();
    if (status === 'Fail' || status === 'Warning') {
      await expect(item.getByText('How to fix:')).toBeVisible();
    }
  }
  await expect(checklist.locator('li')).toHaveCount(ids.length);
  await noSidewaysScroll(page);

  // Removing asks first, then takes the key and its record away together.
  await key.getByRole('button', { name: 'Remove DKIM key pw…' }).click();
  const confirm = key.getByRole('group', { name: 'Remove DKIM key pw' });
  await expect(confirm).toContainText('switch the signer to another selector first');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(key).toBeVisible();
  await key.getByRole('button', { name: 'Remove DKIM key pw…' }).click();
  await key.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('listitem', { name: 'DKIM key pw' })).toHaveCount(0);
  await expect(page.getByRole('article', { name: 'DKIM' }).getByText('No key yet.')).toBeVisible();

  // A verification token, published and removed.
  const token = 'google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ';
  await page.getByRole('button', { name: 'Add a verification token…' }).click();
  const verify = page.getByRole('form', { name: 'Add a verification token' });
  await verify.getByLabel('Token').fill(token);
  await verify.getByRole('button', { name: 'Publish token' }).click();
  const tokens = page.getByRole('list', { name: 'Verification tokens' });
  await expect(tokens.getByText(token)).toBeVisible();
  await tokens.getByRole('button', { name: `Remove token ${token}…` }).click();
  await tokens.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('list', { name: 'Verification tokens' })).toHaveCount(0);
  await noSidewaysScroll(page);

  // A mailbox: added (a quota that is not a number is answered by its
  // field), its quota changed, its password set; then an alias to it.
  await page.getByRole('button', { name: 'Add a mailbox…' }).click();
  const addMailbox = page.getByRole('form', { name: 'Add a mailbox' });
  await addMailbox.getByLabel('Address').fill('alice');
  await addMailbox.getByLabel('Password').fill('a long enough passphrase');
  await addMailbox.getByLabel('Quota (MiB)').fill('lots');
  await addMailbox.getByRole('button', { name: 'Add mailbox' }).click();
  await expect(page.locator('#mb-quota-error')).not.toBeEmpty();
  await addMailbox.getByLabel('Quota (MiB)').fill('100');
  await addMailbox.getByRole('button', { name: 'Add mailbox' }).click();
  const mailbox = page.getByRole('listitem', { name: `Mailbox alice@${domain}` });
  await expect(mailbox).toContainText('Quota 100 MiB');
  await mailbox.getByRole('button', { name: 'Edit…' }).click();
  const edit = mailbox.getByRole('form', { name: `Edit mailbox alice@${domain}` });
  await edit.getByLabel('Quota (MiB)').fill('200');
  await edit.getByRole('button', { name: 'Save mailbox' }).click();
  await expect(mailbox).toContainText('Quota 200 MiB');
  await mailbox.getByRole('button', { name: 'Edit…' }).click();
  const newPassword = mailbox.getByRole('form', { name: `New password for alice@${domain}` });
  await newPassword.getByLabel('New password').fill('another long passphrase');
  await newPassword.getByRole('button', { name: 'Set password' }).click();
  await expect(mailbox.getByText('Password changed.')).toBeVisible();
  await page.getByRole('button', { name: 'Add an alias…' }).click();
  const alias = page.getByRole('form', { name: 'Add an alias' });
  await alias.getByLabel('Alias').fill('postmaster');
  await alias.getByLabel('Delivers to').fill(`alice@${domain}`);
  await alias.getByRole('button', { name: 'Add alias' }).click();
  await expect(page.getByRole('list', { name: 'Aliases' })).toContainText(`→ alice@${domain}`);
  await noSidewaysScroll(page);
});

test('mail: the Postfix and Dovecot configuration is made on the mail page, for every domain at once', async ({
  page,
}) => {
  await page.goto('/mail');
  await hydrated(page);
  const form = page.getByRole('form', { name: 'Mail server configuration' });
  await expect(form.getByLabel('Database', { exact: true })).toHaveValue('sqlite');
  // A relative path is refused next to its field; nothing is made.
  await form.getByLabel(/Mail database file/).fill('mail.db');
  await form.getByRole('button', { name: 'Make configuration files' }).click();
  await expect(page.locator('#cfg-sqlite-error')).toContainText('absolute path');
  await expect(page.getByRole('list', { name: 'Configuration files' })).toHaveCount(0);
  await form.getByLabel(/Mail database file/).fill('/var/lib/stackyard/mail.db');
  await form.getByRole('button', { name: 'Make configuration files' }).click();
  await expect(page.locator('#cfg-sqlite-error')).toBeEmpty();
  const files = page.getByRole('list', { name: 'Configuration files' });
  await expect(files.getByRole('link', { name: 'Download main.cf.snippet' })).toBeVisible();
  await expect(files.getByRole('link', { name: 'Download dovecot-sql.conf.ext' })).toBeVisible();
  await expect(files).toContainText('/var/lib/stackyard/mail.db');
  await noSidewaysScroll(page);
});
