/**
 * Tasks run one at a time, in order (the archive peer's requests and re-reads of its list),
 * counting how many are queued or running, so a caller can refuse new work while
 * `maxPending` wait ({@link SerialQueue.full}) rather than queue without end behind a slow one.
 */

/** Default of how many tasks may be queued or running before the queue is {@link SerialQueue.full}. */
export const MAX_PENDING_TASKS = 8;

/** See the module comment. */
export class SerialQueue {
	private tail: Promise<unknown> = Promise.resolve();
	private pending = 0;

	constructor(readonly maxPending = MAX_PENDING_TASKS) {}

	/** Tasks queued or running now. */
	get size(): number {
		return this.pending;
	}

	/** Whether `maxPending` tasks are queued or running: new work should be refused. */
	get full(): boolean {
		return this.pending >= this.maxPending;
	}

	/** Runs `task` after every task queued before it (whether or not the queue is full). */
	run<T>(task: () => Promise<T>): Promise<T> {
		this.pending++;
		const result = this.tail.then(task).finally(() => this.pending--);
		this.tail = result.catch(() => undefined);
		return result;
	}

	/** Resolves once every task queued so far has settled. */
	async idle(): Promise<void> {
		await this.tail;
	}
}
