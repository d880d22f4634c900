/**
 * Restores a workspace from an export file (format.ts), in two steps:
 *
 * 1. {@link readExport} checks everything and writes nothing: the zip, the sizes it declares
 *    (before unpacking), the manifest, each state's checksum, and each state decoded into a
 *    scratch Y.Doc with nothing left missing. Any fault throws an {@link ImportFileError}.
 * 2. {@link applyExport} merges each state into the document of the same id through the
 *    DocStore (a CRDT merge: open documents update live, synced workspaces pass the changes
 *    on to their peers). Ids are never minted: importing the same file twice changes nothing.
 *
 * A workspace this device does not have is added under the same id, so the copy can later
 * sync with the other members. The export holds no workspace secret, so the restored
 * workspace has none: it stays on this device until the user joins it with an invite link
 * from a member, which gives it the secret (AppState.joinWorkspace keeps the row and adds
 * the invite's secret) and syncs it with everything the others wrote since. A workspace
 * already here keeps its secret and is merged into.
 */
import { Unzip, UnzipInflate, unzipSync, type UnzipFileInfo } from 'fflate';
import { concat } from 'uint8arrays/concat';
import * as Y from 'yjs';
import { DocKind } from '../../doc/schema.js';
import { readTeam } from '../../doc/team/readTeam.js';
import { teamRosterId } from '../../doc/team/teamId.js';
import { checkTeamUpdate } from '../../doc/team/TeamDoc.js';
import { checkRemoteUpdate, NO_TEAM, updateContext, type DocsTeam } from '../../doc/team/writePolicy.js';
import { carriesNotes, memberOfDevice, type Team } from '../../doc/team/fold.js';
import { NOT_A_CARRIER } from '../../doc/notePolicy.js';
import { WORKSPACE_COLORS, WorkspaceDoc } from '../../doc/WorkspaceDoc.js';
import type { OutpostDb, WorkspaceRow } from '../db.js';
import type { DocStore } from '../DocStore.js';
import {
	ChecksumMismatchError,
	CorruptArchiveError,
	CorruptDocumentError,
	ExportTooLargeError,
	InvalidManifestError,
	MissingManifestError,
	NotAnExportError
} from './errors.js';
import type { ExchangeProgress } from './exportWorkspace.js';
import { FILES_DIR, IMPORT_LIMITS, MANIFEST_PATH, parseManifest, sha256Hex, STATE_DIR, type ExportManifest, type ManifestAttachment } from './format.js';
import { manifestOf } from '../../blob/blobManifest.js';
import { sealBlob } from '../../blob/blobSeal.js';
import type { BlobStore } from '../../blob/BlobStore.js';
import { putBlob } from '../../core/deviceBlobs.js';
import { referencesIn } from '../../blob/blobReferences.js';
import { MANIFEST_SIG_PATH, manifestSigner } from './exportSignature.js';

/** Transaction origin of imported updates. */
export const IMPORT_ORIGIN = 'outpost:import';

/** Longest workspace name kept (as AppState). */
const MAX_NAME = 80;

/** A checked export, ready to apply. */
export interface ValidatedExport {
	manifest: ExportManifest;
	/** Each document's raw state, in manifest order, and the blobs its messages reference (blobReferences.ts `referencesIn`). */
	states: { id: string; kind: DocKind; state: Uint8Array; blobs?: ReadonlySet<string> }[];
	/** The attachments in the file whose bytes match their blob id. */
	attachments: { listed: ManifestAttachment; bytes: Uint8Array }[];
	/** Attachments whose bytes are missing from the zip or do not match their id (left out; the rest is imported). */
	damagedAttachments: number;
	/** The device whose signature over the manifest verifies (exportSignature.ts), if any. */
	exporter?: string;
}

/** What an import did. */
export interface ImportResult {
	workspaceId: string;
	workspaceName: string;
	/** True when the workspace was new on this device. */
	created: boolean;
	/** Documents in the file. */
	documents: number;
	/** Documents that gained something from the file. */
	changed: number;
	/**
	 * Documents left out: note content its signer may not pass on (or an unsigned file's), and
	 * private spaces that its signer or this device is not in. Members who may pass them on
	 * still sync them.
	 */
	documentsLeftOut: number;
	/** Attachments restored from the file. */
	attachments: number;
	/** Attachments the file lists but could not give (not held by the exporting device, or damaged). */
	attachmentsMissing: number;
}

/** Options of {@link applyExport} and {@link importWorkspace}. */
export interface ImportInit {
	db: OutpostDb;
	docs: DocStore;
	onProgress?: (progress: ExchangeProgress) => void;
	now?: () => number;
	/** The blob store of a workspace: where the file's attachments are restored. */
	blobs?: (workspaceId: string) => BlobStore;
	/** This device's peer id: a private space's document is imported only when its member is in the space. */
	device?: string;
}

/** Local file headers (or the end record of an empty zip) start every zip file. */
function looksLikeZip(bytes: Uint8Array): boolean {
	return bytes.length >= 22 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

/** Unpacks the manifest and the states, refusing declared sizes over the limits first. */
function unpack(bytes: Uint8Array): Record<string, Uint8Array> {
	// First the central directory: the names and the sizes it declares, checked against the
	// limits, with nothing inflated.
	let total = 0;
	let entries = 0;
	let tooLarge = '';
	const declared = new Map<string, number>();
	const wanted = (file: UnzipFileInfo): boolean => {
		if (file.name !== MANIFEST_PATH && file.name !== MANIFEST_SIG_PATH && !(file.name.startsWith(STATE_DIR) && file.name.endsWith('.bin')) && !file.name.startsWith(FILES_DIR)) return false;
		total += file.originalSize;
		entries++;
		if (file.originalSize > IMPORT_LIMITS.maxEntryBytes || total > IMPORT_LIMITS.maxTotalBytes || entries > IMPORT_LIMITS.maxDocuments + 1) {
			tooLarge ||= file.name;
		} else if (declared.has(file.name)) {
			throw new CorruptArchiveError(`${file.name} is in the zip file twice`);
		} else declared.set(file.name, file.originalSize);
		return false;
	};
	try {
		unzipSync(bytes, { filter: wanted });
	} catch (cause) {
		if (cause instanceof CorruptArchiveError) throw cause;
		throw new CorruptArchiveError(`the zip file cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`);
	}
	if (tooLarge) throw new ExportTooLargeError(`${tooLarge}: unpacks to more than an import accepts`);
	return inflateDeclared(bytes, declared);
}

/** Compressed bytes handed to the inflater at a time: what one step can unpack to is bounded by it (deflate's largest ratio is about 1:1032). */
const INFLATE_SLICE = 16 * 1024;

/**
 * The entries `declared` names, each inflated and stopped as soon as it passes the size the
 * central directory declares for it (found in review: an entry declaring 2 bytes was inflated
 * to its end, a gigabyte decoded and dropped on the page's thread, before anything checked it).
 */
function inflateDeclared(bytes: Uint8Array, declared: ReadonlyMap<string, number>): Record<string, Uint8Array> {
	const files: Record<string, Uint8Array> = {};
	let failure: Error | undefined;
	const unzip = new Unzip((file) => {
		const size = declared.get(file.name);
		if (size === undefined || failure !== undefined || Object.hasOwn(files, file.name)) return; // not wanted: never inflated
		const parts: Uint8Array[] = [];
		let got = 0;
		file.ondata = (error, data, final) => {
			if (failure !== undefined) return;
			if (error) {
				failure = new CorruptArchiveError(`${file.name} cannot be unpacked: ${error.message}`);
				return;
			}
			got += data.length;
			if (got > size) {
				failure = new CorruptArchiveError(`${file.name} unpacks to more than the ${size} bytes the zip file declares`);
				file.terminate();
				return;
			}
			parts.push(data);
			if (!final) return;
			if (got !== size) failure = new CorruptArchiveError(`${file.name} unpacks to ${got} bytes, not the ${size} the zip file declares`);
			else files[file.name] = parts.length === 1 ? parts[0]! : concat(parts, got);
		};
		file.start();
	});
	unzip.register(UnzipInflate);
	try {
		for (let at = 0; at < bytes.length && failure === undefined; at += INFLATE_SLICE) {
			unzip.push(bytes.subarray(at, at + INFLATE_SLICE), at + INFLATE_SLICE >= bytes.length);
		}
	} catch (cause) {
		throw new CorruptArchiveError(`the zip file cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`);
	}
	if (failure !== undefined) throw failure;
	for (const name of declared.keys()) if (!Object.hasOwn(files, name)) throw new CorruptArchiveError(`${name} is listed but cannot be unpacked`);
	return files;
}

/** Decodes a state into a scratch document; it must apply completely. */
function checkState(id: string, state: Uint8Array): Y.Doc {
	const scratch = new Y.Doc({ guid: id });
	try {
		Y.applyUpdate(scratch, state);
	} catch (cause) {
		scratch.destroy();
		throw new CorruptDocumentError(id, `does not decode (${cause instanceof Error ? cause.message : String(cause)})`);
	}
	if (scratch.store.pendingStructs !== null || scratch.store.pendingDs !== null) {
		scratch.destroy();
		throw new CorruptDocumentError(id, 'parts of the state are missing');
	}
	return scratch;
}

/** The blobs a document's messages (or an AI chat's questions) reference; none when it holds no such records. */
function blobsNamed(doc: Y.Doc): Set<string> {
	try {
		return new Set(referencesIn(doc).keys());
	} catch {
		return new Set(); // a document of another shape (a note): it names no files
	}
}

/** The private spaces the signed team of a file's roster state holds (none without one). */
async function fileSpaces(workspaceId: string, rosterState: Uint8Array | undefined): Promise<string[]> {
	if (rosterState === undefined) return [];
	const roster = new Y.Doc();
	try {
		Y.applyUpdate(roster, rosterState);
		return [...(await readTeam(workspaceId, roster)).spaces.keys()];
	} finally {
		roster.destroy();
	}
}

/**
 * Checks an export file completely without writing anything (see the module comment).
 * @throws {ImportFileError} (errors.ts: one of its subclasses) for anything wrong with the file
 */
export async function readExport(bytes: Uint8Array, onProgress?: (progress: ExchangeProgress) => void): Promise<ValidatedExport> {
	if (bytes.length > IMPORT_LIMITS.maxFileBytes) throw new ExportTooLargeError('the file is larger than an import accepts');
	if (!looksLikeZip(bytes)) throw new NotAnExportError('not a zip file');
	const files = unpack(bytes);
	const manifestBytes = files[MANIFEST_PATH];
	if (!manifestBytes) throw new MissingManifestError(`the zip file has no ${MANIFEST_PATH}`);
	const manifest = parseManifest(manifestBytes);
	const states: ValidatedExport['states'] = [];
	const listed = new Set<string>();
	let rootDoc: Y.Doc | undefined;
	for (const [i, d] of manifest.documents.entries()) {
		const state = files[d.state];
		if (!state) throw new CorruptDocumentError(d.id, 'its state is missing from the zip file');
		if (state.length !== d.bytes || (await sha256Hex(state)) !== d.sha256) throw new ChecksumMismatchError(d.id);
		const scratch = checkState(d.id, state);
		const blobs = d.kind === DocKind.workspace || d.kind === DocKind.roster ? undefined : blobsNamed(scratch);
		if (d.kind === DocKind.workspace) rootDoc = scratch;
		else scratch.destroy();
		states.push({ id: d.id, kind: d.kind, state, ...(blobs !== undefined && blobs.size > 0 ? { blobs } : {}) });
		onProgress?.({ done: i + 1, total: manifest.documents.length * 2 });
		await new Promise((r) => setTimeout(r, 0));
	}
	// Every document must belong to this workspace: listed by its root, or a private space of
	// its roster's signed team (a space id derives from the workspace id: teamId.ts), so a file
	// cannot merge into a document of another workspace on this device.
	if (!rootDoc) throw new InvalidManifestError('invalid manifest: no workspace root');
	const root = new WorkspaceDoc(rootDoc);
	// The roster is the one the workspace id derives, or (a workspace from before teams) the root's.
	const { id: workspaceId, rosterId } = manifest.workspace;
	if (rosterId !== teamRosterId(workspaceId) && root.rosterId !== rosterId) throw new InvalidManifestError('invalid manifest: the roster is not the workspace’s');
	for (const map of [root.channels, root.notes, root.aiThreads]) for (const id of map.keys()) listed.add(id);
	rootDoc.destroy();
	for (const id of await fileSpaces(manifest.workspace.id, states.find((s) => s.id === manifest.workspace.rosterId)?.state)) listed.add(id);
	for (const d of manifest.documents) {
		if (d.kind === DocKind.workspace || d.kind === DocKind.roster) continue;
		if (!listed.has(d.id)) throw new InvalidManifestError(`invalid manifest: document ${d.id} is not part of the workspace`);
	}
	// Attachments are content-addressed: bytes that do not hash to their id are left out, the rest imported.
	const attachments: ValidatedExport['attachments'] = [];
	let damagedAttachments = 0;
	for (const listedFile of manifest.attachments ?? []) {
		if (listedFile.path === null) continue;
		const opened = files[listedFile.path];
		// A private space's file was written opened: sealed again with its key, it must be the blob the reference names.
		const bytes = opened === undefined || opened.length !== listedFile.size ? undefined : listedFile.key === undefined ? opened : await sealBlob(opened, listedFile.key);
		if (bytes !== undefined && (await manifestOf(bytes)).id === listedFile.blob) attachments.push({ listed: listedFile, bytes });
		else damagedAttachments++;
	}
	return { manifest, states, attachments, damagedAttachments, exporter: manifestSigner(manifestBytes, files[MANIFEST_SIG_PATH]) };
}

/**
 * The documents this device keeps for workspaces other than `workspaceId`: their roots,
 * rosters, the documents their roots list and their private spaces. A file's root lists what
 * it likes, so this, not the file, decides that it touches no other workspace.
 */
async function otherWorkspacesDocs(init: ImportInit, workspaceId: string): Promise<Set<string>> {
	const out = new Set<string>();
	for (const row of await init.db.workspaces.toArray()) {
		if (row.id === workspaceId) continue;
		const rosterId = row.rosterId || teamRosterId(row.id);
		out.add(row.id).add(rosterId);
		for (const id of [row.id, rosterId]) {
			const handle = init.docs.open(id);
			try {
				await handle.ready;
				if (id === row.id) {
					const root = new WorkspaceDoc(handle.doc);
					for (const map of [root.channels, root.notes, root.aiThreads]) for (const listed of map.keys()) out.add(listed);
				} else {
					for (const space of (await readTeam(row.id, handle.doc)).spaces.keys()) out.add(space);
				}
			} finally {
				init.docs.release(handle);
			}
		}
	}
	return out;
}

/**
 * Merges a checked export into this device's documents and workspace list.
 * @throws {InvalidManifestError} when the file names a document of another workspace on this
 *   device, or a state that the document's write policy refuses (writePolicy.ts, as a peer's
 *   update would be: a roster operation deleted, a signed record rewritten); nothing is
 *   written then.
 */
export async function applyExport(init: ImportInit, checked: ValidatedExport): Promise<ImportResult> {
	const { db, docs, onProgress } = init;
	const { manifest, states } = checked;
	const total = states.length;
	const others = await otherWorkspacesDocs(init, manifest.workspace.id);
	const foreign = states.find((s) => others.has(s.id));
	if (foreign !== undefined) throw new InvalidManifestError(`invalid manifest: document ${foreign.id} belongs to another workspace on this device`);
	const { id, rosterId } = manifest.workspace;
	const existing = await db.workspaces.get(id);
	// The device's roster is the workspace's, whatever the file's root says.
	if (existing?.rosterId && existing.rosterId !== rosterId) throw new InvalidManifestError('invalid manifest: the file names another roster than this device holds');
	// Each state is checked against this device's copy, as a peer's update is, before any is written.
	const checks = await prepareChecks(init, manifest.workspace, checked);
	try {
		for (const s of states) {
			if (checks.leftOut.has(s.id)) continue;
			const handle = docs.open(s.id);
			try {
				await handle.ready;
				const refused = checks.refusal(s, handle.doc);
				if (refused === NOT_A_CARRIER) checks.leftOut.add(s.id);
				else if (refused !== undefined) throw new InvalidManifestError(`invalid manifest: document ${s.id} would be changed in a way no peer accepts (${refused})`);
			} finally {
				docs.release(handle);
			}
		}
		// Attachments first: a message that names one shows it as soon as its document is merged.
		// Only those a document the import brings references (found in review: a crafted manifest
		// put any bytes it listed into the device's blob store, and counted them as restored).
		const store = init.blobs?.(id);
		const named = new Set(states.filter((s) => !checks.leftOut.has(s.id)).flatMap((s) => [...(s.blobs ?? [])]));
		const restoring = store === undefined ? [] : checked.attachments.filter(({ listed }) => named.has(listed.blob));
		for (const { bytes } of restoring) await putBlob(store!, bytes);
		let changed = 0;
		for (const [i, s] of states.entries()) {
			if (checks.leftOut.has(s.id)) continue;
			const handle = docs.open(s.id);
			try {
				await handle.ready;
				// Checked again with nothing awaited before the merge: a peer may have changed it meanwhile.
				const refused = checks.refusal(s, handle.doc);
				if (refused !== undefined) throw new InvalidManifestError(`invalid manifest: document ${s.id} changed here during the import, and the file's state no longer fits it (${refused})`);
				const before = Y.encodeStateVector(handle.doc);
				docs.applyUpdate(handle, s.state, IMPORT_ORIGIN);
				if (!sameBytes(before, Y.encodeStateVector(handle.doc))) changed++;
			} finally {
				docs.release(handle);
			}
			onProgress?.({ done: total + i + 1, total: total * 2 });
		}
		// The row comes last: a workspace shows up only once all its documents are stored.
		const name = manifest.workspace.name.trim().slice(0, MAX_NAME) || id.slice(0, 8);
		const now = init.now?.() ?? Date.now();
		if (!existing) {
			const color = manifest.workspace.color;
			const row: WorkspaceRow = {
				id,
				name,
				color: (WORKSPACE_COLORS as readonly string[]).includes(color) ? color : WORKSPACE_COLORS[0],
				rosterId,
				createdAt: now,
				lastOpenedAt: now
			};
			await db.workspaces.put(row);
		} else if (existing.joining || !existing.rosterId) {
			// A join that waited for a peer: the file brought the root, so it has arrived.
			await db.workspaces.update(id, { rosterId, joining: false });
		}
		const restored = restoring.length;
		return {
			workspaceId: id,
			workspaceName: name,
			created: !existing,
			documents: total,
			changed,
			documentsLeftOut: checks.leftOut.size,
			attachments: restored,
			attachmentsMissing: (manifest.attachments?.length ?? 0) - restored
		};
	} finally {
		checks.dispose();
	}
}

/**
 * Checks an export file, then merges it (see the module comment).
 * @throws {ImportFileError} for a bad file, before anything is written
 */
export async function importWorkspace(init: ImportInit, bytes: Uint8Array): Promise<ImportResult> {
	const checked = await readExport(bytes, init.onProgress);
	return applyExport(init, checked);
}

/** What an import decides for the states of a file (see {@link prepareChecks}). */
interface ImportChecks {
	/** Why state `s` may not be merged into `doc` (this device's copy of it), or undefined when it may. */
	refusal(s: ValidatedExport['states'][number], doc: Y.Doc): string | undefined;
	/** Documents left out: their signer may not pass them on, or this device may not hold them. */
	readonly leftOut: Set<string>;
	dispose(): void;
}

/** Stands for the sender of an unsigned file's content: no carrier. */
const UNSIGNED = '';

/**
 * How the states of a file are checked: each as a live replica checks a peer's update (the
 * document's write policy), with the file's signer (exportSignature.ts; none: an unsigned file)
 * as the peer that sent it, against
 * - the team of this device's roster with the file's merged in (signed operations only count,
 *   and the file's roster is checked as one), so a note's bound edits count when their device
 *   wrote notes, and note content counts only when its signer carries notes (TeamAuthority
 *   `carries`): a removed member's or a guest's file, or an unsigned one, brings none;
 * - the workspace root of this device with the file's merged in, which says what each
 *   document is (a document only the file's root lists is checked as what it lists it as);
 * - private spaces: every space (and every id a space operation claims) is checked as a
 *   channel, and imported only when both the signer's member and this device's are in it.
 * A workspace from before teams (its roster holds no signed team) is checked with no team,
 * as before.
 */
async function prepareChecks(init: ImportInit, workspace: { id: string; rosterId: string }, checked: ValidatedExport): Promise<ImportChecks> {
	const { states, exporter } = checked;
	const team = await mergedTeam(init, workspace, states);
	const from = exporter ?? UNSIGNED;
	const spaceIds = team === undefined ? new Set<string>() : new Set([...team.spaces.keys(), ...team.claimedSpaces]);
	const docsTeam: DocsTeam =
		team === undefined
			? NO_TEAM
			: { spaces: () => spaceIds, isWriter: (device) => team.noteWriters.has(device), carries: (peerId) => peerId !== UNSIGNED && carriesNotes(team, peerId) };
	const leftOut = new Set<string>();
	if (team !== undefined) {
		const signerMember = exporter === undefined ? undefined : memberOfDevice(team, exporter)?.id;
		const myMember = init.device === undefined ? undefined : memberOfDevice(team, init.device)?.id;
		for (const { id } of states) {
			if (!spaceIds.has(id)) continue;
			const members = team.spaces.get(id)?.members;
			const brings = members !== undefined && signerMember !== undefined && myMember !== undefined && members.has(signerMember) && members.has(myMember);
			if (!brings) leftOut.add(id);
		}
	}
	const listing = await mergedCopy(init, workspace.id, states);
	return {
		leftOut,
		refusal: (s, doc) =>
			s.id === workspace.rosterId
				? checkTeamUpdate(doc, s.state)
				: checkRemoteUpdate(workspace.id, s.id, doc, s.state, updateContext(listing, s.id, docsTeam, from)),
		dispose: () => listing.destroy()
	};
}

/** This device's roster of the workspace with the file's merged in, folded; undefined when it holds no signed team. */
async function mergedTeam(init: ImportInit, workspace: { id: string; rosterId: string }, states: ValidatedExport['states']): Promise<Team | undefined> {
	const merged = await mergedCopy(init, workspace.rosterId, states);
	try {
		const team = await readTeam(workspace.id, merged);
		return team.root === undefined ? undefined : team;
	} finally {
		merged.destroy();
	}
}

/** A scratch copy of this device's document `docId` with the file's state of it merged in (the caller destroys it). */
async function mergedCopy(init: ImportInit, docId: string, states: ValidatedExport['states']): Promise<Y.Doc> {
	const handle = init.docs.open(docId);
	const merged = new Y.Doc();
	try {
		await handle.ready;
		Y.applyUpdate(merged, Y.encodeStateAsUpdate(handle.doc));
		const fromFile = states.find((s) => s.id === docId);
		if (fromFile !== undefined) Y.applyUpdate(merged, fromFile.state);
		return merged;
	} finally {
		init.docs.release(handle);
	}
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((v, i) => v === b[i]);
}
