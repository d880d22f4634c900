/** Named errors of the storage layer. */

/** Some stored updates of a document could not be read; they were set aside, the rest loaded. */
export class DocCorruptError extends Error {
	name = 'DocCorruptError';
	constructor(
		readonly docId: string,
		readonly quarantined: number
	) {
		super(`document ${docId}: ${quarantined} damaged stored update(s) set aside`);
	}
}

/** An update received for a document could not be applied. */
export class UpdateRejectedError extends Error {
	name = 'UpdateRejectedError';
	constructor(
		readonly docId: string,
		cause: unknown
	) {
		super(`document ${docId}: update rejected (${cause instanceof Error ? cause.message : String(cause)})`);
	}
}
