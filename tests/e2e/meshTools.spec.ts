/**
 * The relay's MCP tools reach the browser over the mesh (issue 15: "offered like a model"): a
 * relay started with `--mcp` (the suite's own MCP server, tests/fixtures/mcpServer.ts) keeps a
 * workspace; its model advert says it shares tools, and the page lists and calls them over
 * `/outpost/tools/1.0.0`. The page's HTTP route to the relay's `/api/tools` is cut, so only the
 * mesh can bring them: the model is made to call `fx.echo`, the user approves, and the tool's
 * answer comes back from the relay.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { expect, expectPageErrors, test, watchContext } from './suite';
import { llamaGgufPath } from '../fixtures/gguf';
import { createWorkspace, keepOnRelay, openApp } from './helpers';
import { startRelayProcess, type RelayProcess } from './relays';
import { answers, loadTinyModel } from './models';
import { revealInvisible } from '../../src/lib/markdown/invisible';

const TOOLS_MODEL = 'tiny-tools';
let relay: RelayProcess | undefined;
let context: BrowserContext | undefined;

test.afterAll(async () => {
	await context?.close().catch(() => {});
	await relay?.kill();
});

test('a relay’s MCP tool, offered on the mesh, is called from a chat once the user approves', async ({ browser }) => {
	relay = await startRelayProcess(4260, [], '127.0.0.1', { args: ['--mcp', `fx=${process.execPath} --import tsx tests/fixtures/mcpServer.ts`] });
	mkdirSync(join(relay.dataDir, 'models'), { recursive: true });
	copyFileSync(llamaGgufPath({ name: TOOLS_MODEL, contextLength: 2048 }), join(relay.dataDir, 'models', `${TOOLS_MODEL}.gguf`));
	context = await browser.newContext({ baseURL: relay.url, locale: 'en-US' });
	watchContext(context);
	const page = await context.newPage();
	// Only the mesh may bring the relay's tools: the HTTP route to them is cut.
	expectPageErrors(/Failed to load resource: net::ERR_FAILED \(http:\/\/127\.0\.0\.1:4260\/api\/tools/);
	let httpAsked = 0;
	await page.route('**/api/tools**', (route) => {
		httpAsked++;
		return route.abort();
	});
	await openApp(page);
	await createWorkspace(page, 'Tooled');
	await page.getByRole('button', { name: 'Invite' }).click();
	const invite = page.getByRole('dialog', { name: /^Invite to / });
	await keepOnRelay(invite);

	await page.getByRole('button', { name: 'New chat' }).click();
	await loadTinyModel(page, { name: TOOLS_MODEL });
	const tools = page.getByRole('combobox', { name: 'Tools' });
	const echo = tools.getByRole('option', { name: 'Use fx.echo (asks first)' });
	// The relay's advert arrives over gossip; the picker lists the tools again when focused.
	await expect(async () => {
		await tools.blur();
		await tools.focus();
		await expect(echo).toHaveCount(1, { timeout: 1000 });
	}).toPass({ timeout: 40_000 });
	await tools.selectOption({ label: 'Use fx.echo (asks first)' });

	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill('Say something back.');
	await box.press('Enter');
	const approval = page.getByRole('alertdialog', { name: 'The model wants to use fx.echo' });
	await expect(approval).toBeVisible({ timeout: 60_000 });
	await approval.getByRole('button', { name: 'Approve' }).click();

	const step = answers(page).last().getByText('Tool call: fx.echo — done', { exact: false });
	await expect(step).toBeVisible({ timeout: 60_000 });
	await step.click();
	const details = answers(page).last().locator('details').first();
	const argumentsText = (await details.locator('pre').first().textContent()) ?? '';
	const sent = (JSON.parse(argumentsText) as { text: string }).text;
	// The relay's server answered with the very text the model sent (echo).
	const result = (await details.locator('pre').nth(1).textContent()) ?? '';
	// Shown with control and bidi characters written as escapes (prettyJson.ts): the tiny model's text has some.
	expect(result.trim()).toBe(revealInvisible(sent).trim());
	await expect(answers(page).last()).toContainText('served by this browser', { timeout: 60_000 });
	expect(httpAsked).toBeGreaterThan(0); // the page did try HTTP, and got nothing there
});
