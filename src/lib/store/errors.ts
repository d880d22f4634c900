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

/** An update received for a document could not be applied (one class for the mesh and the store). */
export { UpdateRejectedError } from '../mesh/errors.js';

/** A peer sent more documents that the workspace root does not list than WorkspaceSyncDocs accepts. */
export class UnknownDocLimitError extends Error {
	name = 'UnknownDocLimitError';
	constructor(
		readonly docId: string,
		readonly limit: number
	) {
		super(`document ${docId}: more than ${limit} documents not listed by the workspace root`);
	}
}

/** The documents of a workspace were used after being closed. */
export class DocsClosedError extends Error {
	name = 'DocsClosedError';
}
