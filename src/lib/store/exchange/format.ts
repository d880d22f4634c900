/**
 * The workspace export file format (version 1): a zip holding
 *
 * - `manifest.json`: {@link ExportManifest}, the only file an import trusts to find the rest;
 * - `yjs/<document id>.bin`: each document's full Yjs state (`Y.encodeStateAsUpdate`), the
 *   lossless copy an import merges back;
 * - readable copies made from those states, never read back by an import:
 *   `channels/<name>.md` and `.json`, `notes/<title>.md`, `ai-chats/<title>.md` and `.json`;
 * - `files/<blob id>/<file name>`: each attachment the exporting device held, its bytes as
 *   they are (an import checks them against the blob id), its name made safe (fileNames.ts
 *   `safeFileName`); the manifest lists every attachment the exported channels' shown messages
 *   reference (not those of deleted or hidden ones: shownFiles.ts), with `path: null` for those
 *   the device did not hold. An import restores only those a document it brings references.
 *
 * The workspace secret is not in the file: an export is a backup of content, not a key to
 * the workspace (see importWorkspace.ts for what that means on restore).
 */
import { BLOB_KEY } from '../../blob/blobSeal.js';
import { isId } from '../../doc/ids.js';
import { DocKind } from '../../doc/schema.js';
import { InvalidManifestError, NotAnExportError, UnsupportedVersionError } from './errors.js';

/** The `format` field of every Outpost export manifest. */
export const EXPORT_FORMAT = 'outpost-workspace-export';
/** The format version this app writes and reads. */
export const EXPORT_FORMAT_VERSION = 1;
/** Path of the manifest inside the zip. */
export const MANIFEST_PATH = 'manifest.json';
/** Folder of the raw Yjs states inside the zip. */
export const STATE_DIR = 'yjs/';
/** Folder of the attachments inside the zip. */
export const FILES_DIR = 'files/';

/** Size limits of an import, checked against what the zip declares before anything is unpacked. */
export const IMPORT_LIMITS = {
	/** The whole file. */
	maxFileBytes: 1024 * 1024 * 1024,
	/** One unpacked entry (a document's state, the manifest). */
	maxEntryBytes: 512 * 1024 * 1024,
	/** Everything an import unpacks together. */
	maxTotalBytes: 1024 * 1024 * 1024,
	/** Documents in one export. */
	maxDocuments: 200_000
} as const;

/** One document in the manifest. */
export interface ManifestDocument {
	id: string;
	kind: DocKind;
	/** Channel name, note or chat title; the workspace name for the root, '' for the roster. */
	title: string;
	/** Path of its raw Yjs state in the zip: `yjs/<id>.bin`. */
	state: string;
	/** Length of the state in bytes. */
	bytes: number;
	/** Lower-case hex SHA-256 of the state. */
	sha256: string;
	/** Readable copies made from it (paths in the zip). */
	files: string[];
}

/** One attachment the exported channels reference. */
export interface ManifestAttachment {
	/** Its blob id. */
	blob: string;
	name: string;
	mime: string;
	size: number;
	/** Where its bytes are in the zip (`files/<blob id>/<name>`), or null when the exporting device did not hold them. */
	path: string | null;
	/** A private space's file: its key (the zip holds the opened file; an import seals it again to check it against `blob`). */
	key?: string;
}

/** The manifest of an export file. */
export interface ExportManifest {
	format: typeof EXPORT_FORMAT;
	formatVersion: typeof EXPORT_FORMAT_VERSION;
	/** Version of the Outpost app that wrote the file. */
	appVersion: string;
	/** ISO 8601 time of the export. */
	exportedAt: string;
	workspace: { id: string; name: string; color: string; rosterId: string };
	documents: ManifestDocument[];
	/** The attachments (absent in files made before attachments). */
	attachments?: ManifestAttachment[];
}

/** The path of a document's raw state. */
export function statePath(id: string): string {
	return `${STATE_DIR}${id}.bin`;
}

const KINDS = new Set<unknown>(Object.values(DocKind));
const SHA256_HEX = /^[0-9a-f]{64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(what: string): never {
	throw new InvalidManifestError(`invalid manifest: ${what}`);
}

function parseDocument(value: unknown, index: number): ManifestDocument {
	if (!isRecord(value)) invalid(`document ${index} is not an object`);
	const { id, kind, title, state, bytes, sha256, files } = value;
	if (!isId(id)) invalid(`document ${index} has no valid id`);
	if (!KINDS.has(kind)) invalid(`document ${id} has an unknown kind`);
	if (state !== statePath(id)) invalid(`document ${id} has an unexpected state path`);
	if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) invalid(`document ${id} has no size`);
	if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) invalid(`document ${id} has no checksum`);
	return {
		id,
		kind: kind as DocKind,
		title: typeof title === 'string' ? title : '',
		state,
		bytes,
		sha256,
		files: Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : []
	};
}

const BLOB_ID = /^[0-9a-f]{64}$/;

/** `files/<blob>/<name>`: one name, in the blob's own folder. */
function isFilePath(path: string, blob: string): boolean {
	const prefix = `${FILES_DIR}${blob}/`;
	const name = path.slice(prefix.length);
	return path.startsWith(prefix) && name.length > 0 && !name.includes('/') && name !== '.' && name !== '..';
}

/**
 * `files/<blob>/.` or `..`: what an export wrote before file names were made safe, for a file
 * named " ." or " .." (fileNames.ts `safeFileName`). Such a file is read as not in the export,
 * so the rest of it still imports.
 */
function isOlderDotPath(path: string, blob: string): boolean {
	return path === `${FILES_DIR}${blob}/.` || path === `${FILES_DIR}${blob}/..`;
}

function parseAttachment(value: unknown, index: number): ManifestAttachment {
	if (!isRecord(value)) invalid(`attachment ${index} is not an object`);
	const { blob, name, mime, size, path, key } = value;
	if (key !== undefined && (typeof key !== 'string' || !BLOB_KEY.test(key))) invalid(`attachment ${String(blob)} has a bad key`);
	if (typeof blob !== 'string' || !BLOB_ID.test(blob)) invalid(`attachment ${index} has no valid blob id`);
	if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`attachment ${blob} has no size`);
	// Only a path under its own folder: nothing else of the zip is read as an attachment.
	if (path !== null && !(typeof path === 'string' && (isFilePath(path, blob) || isOlderDotPath(path, blob)))) invalid(`attachment ${blob} has an unexpected path`);
	return { blob, size, path: path === null || isOlderDotPath(path, blob) ? null : path, name: typeof name === 'string' ? name.slice(0, 200) : '', mime: typeof mime === 'string' ? mime.slice(0, 200) : '', ...(key !== undefined ? { key } : {}) };
}

/**
 * Reads and checks a manifest: the format and its version, the workspace, and a document
 * list with unique ids, exactly one root (the workspace id) and one roster (its roster id).
 * @throws {NotAnExportError} when the JSON is some other program's
 * @throws {UnsupportedVersionError} for another format version
 * @throws {InvalidManifestError} for anything else that is wrong
 */
export function parseManifest(bytes: Uint8Array): ExportManifest {
	let value: unknown;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		invalid('not JSON');
	}
	if (!isRecord(value) || value.format !== EXPORT_FORMAT) throw new NotAnExportError('the manifest is not an Outpost export manifest');
	if (value.formatVersion !== EXPORT_FORMAT_VERSION) throw new UnsupportedVersionError(value.formatVersion);
	const ws = value.workspace;
	if (!isRecord(ws) || !isId(ws.id) || !isId(ws.rosterId)) invalid('no workspace id or roster id');
	if (!Array.isArray(value.documents)) invalid('no document list');
	if (value.documents.length > IMPORT_LIMITS.maxDocuments) invalid('too many documents');
	const documents = value.documents.map(parseDocument);
	const ids = new Set(documents.map((d) => d.id));
	if (ids.size !== documents.length) invalid('a document is listed twice');
	const roots = documents.filter((d) => d.kind === DocKind.workspace);
	const rosters = documents.filter((d) => d.kind === DocKind.roster);
	if (roots.length !== 1 || roots[0].id !== ws.id) invalid('the workspace root is not listed once');
	if (rosters.length !== 1 || rosters[0].id !== ws.rosterId) invalid('the roster is not listed once');
	if (value.attachments !== undefined && !Array.isArray(value.attachments)) invalid('the attachment list is not a list');
	if ((value.attachments ?? []).length > IMPORT_LIMITS.maxDocuments) invalid('too many attachments');
	const attachments = ((value.attachments ?? []) as unknown[]).map(parseAttachment);
	// Each attachment once (found in review: one file listed many times was read, hashed and
	// sealed as many times, each copy held, past the bound on what the file unpacks to).
	const blobs = new Set(attachments.map((a) => a.blob));
	if (blobs.size !== attachments.length) invalid('an attachment is listed twice');
	return {
		format: EXPORT_FORMAT,
		formatVersion: EXPORT_FORMAT_VERSION,
		appVersion: typeof value.appVersion === 'string' ? value.appVersion : '',
		exportedAt: typeof value.exportedAt === 'string' ? value.exportedAt : '',
		workspace: {
			id: ws.id,
			rosterId: ws.rosterId,
			name: typeof ws.name === 'string' ? ws.name : '',
			color: typeof ws.color === 'string' ? ws.color : ''
		},
		documents,
		attachments
	};
}

/** Lower-case hex SHA-256 of some bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
	let out = '';
	for (const b of digest) out += b.toString(16).padStart(2, '0');
	return out;
}
