import { expect, type APIRequestContext, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { callServerFn } from './helpers';

// Every page of the console, as the router lists it (`stackyard routes`),
// and the objects their parameters are filled in with.
export type Route = { path: string; access: string };
export const routes: Route[] = JSON.parse(execFileSync('../target/release/stackyard', ['routes']).toString());

/** The objects the routes' parameters are filled in with, made for this run. */
export type Objects = { host: number; layout: number; zone: number; domain: string };

async function post(request: APIRequestContext, baseURL: string, path: string, form: Record<string, string> = {}) {
  const r = await callServerFn(request, baseURL, path, form);
  expect(r.status(), `${path}: ${await r.text()}`).toBe(200);
  return r.json();
}

export async function objects(request: APIRequestContext, baseURL: string, info: TestInfo): Promise<Objects> {
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
export function fill(path: string, o: Objects): string {
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

