import { expect, test, type Browser, type Page } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callServerFn, hydrated, PASSWORD } from './helpers';

// The consoles against the local libvirtd and real QEMU guests (TCG: nested
// KVM stalls booting guests on these machines). This file runs alone, after
// the desktop and phone projects: the local host it adds would otherwise
// be a placement target for their layouts.

const images = execFileSync('../scripts/guest-images.sh', { encoding: 'utf8' }).trim();

const virsh = (...args: string[]) =>
  execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });

/** A defined (so it stays listed when it powers off) and started TCG guest, with ACPI (GRUB's
 * `halt` powers off through it); returns its name. */
function guest(name: string, os: string, devices: string) {
  const file = join(tmpdir(), `${name}.xml`);
  writeFileSync(
    file,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>
     <os><type arch='x86_64' machine='pc'>hvm</type>${os}</os>
     <features><acpi/><apic/></features>
     <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>
     <devices>${devices}</devices></domain>`,
  );
  virsh('define', file);
  unlinkSync(file);
  virsh('start', name);
  return name;
}

const grubGuest = (name: string) =>
  guest(
    name,
    "<boot dev='cdrom'/>",
    `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
       <source file='${images}/grub-rescue.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
     <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>`,
  );

const shellGuest = (name: string) =>
  guest(
    name,
    `<kernel>${images}/vmlinuz</kernel><initrd>${images}/initrd.gz</initrd>
     <cmdline>console=ttyS0 quiet panic=-1</cmdline>`,
    `<serial type='pty'><target port='0'/></serial>
     <console type='pty'><target type='serial' port='0'/></console>`,
  );

const destroy = (name: string) => {
  for (const step of ['destroy', 'undefine']) {
    try {
      virsh(step, name);
    } catch {
      // Already off (it powered off), or already gone.
    }
  }
};

// One worker, in order: the host is added once, before them all.
test.describe.configure({ mode: 'default' });

let hostId = '';
const made: string[] = [];

test.beforeAll(async ({ browser, baseURL }) => {
  const context = await browser.newContext({ storageState: '.auth/admin.json' });
  const r = await callServerFn(context.request, baseURL!, '/api/hosts/add', {
    name: 'local',
    uri: 'qemu:///system',
    confirm_password: PASSWORD,
  });
  expect(r.status(), await r.text()).toBe(200);
  hostId = String((await r.json()).id);
  await context.close();
});

test.afterAll(async ({ browser, baseURL }) => {
  made.forEach(destroy);
  const context = await browser.newContext({ storageState: '.auth/admin.json' });
  await callServerFn(context.request, baseURL!, '/api/hosts/remove', { id: hostId });
  await context.close();
});

/** A page at the given size that records policy violations and page errors. */
async function open(browser: Browser, phone: boolean) {
  const context = await browser.newContext({
    storageState: '.auth/admin.json',
    ...(phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 }
      : { viewport: { width: 1280, height: 800 } }),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { violations: string[] }).violations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, errors };
}

async function violations(page: Page) {
  return page.evaluate(() => (window as unknown as { violations: string[] }).violations);
}

/** How many of the canvas's pixels are not black: GRUB's menu is drawn. */
async function drawnPixels(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('.console-screen canvas') as HTMLCanvasElement | null;
    if (!canvas || canvas.width === 0) return 0;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 60) lit++;
    return lit;
  });
}

for (const phone of [false, true]) {
  const size = phone ? 'phone' : 'desktop';

  test(`screen console on a ${size}: GRUB is drawn, typed "halt" powers the VM off`, async ({ browser }) => {
    test.setTimeout(90_000);
    const name = grubGuest(`sy-e2e-grub-${size}-${process.pid}`);
    made.push(name);
    const { page, errors } = await open(browser, phone);
    // Cold: the page's own load, as a bookmark would open it.
    await page.goto(`/hosts/${hostId}/vms/${name}`);
    await hydrated(page);
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
    await expect(page.getByTestId('vm-state')).toHaveText('running');
    await page.getByRole('button', { name: 'Screen', exact: true }).click();
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByTestId('console-state')).toHaveText('Connected.');
    await expect.poll(() => drawnPixels(page), { timeout: 20_000 }).toBeGreaterThan(500);
    await page.screenshot({ path: `test-results/console-screen-${size}.png` });
    // GRUB's menu waits; `c` opens its command line.
    await page.waitForTimeout(1000);
    if (phone) {
      // Through the on-screen keyboard's textarea.
      await page.getByRole('button', { name: 'Keyboard' }).click();
      await expect(page.getByLabel('Keys for the console')).toBeFocused();
    } else {
      await page.locator('.console-screen canvas').click();
    }
    await page.keyboard.type('c');
    // GRUB (emulated) takes a moment to draw its command line; keys typed
    // before it reads them are lost.
    await page.waitForTimeout(2500);
    await page.keyboard.type('halt', { delay: 200 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `test-results/console-halt-${size}.png` });
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('vm-state')).toHaveText('shut off', { timeout: 20_000 });
    await expect(page.getByTestId('console-state')).toContainText('not running');
    expect(await violations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test(`serial console on a ${size}: the shell answers`, async ({ browser }) => {
    test.setTimeout(90_000);
    const name = shellGuest(`sy-e2e-shell-${size}-${process.pid}`);
    made.push(name);
    const { page, errors } = await open(browser, phone);
    await page.goto(`/hosts/${hostId}/vms/${name}`);
    await hydrated(page);
    // No screen on this VM: the serial console is the one offered.
    await expect(page.getByRole('button', { name: 'Screen', exact: true })).toHaveCount(0);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByTestId('console-state')).toHaveText('Connected.');
    const rows = page.locator('.console-screen .xterm-rows');
    await expect(rows).toContainText('stackyard test guest ready', { timeout: 30_000 });
    if (phone) {
      await page.getByRole('button', { name: 'Keyboard' }).click();
    } else {
      await page.locator('.console-screen').click();
    }
    await page.keyboard.press('Enter');
    await page.keyboard.type('echo $((6*7))');
    await page.keyboard.press('Enter');
    // One row of the terminal holds just the answer.
    await expect(rows.locator('> div', { hasText: /^\s*42\s*$/ })).toHaveCount(1);
    await page.screenshot({ path: `test-results/console-serial-${size}.png` });
    expect(await violations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });
}

/** An sshd of the test's own on a loopback port, letting root in with a key made for it. */
async function loopbackSshd(): Promise<{ uri: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-sshd-'));
  for (const key of ['host_key', 'client_key']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]);
  }
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  mkdirSync('/run/sshd', { recursive: true });
  const port: number = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
    ].join('\n') + '\n',
  );
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  await expect
    .poll(() => {
      try {
        execFileSync('ssh-keyscan', ['-p', String(port), '127.0.0.1'], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    })
    .toBe(true);
  return {
    uri: `qemu+ssh://root@127.0.0.1:${port}/system?keyfile=${join(dir, 'client_key')}&no_verify=1`,
    stop: () => sshd.kill(),
  };
}

test('screen console over qemu+ssh: the same GRUB, through ssh -W', async ({ browser, baseURL }) => {
  test.setTimeout(90_000);
  const sshd = await loopbackSshd();
  const admin = await browser.newContext({ storageState: '.auth/admin.json' });
  const added = await callServerFn(admin.request, baseURL!, '/api/hosts/add', {
    name: 'local-ssh',
    uri: sshd.uri,
    confirm_password: PASSWORD,
  });
  expect(added.status(), await added.text()).toBe(200);
  const sshHost = String((await added.json()).id);
  const name = grubGuest(`sy-e2e-grub-ssh-${process.pid}`);
  made.push(name);
  try {
    const { page, errors } = await open(browser, false);
    await page.goto(`/hosts/${sshHost}/vms/${name}`);
    await hydrated(page);
    await expect(page.getByRole('link', { name: '← local-ssh' })).toBeVisible();
    await expect(page.getByTestId('vm-state')).toHaveText('running');
    await page.getByRole('button', { name: 'Screen', exact: true }).click();
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByTestId('console-state')).toHaveText('Connected.');
    await expect.poll(() => drawnPixels(page), { timeout: 20_000 }).toBeGreaterThan(500);
    await page.screenshot({ path: 'test-results/console-screen-ssh.png' });
    await page.waitForTimeout(1000);
    await page.locator('.console-screen canvas').click();
    await page.keyboard.type('c');
    await page.waitForTimeout(2500);
    await page.keyboard.type('halt', { delay: 200 });
    await page.waitForTimeout(1000);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('vm-state')).toHaveText('shut off', { timeout: 20_000 });
    expect(await violations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  } finally {
    await callServerFn(admin.request, baseURL!, '/api/hosts/remove', { id: sshHost });
    await admin.close();
    sshd.stop();
  }
});
