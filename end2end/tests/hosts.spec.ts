import { expect, test } from '@playwright/test';
import { callServerFn, hydrated, isPhone, noSidewaysScroll, PASSWORD } from './helpers';

test('hosts: start and force off a VM on the demo host; changes made elsewhere arrive live', async ({ page, baseURL }) => {
  // The desktop and phone runs share the demo host: each drives its own VM.
  const vm = isPhone(page) ? 'mail' : 'web';
  await page.goto('/hosts');
  await hydrated(page);
  const card = page.getByRole('listitem', { name: 'Host demo' });
  await expect(card).toContainText('demo: libvirt test driver, nothing real runs');
  await expect(card.getByText('Reachable')).toBeVisible();
  await noSidewaysScroll(page);
  const hostId = (await card.getByRole('link', { name: 'demo' }).getAttribute('href'))!.split('/').pop()!;

  // A refused edit keeps its form and what was typed, even while changes
  // made elsewhere arrive; the list catches up once the form closes.
  await card.getByRole('button', { name: 'Edit…' }).click();
  const edit = page.getByRole('form', { name: 'Edit host demo' });
  const typed = `demo-${vm}`;
  await edit.getByLabel('Name').fill(typed);
  // The test driver reads any file: only the demo host may use it.
  await edit.getByLabel('libvirt URI').fill('test:///nonexistent/stackyard-e2e.xml');
  await edit.getByLabel('Your password, to confirm').fill(PASSWORD);
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit.locator('#edit-uri-' + hostId + '-error')).toContainText('demo host only');
  await page.evaluate(
    () =>
      new Promise<void>((opened) => {
        const source = new EventSource('/events/hosts');
        (window as unknown as { nextChange: Promise<void> }).nextChange = new Promise<void>((changed) =>
          source.addEventListener('host', () => {
            source.close();
            changed();
          }),
        );
        source.addEventListener('open', () => opened());
      }),
  );
  let r = await callServerFn(page.request, baseURL!, '/api/hosts/vm_action', { host: hostId, vm, action: 'autostart_on' });
  expect(r.status(), await r.text()).toBe(200);
  await page.evaluate(() => (window as unknown as { nextChange: Promise<void> }).nextChange);
  await expect(edit.getByLabel('Name')).toHaveValue(typed);
  await expect(edit.locator('#edit-uri-' + hostId + '-error')).toContainText('demo host only');
  const caughtUp = page.waitForResponse((res) => res.url().endsWith('/api/hosts/list'));
  await card.getByRole('button', { name: 'Edit…' }).click();
  await caughtUp;
  await expect(edit).toHaveCount(0);
  await expect(card.getByRole('link', { name: 'demo' })).toBeVisible();
  r = await callServerFn(page.request, baseURL!, '/api/hosts/vm_action', { host: hostId, vm, action: 'autostart_off' });
  expect(r.status(), await r.text()).toBe(200);

  await card.getByRole('link', { name: 'demo' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'demo' })).toBeVisible();
  await hydrated(page);
  // The host's memory bar names its numbers (32 GiB, the paper's server).
  await expect(page.getByRole('img', { name: /^Memory of demo: .* MiB free of 32768 MiB/ })).toBeVisible();
  await expect(page.getByText(/E5620/)).toBeVisible();

  const row = page.getByRole('listitem', { name: `VM ${vm}` });
  const state = row.getByTestId('vm-state');
  const forceOff = async () => {
    await row.getByRole('button', { name: 'Force off' }).click();
    // Destructive: asked first.
    await row.getByRole('button', { name: 'Confirm force off' }).click();
    await expect(state).toHaveText('shut off');
  };
  const start = async () => {
    await row.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(state).toHaveText('running');
  };
  if ((await state.textContent()) === 'running') {
    await forceOff();
    await start();
  } else {
    await start();
    await forceOff();
  }
  await noSidewaysScroll(page);

  // Behind the page's back: a script changes the VM; the open page follows
  // without a reload (the marker would be gone after one).
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const steps: [string, string][] =
    (await state.textContent()) === 'running'
      ? [['pause', 'paused'], ['resume', 'running']]
      : [['start', 'running'], ['pause', 'paused']];
  for (const [action, expected] of steps) {
    r = await callServerFn(page.request, baseURL!, '/api/hosts/vm_action', { host: hostId, vm, action });
    expect(r.status(), await r.text()).toBe(200);
    await expect(state).toHaveText(expected);
  }
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);

  // A question being asked survives changes arriving meanwhile (the VM
  // is running or paused here: both offer Force off).
  await row.getByRole('button', { name: 'Force off' }).click();
  const autostart = row.locator('dt:text-is("Autostart") + dd');
  r = await callServerFn(page.request, baseURL!, '/api/hosts/vm_action', { host: hostId, vm, action: 'autostart_on' });
  expect(r.status(), await r.text()).toBe(200);
  await expect(autostart).toHaveText('on');
  await expect(row.getByRole('button', { name: 'Confirm force off' })).toBeVisible();
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.getByRole('button', { name: 'Force off' })).toBeVisible();
  r = await callServerFn(page.request, baseURL!, '/api/hosts/vm_action', { host: hostId, vm, action: 'autostart_off' });
  expect(r.status(), await r.text()).toBe(200);
  await expect(autostart).toHaveText('off');
});
