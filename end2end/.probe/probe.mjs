import { chromium } from '@playwright/test';
const base = process.env.BASE ?? 'http://127.0.0.1:3900';
const shots = process.env.SHOTS ?? '/tmp/sy/shots';
const pages = (process.env.PAGES ?? '/').split(',');
const sizes = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
const ctx0 = await browser.newContext({ baseURL: base });
const r = await ctx0.request.post('/api/auth/login', { form: { username: 'admin', password: 'correct horse battery staple' }, headers: { Origin: base } });
console.log('login', r.status());
if (process.env.SEED) {
  for (const [p, f] of [['/api/dns/create_zone', { kind: 'forward', origin: 'example.test' }], ['/api/mail/add_domain', { name: 'example.test' }]]) {
    const x = await ctx0.request.post(p, { form: f, headers: { Origin: base } }); console.log(p, x.status(), (await x.text()).slice(0, 200));
  }
}
const state = await ctx0.storageState();
for (const size of sizes) {
  for (const path of pages) {
    const ctx = await browser.newContext({ baseURL: base, storageState: state, viewport: size });
    const page = await ctx.newPage();
    const errs = [];
    page.on('pageerror', e => errs.push('pageerror: ' + e.message + '\n' + (e.stack ?? '').split('\n').slice(0, 8).join('\n')));
    page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') errs.push(m.type() + ': ' + m.text().slice(0, 2000)); });
    const resp = await page.goto(path);
    let hyd = 'no';
    try { await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 8000 }); hyd = 'yes'; } catch {}
    await page.waitForTimeout(500);
    const name = `${size.width}${path.replace(/[^a-z0-9]+/gi, '_')}.png`;
    await page.screenshot({ path: `${shots}/${name}`, fullPage: !!process.env.FULL });
    console.log(`${size.width} ${path} status=${resp.status()} hydrated=${hyd} ${name}`);
    for (const e of errs) console.log('   ', e);
    await ctx.close();
  }
}
await browser.close();
