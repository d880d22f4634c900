/**
 * The i18n layer: every UI string goes through svelte-i18n's `_` store. English and
 * Simplified Chinese ship with the app; the default follows the browser's language until
 * the user picks one in Settings. English is in the first load (it is also the fallback); the
 * Chinese dictionary is a chunk of its own, fetched when Chinese is chosen: until it arrives the
 * page shows English, and the app waits for it ({@link languageReady}) before it shows more
 * than its loading state.
 */
import { addMessages, getLocaleFromNavigator, init, locale, register, waitLocale } from 'svelte-i18n';
import { en } from './en.js';

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

/** The language last asked for, and the switch to it. */
let wanted: LanguageCode = 'en';
let switching: Promise<void> = Promise.resolve();

/** Registers the dictionaries and selects the saved language, or the browser's. */
export function setupI18n(saved?: string): void {
	if (!initialised) {
		addMessages('en', en);
		register('zh-CN', () => import('./zh-CN.js').then((m) => m.zhCN));
		// English at once, so the first render has a locale; another language follows when loaded.
		void init({ fallbackLocale: 'en', initialLocale: 'en' });
		locale.subscribe((code) => {
			if (code) setDocumentLang(code);
		});
		initialised = true;
	}
	void setLanguage(saved ? matchLanguage(saved) : matchLanguage(getLocaleFromNavigator()));
}

/**
 * Switches the UI language once its dictionary is loaded. When languages are asked for faster
 * than they load, the last one asked for wins; a dictionary that cannot be loaded leaves the
 * language as it was.
 */
export function setLanguage(code: LanguageCode): Promise<void> {
	wanted = code;
	switching = (async () => {
		try {
			await waitLocale(code);
		} catch (error) {
			console.warn(`i18n: could not load ${code}`, error);
			return;
		}
		if (wanted === code) await locale.set(code);
	})();
	return switching;
}

/** Resolves once the language last asked for is shown (or could not be loaded). */
export function languageReady(): Promise<void> {
	return switching;
}

function setDocumentLang(code: string): void {
	if (typeof document !== 'undefined') document.documentElement.lang = code;
}
