/**
 * The Chinese dictionary is loaded on demand: English is there at once, Chinese once chosen,
 * and when languages are chosen faster than they load, the last one chosen wins.
 */
import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { _, languageReady, locale, setLanguage, setupI18n } from '../../src/lib/i18n/index.js';
import { zhCN } from '../../src/lib/i18n/zh-CN.js';
import { en } from '../../src/lib/i18n/en.js';

describe('i18n', () => {
	it('shows English at once, Chinese once loaded, and the language chosen last', async () => {
		setupI18n('en');
		expect(get(locale)).toBe('en');
		expect(get(_)('message.send')).toBe(en['message.send']);
		await languageReady();
		// Chinese, then English before Chinese has loaded: English stays.
		const toChinese = setLanguage('zh-CN');
		const toEnglish = setLanguage('en');
		await Promise.all([toChinese, toEnglish]);
		expect(get(locale)).toBe('en');
		await setLanguage('zh-CN');
		expect(get(locale)).toBe('zh-CN');
		expect(get(_)('message.send')).toBe(zhCN['message.send']);
		expect(zhCN['message.send']).not.toBe(en['message.send']);
	});
});
