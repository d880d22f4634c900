/**
 * Accessibility: axe-core checks every screen (welcome, channel, thread, note, AI chat and each
 * dialog) on a desktop and a phone, in English and in Simplified Chinese, and fails on any
 * serious or critical violation. Also keyboard use: visible focus, Escape closes each dialog,
 * and the shortcuts for search (Ctrl+K, "/") and the next unread channel (Alt+Shift+↓).
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { en } from '../../src/lib/i18n/en';
import { zhCN } from '../../src/lib/i18n/zh-CN';
import { channelId, channelUpdate, memberDevice, plantUpdates, signedMessage } from './helpers';
import { audit } from './axe';

type Lang = 'en' | 'zh-CN';
type Key = keyof typeof en;

const catalogs: Record<Lang, Record<string, string>> = { en, 'zh-CN': zhCN };

/** A UI string in `lang`, with `{name}` placeholders filled (no plurals). */
function text(lang: Lang, key: Key, values: Record<string, string> = {}): string {
	const template = catalogs[lang][key] ?? en[key];
	return template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? `{${name}}`);
}

/** Closes the open dialog named `name` with Escape and checks it is gone. */
async function escapeFrom(page: Page, name: string | RegExp): Promise<void> {
	const dialog = page.getByRole('dialog', { name });
	await expect(dialog).toBeVisible();
	await page.keyboard.press('Escape');
	await expect(dialog).toBeHidden();
}

/** The channel navigation; on a phone it is opened first from its toggle. */
async function showNav(page: Page, lang: Lang) {
	const nav = page.getByRole('navigation', { name: text(lang, 'channel.nav') });
	if (!(await nav.isVisible())) await page.getByRole('button', { name: text(lang, 'channel.show') }).click();
	await expect(nav).toBeVisible();
	return nav;
}

/** Creates a workspace from the welcome screen; it opens on "general". */
async function createWorkspace(page: Page, lang: Lang, name: string): Promise<void> {
	await page.getByRole('button', { name: text(lang, 'workspace.new') }).first().click();
	const dialog = page.getByRole('dialog', { name: text(lang, 'workspace.new') });
	await dialog.getByRole('textbox', { name: text(lang, 'workspace.name') }).fill(name);
	await dialog.getByRole('button', { name: text(lang, 'workspace.create') }).click();
	await expect(dialog).toBeHidden();
	await expect(page.getByRole('textbox', { name: text(lang, 'message.label'), exact: true })).toBeVisible();
}

/** Posts a message in the open channel. */
async function post(page: Page, lang: Lang, words: string): Promise<void> {
	const box = page.getByRole('textbox', { name: text(lang, 'message.label'), exact: true });
	await box.fill(words);
	await box.press('Enter');
	await expect(page.getByRole('main').getByRole('article').filter({ hasText: words })).toBeVisible();
}

const screens = [
	{ device: 'desktop', use: { viewport: { width: 1280, height: 800 } } },
	{ device: 'phone', use: { viewport: { width: 390, height: 844 }, hasTouch: true } }
] as const;

for (const lang of ['en', 'zh-CN'] as const) {
	for (const { device, use } of screens) {
		test.describe(`${device}, ${lang}`, () => {
			test.use({ ...use, locale: lang });
			// Each test runs axe several times over a whole page: seconds each on a busy machine.
			test.describe.configure({ timeout: 180_000 });

			test('welcome, New workspace and Join', async ({ page }) => {
				await page.goto('/');
				await expect(page.getByRole('heading', { name: text(lang, 'workspace.welcomeTitle') })).toBeVisible();
				await audit(page, 'welcome');
				await page.getByRole('button', { name: text(lang, 'workspace.new') }).first().click();
				await expect(page.getByRole('dialog', { name: text(lang, 'workspace.new') })).toBeVisible();
				await audit(page, 'new workspace');
				await escapeFrom(page, text(lang, 'workspace.new'));
				await page.getByRole('button', { name: text(lang, 'join.open') }).first().click();
				await expect(page.getByRole('dialog', { name: text(lang, 'join.title') })).toBeVisible();
				await audit(page, 'join');
				await escapeFrom(page, text(lang, 'join.title'));
			});

			test('channel, thread, and the workspace’s dialogs', async ({ page }) => {
				await page.goto('/');
				await createWorkspace(page, lang, 'Harbour');
				await post(page, lang, 'tide at six');
				await post(page, lang, 'who has the spare radio?');
				await audit(page, 'channel');

				const parent = page.getByRole('main').getByRole('article').filter({ hasText: 'who has the spare radio?' });
				// On a touch screen a tap shows a message's tools (there is no hover).
				if (device === 'phone') await parent.click();
				else await parent.hover();
				await parent.getByRole('button', { name: text(lang, 'message.reply') }).click();
				const thread = page.getByRole('complementary', { name: text(lang, 'thread.title') });
				await thread.getByRole('textbox', { name: text(lang, 'thread.replyLabel') }).fill('in the galley');
				await thread.getByRole('textbox', { name: text(lang, 'thread.replyLabel') }).press('Enter');
				await expect(thread.getByRole('article')).toHaveCount(2);
				await audit(page, 'thread');
				// On a phone the thread is a full-screen view closed with Back.
				await thread.getByRole('button', { name: text(lang, device === 'phone' ? 'common.back' : 'thread.close') }).click();

				await (await showNav(page, lang)).getByRole('button', { name: text(lang, 'channel.new') }).click();
				await audit(page, 'new channel');
				await escapeFrom(page, text(lang, 'channel.new'));

				await (await showNav(page, lang)).getByRole('button', { name: text(lang, 'invite.open'), exact: true }).click();
				await audit(page, 'invite');
				await escapeFrom(page, text(lang, 'invite.title', { name: 'Harbour' }));

				await (await showNav(page, lang)).getByRole('button', { name: text(lang, 'team.members.open'), exact: true }).click();
				await audit(page, 'members');
				await escapeFrom(page, text(lang, 'team.members.title', { name: 'Harbour' }));

				await page.getByRole('button', { name: text(lang, 'settings.open'), exact: true }).click();
				const settings = page.getByRole('dialog', { name: text(lang, 'settings.title') });
				await expect(settings.getByRole('heading', { name: text(lang, 'exchange.title') })).toBeVisible();
				await audit(page, 'settings with export and import');
				await escapeFrom(page, text(lang, 'settings.title'));
			});

			test('note, AI chat, Models and API keys', async ({ page }) => {
				await page.goto('/');
				await createWorkspace(page, lang, 'Lab');
				await (await showNav(page, lang)).getByRole('button', { name: text(lang, 'notes.new') }).click();
				await page.getByRole('textbox', { name: text(lang, 'notes.title') }).fill('Field guide');
				await page.getByRole('textbox', { name: text(lang, 'notes.body') }).fill('Knots and lines.');
				await audit(page, 'note');

				await (await showNav(page, lang)).getByRole('button', { name: text(lang, 'ai.new') }).click();
				await expect(page.getByText(text(lang, 'ai.noModels'))).toBeVisible();
				await audit(page, 'AI chat');
				await page.getByRole('main').getByRole('button', { name: text(lang, 'models.open'), exact: true }).click();
				const models = page.getByRole('dialog', { name: text(lang, 'models.title') });
				// Audited once the relay's model list is in: empty, or the files an earlier spec left in the relay's folder.
				await expect(models.getByText(text(lang, 'models.none')).or(models.getByRole('button', { name: /\.gguf|GGUF/ })).first()).toBeVisible();
				await audit(page, 'models');
				await escapeFrom(page, text(lang, 'models.title'));

				await page.getByRole('main').getByRole('button', { name: text(lang, 'models.open'), exact: true }).click();
				await models.getByRole('button', { name: text(lang, 'apiKeys.open') }).click();
				const keys = page.getByRole('dialog', { name: text(lang, 'apiKeys.title') });
				await expect(keys.getByRole('alert')).toBeVisible();
				await audit(page, 'API keys');
				await escapeFrom(page, text(lang, 'apiKeys.title'));
			});
		});
	}
}

test.describe('keyboard', () => {
	test.use({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });

	test('focus is visible, Ctrl+K and "/" focus search, Alt+Shift+↓ opens the next unread channel', async ({ page }) => {
		test.slow();
		await page.goto('/');
		await createWorkspace(page, 'en', 'Keys');
		for (const name of ['ops', 'deck']) {
			await page.getByRole('button', { name: 'New channel' }).click();
			const dialog = page.getByRole('dialog', { name: 'New channel' });
			await dialog.getByRole('textbox', { name: 'Channel name' }).fill(name);
			await dialog.getByRole('button', { name: 'Create channel' }).click();
			await expect(dialog).toBeHidden();
		}
		const nav = page.getByRole('navigation', { name: 'Channels' });
		const link = (name: string) => nav.getByRole('link', { name: new RegExp(`^# ${name}\\b`) });
		await link('general').click();

		// Before the first workspace button comes the skip link, shown while focused; both are drawn with a focus outline.
		const outline = (el: Element) => getComputedStyle(el).outlineStyle;
		const first = page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button').first();
		await first.focus();
		await page.keyboard.press('Shift+Tab');
		const skip = page.getByRole('link', { name: 'Skip to messages' });
		await expect(skip).toBeFocused();
		await expect(skip).toBeInViewport();
		expect(await skip.evaluate(outline)).not.toBe('none');
		await page.keyboard.press('Tab');
		await expect(first).toBeFocused();
		expect(await first.evaluate(outline)).not.toBe('none');

		// Search: Ctrl+K from the composer, "/" from anywhere but a text box.
		const search = page.getByRole('searchbox', { name: 'Search' });
		await page.getByRole('textbox', { name: 'Message', exact: true }).focus();
		await page.keyboard.press('Control+k');
		await expect(search).toBeFocused();
		await page.getByRole('textbox', { name: 'Message', exact: true }).focus();
		await page.keyboard.press('/');
		await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toHaveValue('/');
		await expect(search).not.toBeFocused();
		await page.getByRole('textbox', { name: 'Message', exact: true }).fill('');
		await link('general').focus();
		await page.keyboard.press('/');
		await expect(search).toBeFocused();
		await expect(search).toHaveValue('');
		await expect(search).toHaveAttribute('aria-keyshortcuts', /Control\+K/);

		// Next unread: messages by another device land in "deck" and "ops".
		const peer = await memberDevice(page);
		for (const [name, count] of [['deck', 2], ['ops', 3]] as const) {
			const id = await channelId(page, name);
			const news = [];
			for (let i = 1; i <= count; i++) news.push(await signedMessage(peer, `${name} news ${i}`, Date.now() + i));
			await plantUpdates(page, id, [Array.from(channelUpdate(news))]);
		}
		await page.reload();
		await expect(link('deck').getByLabel('2 unread messages')).toBeVisible();
		await expect(link('ops').getByLabel('3 unread messages')).toBeVisible();
		await audit(page, 'channel list with unread counts');
		const above = (await link('deck').boundingBox())!.y < (await link('ops').boundingBox())!.y ? 'deck' : 'ops';
		const below = above === 'deck' ? 'ops' : 'deck';
		await page.keyboard.press('Alt+Shift+ArrowDown');
		await expect(link(above)).toHaveAttribute('aria-current', 'page');
		await page.keyboard.press('Alt+Shift+ArrowDown');
		await expect(link(below)).toHaveAttribute('aria-current', 'page');
		await expect(link(above).getByLabel(/unread/)).toHaveCount(0);

		// Escape closes a dialog opened from the keyboard, and focus returns to its button.
		const settings = page.getByRole('button', { name: 'Settings', exact: true });
		await settings.focus();
		await page.keyboard.press('Enter');
		await escapeFrom(page, 'Settings');
		await expect(settings).toBeFocused();
	});
});
