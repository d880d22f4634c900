/**
 * The busy and error state of a form that saves something: runs the save once at a time
 * and turns a failure into a translated message (errorMessage.ts), keeping what the user typed.
 */
import { errorMessage } from './errorMessage';

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
			this.error = errorMessage(err);
			return false;
		} finally {
			this.busy = false;
		}
	}
}
