import { expect, test, type Browser } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callServerFn, hydrated, noSidewaysScroll, PASSWORD } from './helpers';

// The image library against the local libvirtd: an upload from the
// browser streams into a pool of this test's own, with its progress and
// the SHA-256 the server computed; a wrong checksum is refused by its
// field and nothing is kept; an image is deleted after a confirmation.
// Runs after the desktop and phone projects (the local host must not be a
// placement target for their layouts).

const images = execFileSync('../scripts/guest-images.sh', { encoding: 'utf8' }).trim();
const iso = `${images}/grub-rescue.iso`;
const sha256 = createHash('sha256').update(readFileSync(iso)).digest('hex');

const virsh = (...args: string[]) =>
  execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });

const pool = `sy-e2e-img-${process.pid}`;
const poolDir = `/var/lib/libvirt/images/${pool}`;
let hostId = '';

test.describe.configure({ mode: 'default' });

test.beforeAll(async ({ browser, baseURL }) => {
  mkdirSync(poolDir, { recursive: true });
  virsh('pool-create-as', pool, 'dir', '--target', poolDir);
  const context = await browser.newContext({ storageState: '.auth/admin.json' });
  const r = await callServerFn(context.request, baseURL!, '/api/hosts/add', {
    name: 'local-images',
    uri: 'qemu:///system',
    confirm_password: PASSWORD,
  });
  expect(r.status(), await r.text()).toBe(200);
  hostId = String((await r.json()).id);
  await context.close();
});

test.afterAll(async ({ browser, baseURL }) => {
  const context = await browser.newContext({ storageState: '.auth/admin.json' });
  await callServerFn(context.request, baseURL!, '/api/hosts/remove', { id: hostId });
  await context.close();
  for (const line of virsh('vol-list', pool).split('\n').slice(2)) {
    const vol = line.trim().split(/\s+/)[0];
    if (vol) virsh('vol-delete', '--pool', pool, vol);
  }
  virsh('pool-destroy', pool);
  rmSync(poolDir, { recursive: true, force: true });
});

async function phonePage(browser: Browser) {
  const context = await browser.newContext({
    storageState: '.auth/admin.json',
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 3,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

test('upload an installer ISO at phone size: progress to 100 %, its SHA-256, then refusals and delete', async ({ browser }) => {
  test.setTimeout(90_000);
  const { page, errors } = await phonePage(browser);
  // Cold, as a typed URL.
  await page.goto(`/hosts/${hostId}/images`);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Images of local-images' })).toBeVisible();
  await expect(page.getByText('No images yet.')).toBeVisible();

  await page.getByLabel('File', { exact: true }).setInputFiles(iso);
  // The name comes from the file's; the kind from its extension.
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('grub-rescue');
  await expect(page.getByLabel('Kind')).toHaveValue('installer');
  await page.getByLabel('Storage pool').selectOption(pool);
  await page.getByLabel('SHA-256 (optional)').fill(sha256);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const bar = page.getByRole('progressbar', { name: 'Upload progress' });
  await expect(bar).toHaveAttribute('value', '100');
  await expect(page.getByText(/^100 % · /)).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Uploaded grub-rescue');
  await expect(page.locator('code.sha256')).toHaveText(sha256);
  const row = page.getByRole('row', { name: /grub-rescue/ });
  await expect(row).toContainText('Installer ISO');
  await expect(row).toContainText('ready');
  await noSidewaysScroll(page);
  await page.screenshot({ path: 'test-results/images-phone-uploaded.png', fullPage: true });

  // The same file with another checksum: refused under its field, nothing kept.
  // (The library is read again after an upload, and its form starts afresh:
  // the file is chosen again, as a person would.)
  await page.getByLabel('File', { exact: true }).setInputFiles(iso);
  await page.getByLabel('Name', { exact: true }).fill('second copy');
  await page.getByLabel('SHA-256 (optional)').fill('0'.repeat(64));
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.locator('#image-sha-error')).toContainText(`The file's SHA-256 is ${sha256}`);
  await expect(page.getByRole('row', { name: /second copy/ })).toHaveCount(0);
  expect(virsh('vol-list', pool).split('\n').filter((l) => l.includes('stackyard-')).length).toBe(1);
  await page.screenshot({ path: 'test-results/images-phone-refused.png', fullPage: true });

  // Delete, after the confirmation.
  await page.getByRole('button', { name: 'Delete grub-rescue…' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByText('No images yet.')).toBeVisible();
  expect(virsh('vol-list', pool).split('\n').filter((l) => l.includes('stackyard-')).length).toBe(0);
  expect(errors).toEqual([]);
});

test('upload the Debian cloud image at phone size: progress to 100 %, its SHA-256, a cloud image ready', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  // Built once from Debian's packages by the script (cached outside the repository).
  const image = execFileSync('../scripts/cloud-image.sh', { encoding: 'utf8', maxBuffer: 1 << 20 })
    .trim()
    .split('\n')
    .pop()!;
  const digest = createHash('sha256').update(readFileSync(image)).digest('hex');
  const { page, errors } = await phonePage(browser);
  await page.goto(`/hosts/${hostId}/images`);
  await hydrated(page);
  await page.getByLabel('File', { exact: true }).setInputFiles(image);
  await expect(page.getByLabel('Kind')).toHaveValue('cloud');
  await page.getByLabel('Name', { exact: true }).fill('debian-12');
  await page.getByLabel('Storage pool').selectOption(pool);
  await page.getByLabel('SHA-256 (optional)').fill(digest);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const bar = page.getByRole('progressbar', { name: 'Upload progress' });
  await expect(bar).toHaveAttribute('value', '100', { timeout: 120_000 });
  await expect(page.getByRole('status')).toContainText('Uploaded debian-12', { timeout: 60_000 });
  await expect(page.locator('code.sha256')).toHaveText(digest);
  const row = page.getByRole('row', { name: /debian-12/ });
  await expect(row).toContainText('Cloud image');
  await expect(row).toContainText('ready');
  await noSidewaysScroll(page);
  await page.screenshot({ path: 'test-results/images-phone-cloud.png', fullPage: true });
  await page.getByRole('button', { name: 'Delete debian-12…' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('row', { name: /debian-12/ })).toHaveCount(0);
  expect(errors).toEqual([]);
});

// A file server of the test's own on loopback: the ISO, 64 KiB every
// 20 ms (the bar has time to be seen moving); anything else is a 404.
async function slowFileServer(file: Buffer): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/grub-rescue.iso') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.length });
    let at = 0;
    const next = () => {
      if (at >= file.length) {
        res.end();
        return;
      }
      res.write(file.subarray(at, at + 65536));
      at += 65536;
      setTimeout(next, 20);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('fetch an installer ISO from an address at phone size: its progress to 100 %, its SHA-256; a 404 refused by the field', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const { server, base } = await slowFileServer(readFileSync(iso));
  const { page, errors } = await phonePage(browser);
  await page.goto(`/hosts/${hostId}/images`);
  await hydrated(page);
  await page.getByLabel('From').selectOption('url');
  await expect(page.getByLabel('File', { exact: true })).toHaveCount(0);
  const address = page.getByLabel('Address');

  // A wrong address: refused under its field, nothing made.
  await address.fill(`${base}/missing.iso`);
  await page.getByLabel('Name', { exact: true }).fill('missing');
  await page.getByLabel('Storage pool').selectOption(pool);
  await page.getByRole('button', { name: 'Fetch', exact: true }).click();
  await expect(page.locator('#image-url-error')).toContainText('answered 404 Not Found');
  await expect(page.getByRole('row', { name: /missing/ })).toHaveCount(0);

  // The right one: the name and kind come from the address.
  await page.getByLabel('Name', { exact: true }).fill('');
  await address.fill(`${base}/grub-rescue.iso`);
  await address.blur();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('grub-rescue');
  await expect(page.getByLabel('Kind')).toHaveValue('installer');
  await page.getByLabel('SHA-256 (optional)').fill(sha256);
  await page.getByRole('button', { name: 'Fetch', exact: true }).click();
  const bar = page.getByRole('progressbar', { name: 'Fetch progress' });
  await expect(bar).toBeVisible();
  // Seen part-way, then whole.
  await expect
    .poll(async () => Number(await bar.getAttribute('value')), { timeout: 30_000 })
    .toBeGreaterThan(0);
  await page.screenshot({ path: 'test-results/images-phone-fetching.png', fullPage: true });
  await expect(bar).toHaveAttribute('value', '100', { timeout: 60_000 });
  await expect(page.getByRole('status')).toContainText('Fetched grub-rescue');
  await expect(page.locator('code.sha256')).toHaveText(sha256);
  const row = page.getByRole('row', { name: /grub-rescue/ });
  await expect(row).toContainText('ready');
  await expect(row).toContainText('from 127.0.0.1');
  await noSidewaysScroll(page);
  await page.screenshot({ path: 'test-results/images-phone-fetched.png', fullPage: true });
  expect(virsh('vol-list', pool).split('\n').filter((l) => l.includes('stackyard-')).length).toBe(1);

  await page.getByRole('button', { name: 'Delete grub-rescue…' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('row', { name: /grub-rescue/ })).toHaveCount(0);
  server.close();
  expect(errors).toEqual([]);
});

/** Resolves once VM `vm`'s guest has not read from drive `target` for 1.5 s. */
async function discIdle(vm: string, target: string) {
  const read = () => /rd_bytes\s+(\d+)/.exec(virsh('domblkstat', vm, target))?.[1] ?? '';
  let [last, still] = [read(), 0];
  for (let i = 0; still < 3; i++) {
    expect(i, `${vm} kept reading ${target}`).toBeLessThan(240);
    await new Promise((r) => setTimeout(r, 500));
    const now = read();
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

test("a VM's CD drive: a drive added with an ISO while shut off, ejected while it runs (phone, then desktop)", async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(90_000);
  const { page, errors } = await phonePage(browser);
  const r = await page.request.post(
    `/images/upload?host=${hostId}&pool=${pool}&name=grub-media&kind=installer`,
    { data: readFileSync(iso), headers: { 'Content-Type': 'application/octet-stream', Origin: baseURL! } },
  );
  expect(r.status(), await r.text()).toBe(201);
  const imageId = String((await r.json()).id);
  const vm = `sy-e2e-media-${process.pid}`;
  const file = `/tmp/${vm}.xml`;
  writeFileSync(
    file,
    `<domain type='qemu'><name>${vm}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
     <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os><devices></devices></domain>`,
  );
  virsh('define', file);
  rmSync(file);
  try {
    await page.goto(`/hosts/${hostId}/vms/${vm}`);
    await hydrated(page);
    const panel = page.locator('.media-panel');
    await expect(panel.getByRole('heading', { name: 'CD/DVD' })).toBeVisible();
    await expect(panel.getByText('No CD drive.')).toBeVisible();
    await panel.getByLabel('ISO for a new drive').selectOption({ label: 'grub-media' });
    await panel.getByRole('button', { name: 'Add a CD drive with it' }).click();
    await expect(panel.locator('.media-drive')).toContainText('hdc · grub-media');
    expect(virsh('domblklist', vm)).toContain(`stackyard-grub-media-${imageId}.iso`);
    await noSidewaysScroll(page);
    await page.screenshot({ path: 'test-results/media-phone-added.png', fullPage: true });

    virsh('start', vm);
    // Booting from the disc, the guest keeps closing the tray: the change
    // waits for it, so the test waits until it no longer reads.
    await discIdle(vm, 'hdc');
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('vm-state')).toHaveText('running');
    await expect(panel.getByRole('button', { name: 'Add a CD drive with it' })).toHaveCount(0);
    await panel.getByRole('button', { name: 'Eject hdc' }).click();
    await expect(panel.locator('.media-drive')).toContainText('hdc · empty');
    expect(virsh('domblklist', vm)).not.toContain('grub-media');
    await page.screenshot({ path: 'test-results/media-phone-ejected.png', fullPage: true });
    // And in again, while it runs.
    await panel.getByLabel('ISO for hdc').selectOption({ label: 'grub-media' });
    await panel.getByRole('button', { name: 'Insert' }).click();
    await expect(panel.locator('.media-drive')).toContainText('hdc · grub-media');
    expect(errors).toEqual([]);

    const desk = await browser.newContext({ storageState: '.auth/admin.json', viewport: { width: 1280, height: 800 } });
    const deskPage = await desk.newPage();
    const deskErrors: string[] = [];
    deskPage.on('pageerror', (e) => deskErrors.push(e.message));
    await deskPage.goto(`/hosts/${hostId}/vms/${vm}`);
    await hydrated(deskPage);
    await expect(deskPage.locator('.media-drive')).toContainText('hdc · grub-media');
    await deskPage.screenshot({ path: 'test-results/media-desktop.png', fullPage: true });
    expect(deskErrors).toEqual([]);
    await desk.close();
  } finally {
    for (const step of ['destroy', 'undefine']) {
      try {
        virsh(step, vm);
      } catch {
        // Already off, or gone.
      }
    }
    await callServerFn(page.request, baseURL!, '/api/images/delete', { host_id: hostId, id: imageId });
  }
});

test('the library at desktop size, cold', async ({ browser }) => {
  const context = await browser.newContext({ storageState: '.auth/admin.json', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/hosts/${hostId}`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Image library' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Images of local-images' })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeVisible();
  await page.screenshot({ path: 'test-results/images-desktop.png', fullPage: true });
  expect(errors).toEqual([]);
});
