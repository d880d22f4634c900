/**
 * The busy and error state of a form that saves something: runs the save once at a time
 * and turns a failure into a translated message, keeping what the user typed.
 */
import { get } from 'svelte/store';
import { _ } from '$lib/i18n';

/** Busy/error state of one form. */
export class SubmitAction {
	busy = $state(false);
	error = $state('');

	/** Runs `save`; returns true when it succeeded. */
	async run(save: () => Promise<void>): Promise<boolean> {
		if (this.busy) return false;
		this.busy = true;
		this.error = '';
		try {
			await save();
			return true;
		} catch (err) {
			const detail = err instanceof Error ? err.message : String(err);
			this.error = get(_)('errors.saveFailed', { values: { error: detail } });
			return false;
		} finally {
			this.busy = false;
		}
	}
}
