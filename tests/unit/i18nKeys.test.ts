/**
 * The UI's text keys: every key the components name literally exists in English and in Chinese
 * (both dictionaries hold the same keys), and counts read as plurals in English.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { en } from '../../src/lib/i18n/en.js';
import { zhCN } from '../../src/lib/i18n/zh-CN.js';
import { _, setupI18n } from '../../src/lib/i18n/index.js';

function files(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return files(path);
		return /\.(svelte|ts)$/.test(name) && !path.includes('/i18n/') ? [path] : [];
	});
}

describe('i18n keys', () => {
	it('names only keys both languages have', () => {
		const missing: string[] = [];
		for (const file of [...files('src/lib'), ...files('src/routes')]) {
			const text = readFileSync(file, 'utf8');
			for (const [, key] of text.matchAll(/(?:\$_|_\)|\bt)\(\s*'([a-zA-Z][\w.-]*)'/g)) {
				if (!(key! in en) || !(key! in zhCN)) missing.push(`${file}: ${key}`);
			}
		}
		expect(missing).toEqual([]);
	});

	it('has the same keys in English and Chinese', () => {
		expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
	});

	it('says "1 entry" and "2 entries"', () => {
		setupI18n('en');
		const t = get(_);
		expect(t('channel.damaged', { values: { count: 1 } })).toContain('(1 entry)');
		expect(t('channel.damaged', { values: { count: 2 } })).toContain('(2 entries)');
		expect(t('exchange.restored', { values: { name: 'X', documents: 1 } })).toContain('(1 document)');
		expect(t('exchange.merged', { values: { name: 'X', documents: 1, changed: 1 } })).toContain('1 of 1 document gained');
	});
});
