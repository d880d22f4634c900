/**
 * The relay as a model host: started with `--model` (the suite's tiny GGUF, node-llama-cpp on
 * one thread), it serves the model to members of the workspaces it archives. A browser with
 * no model of its own picks it ("the relay") and gets an answer served there; the relay's
 * OpenAI-compatible `/v1` answers with a key created on its command line; `@model` in a
 * channel gets the relay's answer as the model's message.
 */
import { execFileSync } from 'node:child_process';
import type { Browser, BrowserContext } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf';
import { channelLink, createWorkspace, keepOnRelay, openApp, post } from './helpers';
import { startRelayProcess, type RelayProcess } from './relays';
import { answers } from './models';

let relay: RelayProcess | undefined;
const contexts: BrowserContext[] = [];

test.afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => {});
	await relay?.kill();
});

async function device(browser: Browser, url: string) {
	const context = await browser.newContext({ baseURL: url, locale: 'en-US' });
	contexts.push(context);
	watchContext(context);
	const page = await context.newPage();
	await openApp(page);
	return page;
}

test('a browser chats with the model the relay hosts; /v1 answers too', async ({ browser }) => {
	relay = await startRelayProcess(4240, [], '127.0.0.1', { args: ['--model', llamaGgufPath(), '--model-threads', '1'] });
	const page = await device(browser, relay.url);
	await createWorkspace(page, 'Hosted');
	// The relay hosts its models to members of the workspaces it keeps.
	await page.getByRole('button', { name: 'Invite' }).click();
	const dialog = page.getByRole('dialog', { name: /^Invite to / });
	await keepOnRelay(dialog);

	await page.getByRole('button', { name: 'New chat' }).click();
	const picker = page.getByRole('combobox', { name: 'Model' });
	await expect(picker.getByRole('option', { name: new RegExp(`^${tinyLlama.name} — the relay \\(node-llama-cpp`) })).toHaveCount(1, {
		timeout: 30_000
	});
	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill('Hello relay');
	await box.press('Enter');
	const answer = answers(page);
	await expect(answer).toContainText(`${tinyLlama.name} · served by the relay`, { timeout: 30_000 });

	// `@model` in a channel: the relay posts the model's answer into its copy of the channel
	// (signed with its key) and it reaches the browser like any member's message.
	await channelLink(page, 'general').click();
	await post(page, `@${tinyLlama.name} Hello channel`);
	const reply = page.getByRole('main').getByRole('article', { name: tinyLlama.name });
	await expect(reply.getByRole('status')).toContainText(/\d+ tokens · [\d.]+ tokens\/s/, { timeout: 30_000 });
	await expect(reply).toContainText('asked by');
	await expect(reply).not.toContainText('Unverified');

	// The OpenAI-compatible API, with a key made on the relay's command line.
	const output = execFileSync(process.execPath, ['--import', 'tsx', 'relay/start.ts', 'api-key', 'create', '--name', 'e2e', '--data', relay.dataDir], {
		encoding: 'utf8'
	});
	const key = /sk-outpost-[A-Za-z0-9_-]+/.exec(output)?.[0];
	expect(key, output).toBeDefined();
	const ask = (stream: boolean) =>
		fetch(`${relay!.url}/v1/chat/completions`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
			body: JSON.stringify({ model: tinyLlama.name, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0, stream })
		});
	const plain = await ask(false);
	expect(plain.status).toBe(200);
	const completion = (await plain.json()) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
	expect(completion.usage.completion_tokens).toBeGreaterThan(0);
	const streamed = await (await ask(true)).text();
	expect(streamed).toContain('data: [DONE]');
	const unauthorised = await fetch(`${relay.url}/v1/models`);
	expect(unauthorised.status).toBe(401);
});
