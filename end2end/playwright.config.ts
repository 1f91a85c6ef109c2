import { defineConfig } from '@playwright/test';

// The release server on its own port and data directory, so a `make run`
// instance on :3000 is never mistaken for the one under test.
const port = process.env.STACKYARD_E2E_PORT ?? '3100';
const baseURL = `http://127.0.0.1:${port}`;

// Debian's Chromium, never a downloaded browser; flags keep it off the
// network this machine does not have.
const chromium = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    headless: true,
    launchOptions: chromium,
    trace: 'retain-on-failure',
  },
  projects: [
    // First run: the one-time setup link, then an account per role.
    {
      name: 'setup',
      testMatch: /.*\.setup\.ts/,
      use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    },
    // DNS server entries are global (every new zone gets their NS records):
    // edited once, at phone size, and removed before the parallel projects run.
    {
      name: 'servers',
      dependencies: ['setup'],
      testMatch: /.*\.before\.ts/,
      use: {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        storageState: '.auth/admin.json',
      },
    },
    {
      name: 'desktop',
      dependencies: ['servers'],
      testIgnore: /.*\.after\.ts/,
      use: { viewport: { width: 1280, height: 800 }, storageState: '.auth/admin.json' },
    },
    {
      name: 'phone',
      dependencies: ['servers'],
      testIgnore: /.*\.after\.ts/,
      use: {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 3,
        storageState: '.auth/admin.json',
      },
    },
    // Last and alone: the consoles add the local libvirtd as a host, which
    // the other projects' layouts must not see. Each test sets its size.
    {
      name: 'consoles',
      dependencies: ['desktop', 'phone'],
      testMatch: /.*\.after\.ts/,
    },
  ],
  webServer: {
    // A fresh data directory every run: the first-run setup is part of the tests.
    command: `rm -rf end2end/.data end2end/.auth && ./target/release/stackyard serve --listen 127.0.0.1:${port} --data-dir end2end/.data --log warn --libvirt-uri-param no_tty,keyfile,no_verify`,
    cwd: '..',
    url: `${baseURL}/healthz`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
