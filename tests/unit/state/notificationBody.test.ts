/** A notification's body: the author and the text in the chosen language's template; files alone say so. */
import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { _, setLanguage, setupI18n } from '../../../src/lib/i18n/index.js';
import { notificationBody } from '../../../src/lib/state/notify/WorkspaceNotifier.svelte.js';

const file = { blob: 'a'.repeat(64), size: 3, mime: 'text/plain', name: 'a.txt' };

describe('notificationBody', () => {
	it('names the author and the text, or the files sent without text', async () => {
		setupI18n('en');
		await setLanguage('en');
		const t = get(_);
		expect(notificationBody('Ada', { text: 'hey  @Bea,\nthe pump' }, t)).toBe('Ada: hey @Bea, the pump');
		expect(notificationBody('Ada', { text: ' ', files: [file] }, t)).toBe('Ada sent a file');
		expect(notificationBody('Ada', { text: '', files: [file, file] }, t)).toBe('Ada sent 2 files');
		expect(notificationBody('Ada', { text: 'see this', files: [file] }, t)).toBe('Ada: see this');
		await setLanguage('zh-CN');
		expect(notificationBody('Ada', { text: '你好' }, get(_))).toBe('Ada：你好');
		expect(notificationBody('Ada', { text: '', files: [file] }, get(_))).toBe('Ada 发送了 1 个文件');
		await setLanguage('en');
	});
});
