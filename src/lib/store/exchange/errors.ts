/**
 * Named errors of workspace import. Each says what is wrong with the file; the UI matches
 * on `name` to show a translated message. Every one is thrown before anything is written.
 */

/** Base class: the file cannot be imported. */
export class ImportFileError extends Error {
	name = 'ImportFileError';
}

/** Not a zip file at all (or an empty one): not an Outpost export. */
export class NotAnExportError extends ImportFileError {
	name = 'NotAnExportError';
}

/** A zip file that cannot be read: truncated or damaged. */
export class CorruptArchiveError extends ImportFileError {
	name = 'CorruptArchiveError';
}

/** A zip file without an Outpost manifest: some other program's archive. */
export class MissingManifestError extends ImportFileError {
	name = 'MissingManifestError';
}

/** The manifest is not what an Outpost export holds (bad JSON, missing or inconsistent fields). */
export class InvalidManifestError extends ImportFileError {
	name = 'InvalidManifestError';
}

/** The export was written in a format version this app does not read. */
export class UnsupportedVersionError extends ImportFileError {
	name = 'UnsupportedVersionError';
	constructor(readonly version: unknown) {
		super(`unsupported export format version: ${String(version).slice(0, 40)}`);
	}
}

/** A document's stored state does not match the checksum the manifest gives for it. */
export class ChecksumMismatchError extends ImportFileError {
	name = 'ChecksumMismatchError';
	constructor(readonly docId: string) {
		super(`document ${docId}: checksum does not match`);
	}
}

/** A document's stored state is missing or does not decode as a complete Yjs update. */
export class CorruptDocumentError extends ImportFileError {
	name = 'CorruptDocumentError';
	constructor(
		readonly docId: string,
		detail: string
	) {
		super(`document ${docId}: ${detail}`);
	}
}

/** The file, or what it declares it unpacks to, is larger than an import accepts. */
export class ExportTooLargeError extends ImportFileError {
	name = 'ExportTooLargeError';
}
