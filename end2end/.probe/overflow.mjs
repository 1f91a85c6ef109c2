import { chromium } from '@playwright/test';
const base = 'http://127.0.0.1:3900';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const ctx0 = await browser.newContext({ baseURL: base });
await ctx0.request.post('/api/auth/login', { form: { username: 'admin', password: 'correct horse battery staple' }, headers: { Origin: base } });
const ctx = await browser.newContext({ baseURL: base, storageState: await ctx0.storageState(), viewport: { width: 390, height: 844 } });
const page = await ctx.newPage();
for (const p of (process.env.PAGES ?? '/layouts/1').split(',')) {
  await page.goto(p); await page.waitForSelector('.app[data-hydrated="true"]');
  const out = await page.evaluate(() => {
    const res = []; for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect(); if (r.right > window.innerWidth + 0.5 && r.width > 0) res.push(`${el.tagName.toLowerCase()}.${el.className} right=${r.right.toFixed(0)} w=${r.width.toFixed(0)}`); }
    return { sw: document.documentElement.scrollWidth, res: res.slice(0, 15) };
  });
  console.log(p, out.sw, out.res.join('\n  '));
}
await browser.close();
