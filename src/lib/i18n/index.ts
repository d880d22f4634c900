/**
 * The i18n layer: every UI string goes through svelte-i18n's `_` store. English and
 * Simplified Chinese ship with the app; the default follows the browser's language until
 * the user picks one in Settings.
 */
import { addMessages, getLocaleFromNavigator, init, locale } from 'svelte-i18n';
import { en } from './en.js';
import { zhCN } from './zh-CN.js';

export { _, locale } from 'svelte-i18n';

/** Languages offered in the "Language" combobox, each named in its own language. */
export const LANGUAGES = [
	{ code: 'en', label: 'English' },
	{ code: 'zh-CN', label: '简体中文' }
] as const;
export type LanguageCode = (typeof LANGUAGES)[number]['code'];

let initialised = false;

/** Picks the supported language closest to a BCP 47 tag. */
export function matchLanguage(tag: string | null | undefined): LanguageCode {
	return tag && tag.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Registers the dictionaries and selects the saved language, or the browser's. */
export function setupI18n(saved?: string): void {
	if (!initialised) {
		addMessages('en', en);
		addMessages('zh-CN', zhCN);
		initialised = true;
	}
	const initialLocale = saved ? matchLanguage(saved) : matchLanguage(getLocaleFromNavigator());
	void init({ fallbackLocale: 'en', initialLocale });
	setDocumentLang(initialLocale);
}

/** Switches the UI language now. */
export function setLanguage(code: LanguageCode): void {
	void locale.set(code);
	setDocumentLang(code);
}

function setDocumentLang(code: string): void {
	if (typeof document !== 'undefined') document.documentElement.lang = code;
}
