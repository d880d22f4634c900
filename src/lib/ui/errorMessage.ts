/**
 * The alert text for an error a state method threw, in the chosen language: the app's named
 * errors (matched on `name`) each say what happened and what to do next; anything else gets a
 * translated catch-all, and its English message goes to the console rather than the screen.
 */
import { get } from 'svelte/store';
import { _ } from '$lib/i18n';
import { MAX_TEXT_LENGTH } from '$lib/doc/validate';
import { errorText } from './team/errorText';

/** The i18n key (and values) for `err`; `fallback` for an error this module does not know. */
export function errorKey(err: unknown, fallback = 'errors.failed'): { key: string; values?: Record<string, string | number> } {
	if (!(err instanceof Error)) return { key: fallback };
	switch (err.name) {
		case 'MessageTooLongError': {
			const length = 'length' in err && typeof err.length === 'number' ? err.length : MAX_TEXT_LENGTH;
			return { key: 'message.tooLong', values: { length, max: MAX_TEXT_LENGTH } };
		}
		case 'EmptyNameError':
			return { key: 'errors.emptyName' };
		case 'NotAllowedError':
			if (err.message.startsWith('guests ')) return { key: 'errors.guestsNot' };
			if (err.message === 'no such channel') return { key: 'errors.channelGone' };
			return { key: 'errors.notAllowed' };
		case 'TeamRefusedError':
		case 'ReadOnlyTeamError':
			return { key: 'team.error', values: { error: errorText(err) } };
		case 'QuotaExceededError':
			return { key: 'errors.storageFull' };
		default:
			return { key: fallback };
	}
}

/** The translated alert text for `err` (see {@link errorKey}). */
export function errorMessage(err: unknown, fallback = 'errors.failed'): string {
	const { key, values } = errorKey(err, fallback);
	if (key === fallback) console.warn('action failed', err);
	return get(_)(key, values ? { values } : undefined);
}
