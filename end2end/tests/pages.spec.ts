import { expect, test, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { callServerFn, hydrated, isPhone, noSidewaysScroll } from './helpers';

// Every page of the console, as the router lists it (`stackyard routes`),
// opened cold — a typed URL in a fresh page — at this project's size, as an
// admin, an operator and a viewer: no page error, no console error, a navigation link
// that still works afterwards, nothing wider than the screen.
type Route = { path: string; access: string };
const routes: Route[] = JSON.parse(execFileSync('../target/release/stackyard', ['routes']).toString());

/** The objects the routes' parameters are filled in with, made for this run. */
type Objects = { host: number; layout: number; zone: number; domain: string };

async function post(request: APIRequestContext, baseURL: string, path: string, form: Record<string, string> = {}) {
  const r = await callServerFn(request, baseURL, path, form);
  expect(r.status(), `${path}: ${await r.text()}`).toBe(200);
  return r.json();
}

async function objects(request: APIRequestContext, baseURL: string, info: TestInfo): Promise<Objects> {
  const tag = info.project.name;
  const origin = `pages-${tag}.example.test`;
  const domain = `mail-${tag}.example.test`;
  const hosts: { id: number; name: string }[] = await post(request, baseURL, '/api/hosts/list');
  const layouts: { id: number; name: string }[] = await post(request, baseURL, '/api/layouts/list');
  // Tests of one project run side by side: whichever comes first creates
  // the objects, the others find them.
  await callServerFn(request, baseURL, '/api/dns/create_zone', { kind: 'forward', origin });
  await callServerFn(request, baseURL, '/api/mail/add_domain', { name: domain });
  const zones: { zone: { id: number; origin: string } }[] = await post(request, baseURL, '/api/dns/zones');
  const mail: { name: string }[] = await post(request, baseURL, '/api/mail/list');
  expect(mail.map((d) => d.name)).toContain(domain);
  return {
    host: hosts.find((h) => h.name === 'demo')!.id,
    layout: layouts.find((l) => l.name === 'Paper, Table 2')!.id,
    zone: zones.find((z) => z.zone.origin === `${origin}.`)!.zone.id,
    domain,
  };
}

/** The route's path with each parameter filled in; a new parameter fails the spec until it is given an object. */
function fill(path: string, o: Objects): string {
  // Each route's parameters, in order.
  const given: Record<string, string[]> = {
    '/hosts/{id}': [String(o.host)],
    // The demo host's ns1 (the test driver: neither screen nor serial).
    '/hosts/{id}/vms/{name}': [String(o.host), 'ns1'],
    // The demo host's library (empty: the test driver takes no uploads).
    '/hosts/{id}/images': [String(o.host)],
    '/layouts/{id}': [String(o.layout)],
    '/dns/zone/{id}': [String(o.zone)],
    '/mail/{domain}': [o.domain],
  };
  if (!path.includes('{')) return path;
  const values = given[path];
  if (values === undefined) throw new Error(`no object for the parameters of ${path}: give it one in pages.spec.ts`);
  let filled = path;
  for (const value of values) filled = filled.replace(/\{[^}]+\}/, encodeURIComponent(value));
  return filled;
}

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
