import { expect, test, type Page } from '@playwright/test';
import { hydrated, isPhone, noSidewaysScroll } from './helpers';
import { fill, objects, routes } from './routes';

// Every page of the console, as the router lists it (`stackyard routes`),
// opened cold — a typed URL in a fresh page — at this project's size, as an
// admin, an operator and a viewer: no page error, no console error, a navigation link
// that still works afterwards, nothing wider than the screen.

/** Opens `url` cold and collects what went wrong on the way. */
async function coldLoad(page: Page, url: string) {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  const response = await page.goto(url);
  await hydrated(page);
  return { problems, status: response?.status() ?? 0 };
}

/** Follows a navigation link to another area; it must change the page. */
async function navigationWorks(page: Page, from: string) {
  const target = from === '/hosts' ? { link: 'Dashboard', heading: 'Dashboard' } : { link: 'Hosts', heading: 'Hosts' };
  if (isPhone(page)) await page.getByRole('button', { name: 'Menu' }).click();
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: target.link, exact: true });
  await link.click();
  await expect(page.getByRole('heading', { level: 1, name: target.heading })).toBeVisible();
}

if (routes.length < 10) throw new Error(`stackyard routes listed only ${routes.length} pages`);

for (const role of ['admin', 'operator', 'viewer'] as const) {
  test.describe(`every page cold, as ${role}`, () => {
    test.use({ storageState: `.auth/${role}.json` });
    for (const route of routes) {
      test(`${route.path} as ${role}`, async ({ page, baseURL }, info) => {
        const admin = await page.context().browser()!.newContext({ baseURL, storageState: '.auth/admin.json' });
        const o = await objects(admin.request, baseURL!, info);
        await admin.close();
        const url = fill(route.path, o);
        const { problems, status } = await coldLoad(page, url);
        // A role refused a page gets 403 and the refusal drawn in the shell.
        const rank = { public: 0, viewer: 1, operator: 2, admin: 3 } as Record<string, number>;
        expect(rank[route.access], `${route.path} declares no access`).toBeDefined();
        const refused = rank[role] < rank[route.access];
        expect(status, url).toBe(refused ? 403 : 200);
        expect(problems.filter((p) => !(refused && p.includes('status of 403'))), url).toEqual([]);
        await noSidewaysScroll(page);
        await navigationWorks(page, url);
        expect(problems.filter((p) => !(refused && p.includes('status of 403'))), `${url}, after navigating`).toEqual([]);
      });
    }
  });
}

test("the paper's Table 2 on the demo host: bars to scale, the designer dense, the overflow red", async ({ page, baseURL }, info) => {
  const o = await objects(page.request, baseURL!, info);
  await coldLoad(page, `/layouts/${o.layout}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Paper, Table 2' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'VMs of the layout' }).locator('tbody tr')).toHaveCount(15);
  await noSidewaysScroll(page);
  // The designer: fetched when asked for.
  await page.getByRole('button', { name: 'Edit layout' }).click();
  const vms = page.getByRole('table', { name: 'Virtual machines of the layout' });
  await expect(vms.getByRole('row', { name: /^VM / })).toHaveCount(15);
  await expect(page.getByTestId('layout-verdict')).toContainText('The layout fits');

  const bar = page.getByRole('img', { name: /^Memory of demo/ });
  await expect(bar).not.toHaveClass(/over/);
  const measure = () =>
    bar.evaluate((el) => ({
      inner: (el as HTMLElement).clientWidth,
      total: Number(el.getAttribute('data-total')),
      segs: [...el.querySelectorAll<HTMLElement>('.seg')].map((s) => ({
        cls: s.className,
        mib: Number(s.dataset.mib),
        width: s.getBoundingClientRect().width,
      })),
    }));
  const fits = await measure();
  expect(fits.total).toBe(32768);
  for (const s of fits.segs) {
    expect(Math.abs(s.width - (fits.inner * s.mib) / fits.total), `${s.cls}: ${s.mib} MiB`).toBeLessThanOrEqual(2);
  }
  const planned = fits.segs.find((s) => s.cls.includes('seg-planned'))!;
  expect(planned.mib).toBeGreaterThan(10_000);
  expect(planned.width).toBeGreaterThan(fits.inner / 4);

  if (!isPhone(page)) {
    // 15 rows of a datacenter on one desk screen.
    const height = await vms.locator('tbody').evaluate((el) => el.getBoundingClientRect().height);
    console.log(`Table 2: 15 VM rows take ${height.toFixed(0)} px at 1280x800`);
    expect(height).toBeLessThanOrEqual(800);
  }
  await noSidewaysScroll(page);

  // Too much for the host (not saved): web5 put on demo by hand with more
  // memory than the host has (an auto VM that fits nowhere is left out
  // instead); the part beyond y_a is red, to scale.
  const web = vms.getByRole('row', { name: 'VM web5', exact: true });
  if (isPhone(page)) await web.getByRole('button', { name: /web5 · / }).click();
  await web.getByLabel('Host').selectOption('demo');
  await web.getByLabel('Memory (MiB)').fill('40000');
  await expect(bar).toHaveClass(/over/);
  const over = await measure();
  const red = over.segs.find((s) => s.cls.includes('seg-over'))!;
  const asked = over.segs.reduce((sum, s) => sum + s.mib, 0);
  expect(red.mib).toBeGreaterThan(0);
  expect(Math.abs(red.width - (over.inner * red.mib) / asked)).toBeLessThanOrEqual(2);
  await expect(page.getByTestId('layout-verdict')).toContainText('does not fit');
  await expect(page.locator('.bar-limit')).toBeVisible();
  await noSidewaysScroll(page);
});
