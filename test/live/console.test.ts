import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, startDeployment, waitFor } from '../support/harness.js';

/** Debian's chromium (.ci/run installs it); never a downloaded browser. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  // playwright adds --headless and a fresh temporary --user-data-dir itself
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that fails the test on a CSP violation or a script error. */
async function openPage(browser: Browser, url: string, problems: string[], viewport = { width: 1100, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(url);
  return page;
}

test('console in a headless browser: create, watch live from a second page, edit, search highlights, history, narrow screen', { timeout: 180_000 }, async (t) => {
  const { url } = await startDeployment(t);
  const browser = await launch();
  t.after(() => browser.close());
  const problems: string[] = [];

  // page 1 creates an application and a chat, by the labels of its forms
  const one = await openPage(browser, `${url}/console`, problems);
  await one.getByLabel('New application name').fill('Console test');
  await one.getByRole('button', { name: 'Create', exact: true }).click();
  await one.locator('#app-info').waitFor({ state: 'visible' });
  const token = (await one.locator('#app-token-view').textContent())!;
  assert.match(token, /^[A-Za-z0-9_-]{16,}$/);
  await one.getByLabel('New chat name (optional)').fill('support');
  await one.getByRole('button', { name: 'Create chat' }).click();
  await one.locator('#live-state', { hasText: 'connected' }).waitFor();

  // page 2, on a narrow screen, opens the same chat by its link and listens
  const two = await openPage(browser, `${url}/console/#app=${token}&chat=1`, problems, { width: 360, height: 740 });
  await two.locator('#live-state', { hasText: 'connected' }).waitFor();

  // sent from page 1 with the keyboard (Enter), it appears on page 2 live
  await one.getByLabel('Message', { exact: true }).fill('hello from page one');
  await one.getByLabel('Message', { exact: true }).press('Enter');
  await two.locator('#messages li', { hasText: 'hello from page one' }).waitFor({ timeout: 15_000 });
  await one.getByLabel('Message', { exact: true }).fill('a needle in the haystack');
  await one.getByRole('button', { name: 'Send' }).click();
  await two.locator('#m2', { hasText: 'a needle in the haystack' }).waitFor({ timeout: 15_000 });

  // an edit on page 1 reaches page 2
  await one.getByRole('button', { name: 'Edit message 1' }).click();
  await one.getByLabel('Edit message #1').fill('hello, edited');
  await one.getByLabel('Edit message #1').press('Enter');
  await two.locator('#m1', { hasText: 'hello, edited' }).waitFor({ timeout: 15_000 });

  // search on page 2: the match is highlighted (search is eventually consistent: asked again until indexed)
  await waitFor('the search match', async () => {
    await two.getByLabel('Search this chat').fill('NEEDLE');
    await two.getByRole('button', { name: 'Search', exact: true }).click();
    return (await two.locator('#matches mark').count()) > 0;
  }, 30_000, 500);
  assert.equal(await two.locator('#matches mark').first().textContent(), 'needle');
  assert.equal(await two.locator('#matches li').count(), 1);

  // history: 60 more messages through the API; a fresh page shows the latest and pages back to #1
  const path = `/applications/${token}/chats/1`;
  for (let i = 3; i <= 62; i++) assert.equal((await call(url, 'POST', `${path}/messages`, { body: `bulk ${i}` })).status, 201);
  await two.locator('#m62').waitFor({ timeout: 15_000 });
  const three = await openPage(browser, `${url}/console/#app=${token}&chat=1`, problems, { width: 360, height: 740 });
  await three.locator('#m62').waitFor();
  assert.equal(await three.locator('#m1').count(), 0, 'only the latest page at first');
  await three.getByRole('button', { name: 'Older messages' }).click();
  await three.locator('#m1', { hasText: 'hello, edited' }).waitFor();

  // a narrow screen scrolls vertically only
  const overflow = await two.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `no horizontal scrolling on a 360 px screen (${overflow} px)`);
  // every form control has a label
  const unlabelled = await two.evaluate<string[]>('[...document.querySelectorAll("input, textarea")].filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id)');
  assert.deepEqual(unlabelled, []);

  if (process.env['CONSOLE_SCREENSHOT']) {
    await one.reload();
    await one.locator('#m62').waitFor();
    await one.getByLabel('Search this chat').fill('needle');
    await one.getByRole('button', { name: 'Search', exact: true }).click();
    await one.locator('#matches mark').waitFor();
    await one.screenshot({ path: process.env['CONSOLE_SCREENSHOT'] });
  }
  assert.deepEqual(problems, [], 'no script error, no CSP violation');
});
