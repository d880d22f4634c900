/**
 * Writes a workspace into one zip file (format.ts): every document's raw Yjs state for a
 * lossless restore, readable Markdown and JSON copies, and a manifest with checksums.
 * Documents are opened one at a time through the DocStore (sharing any that are open) and
 * released again, so a large workspace never sits in memory whole; progress is reported
 * after each document.
 */
import { strToU8, Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import * as Y from 'yjs';
import { AiThreadDoc } from '../../doc/AiThreadDoc.js';
import { ChannelDoc } from '../../doc/ChannelDoc.js';
import type { PostingRules } from '../../doc/channelRights.js';
import { ChannelView } from '../../doc/ChannelView.js';
import { isId } from '../../doc/ids.js';
import { NoteDoc } from '../../doc/NoteDoc.js';
import { RosterDoc } from '../../doc/RosterDoc.js';
import { readTeam, teamName } from '../../doc/team/readTeam.js';
import { DocKind, type ChannelInfo } from '../../doc/schema.js';
import { creatorsChannels, WorkspaceDoc, type ChannelRules } from '../../doc/WorkspaceDoc.js';
import type { OutpostDb } from '../db.js';
import type { DocHandle, DocStore } from '../DocStore.js';
import { UniqueNames, safeFileName, safeStem } from './fileNames.js';
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, FILES_DIR, MANIFEST_PATH, sha256Hex, statePath, type ExportManifest, type ManifestAttachment, type ManifestDocument } from './format.js';
import { MANIFEST_SIG_PATH, signManifest, type ExportSigner } from './exportSignature.js';
import { aiChatData, aiChatMarkdown, channelData, channelMarkdown, type NameOf } from './transcripts.js';
import { noteToMarkdown } from '../../doc/noteMarkdown.js';
import { referencesIn } from '../../blob/blobReferences.js';
import { shownReferences } from './shownFiles.js';
import { readBlob, type BlobStore } from '../../blob/BlobStore.js';
import { openBlob } from '../../blob/blobSeal.js';
import type { AttachmentRef } from '../../doc/schema.js';

/** Progress of a long export or import: documents done out of all. */
export interface ExchangeProgress {
	done: number;
	total: number;
}

/** Options of {@link exportWorkspace}. */
export interface ExportInit {
	db: OutpostDb;
	docs: DocStore;
	workspaceId: string;
	/** Written into the manifest. */
	appVersion: string;
	/** The export time (tests fix it). */
	now?: Date;
	onProgress?: (progress: ExchangeProgress) => void;
	signal?: AbortSignal;
	/**
	 * Which channels are exported, with which settings (the team's: channelRules in
	 * channelRights.ts); without it, every channel as its creator made it.
	 */
	channelRules?: ChannelRules;
	/** The private channels and direct conversations the member is in (the root does not list them). */
	spaces?: ChannelInfo[];
	/** Ids of a channel's messages nobody is shown (their text is left out of the transcripts). */
	unseen?: (docId: string, doc: Y.Doc) => Promise<Set<string>>;
	/** A channel's posting rules: edits made where their author could not post are left out (channelRights.ts `shownText`). */
	postingRules?: (docId: string) => PostingRules;
	/** The workspace's blobs: the attachments held are written into the file, the others listed. */
	blobs?: BlobStore;
	/** This device, which signs the manifest (exportSignature.ts); without it the file vouches for nothing. */
	signer?: ExportSigner;
}

/** A finished export. */
export interface ExportResult {
	bytes: Uint8Array;
	/** A file name to save it under: `<workspace>-<date>.outpost.zip`. */
	fileName: string;
	manifest: ExportManifest;
	/** Attachments written into the file, and those listed only (this device did not hold them). */
	attachments: { included: number; missing: number };
}

/** Thrown when the workspace to export is not on this device. */
export class WorkspaceNotFoundError extends Error {
	name = 'WorkspaceNotFoundError';
}

/** A document to write: its id, kind and title, and how to make its readable copies. */
interface Planned {
	id: string;
	kind: DocKind;
	title: string;
	readable?: (doc: Y.Doc) => { path: string; text: string }[] | Promise<{ path: string; text: string }[]>;
	/** The attachments whose bytes it brings into the export (blob id → reference). */
	files?: (doc: Y.Doc) => Map<string, AttachmentRef> | Promise<Map<string, AttachmentRef>>;
}

const DEFLATE_LEVEL = 6;

/** Collects the zip's bytes as fflate streams them. */
class ZipWriter {
	private readonly chunks: Uint8Array[] = [];
	private readonly zip: Zip;
	private failure: Error | undefined;
	private readonly mtime: Date;

	constructor(mtime: Date) {
		this.mtime = mtime;
		this.zip = new Zip((err, chunk) => {
			if (err) this.failure = err;
			else this.chunks.push(chunk);
		});
	}

	/** Adds a file, deflated, or `stored` as it is (attachments: mostly compressed already). */
	add(path: string, data: Uint8Array, stored = false): void {
		const file = stored ? new ZipPassThrough(path) : new ZipDeflate(path, { level: DEFLATE_LEVEL });
		file.mtime = this.mtime;
		this.zip.add(file);
		file.push(data, true);
		if (this.failure) throw this.failure;
	}

	finish(): Uint8Array {
		this.zip.end();
		if (this.failure) throw this.failure;
		const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
		let at = 0;
		for (const c of this.chunks) {
			out.set(c, at);
			at += c.length;
		}
		return out;
	}
}

/** Plans the documents of a workspace from its root: root, roster (`rosterId`), channels, notes, AI chats. */
function plan(root: WorkspaceDoc, workspaceId: string, rosterId: string, nameOf: NameOf, names: UniqueNames, rules: ChannelRules, init: Pick<ExportInit, 'spaces' | 'unseen' | 'postingRules'>): Planned[] {
	const out: Planned[] = [
		{ id: workspaceId, kind: DocKind.workspace, title: root.name },
		{ id: rosterId, kind: DocKind.roster, title: '' }
	];
	for (const info of [...root.listChannels(rules), ...(init.spaces ?? [])]) {
		if (!isId(info.id)) continue;
		// Asked once per channel, for its transcripts and its files alike.
		let unseenHere: Promise<Set<string>> | undefined;
		const unseenOf = (doc: Y.Doc) => (unseenHere ??= init.unseen?.(info.id, doc) ?? Promise.resolve(new Set<string>()));
		out.push({
			id: info.id,
			kind: DocKind.channel,
			title: info.name,
			files: async (doc) => shownReferences(doc, await unseenOf(doc)),
			readable: async (doc) => {
				const unseen = await unseenOf(doc);
				const view = new ChannelView(new ChannelDoc(doc));
				try {
					const data = channelData(view, info, nameOf, unseen, init.postingRules?.(info.id));
					const base = names.claim('channels', info.name, 'channel');
					return [
						{ path: `${base}.md`, text: channelMarkdown(data) },
						{ path: `${base}.json`, text: JSON.stringify(data, null, '\t') }
					];
				} finally {
					view.destroy();
				}
			}
		});
	}
	for (const info of root.listNotes()) {
		if (!isId(info.id)) continue;
		out.push({
			id: info.id,
			kind: DocKind.note,
			title: info.title,
			readable: (doc) => {
				const note = new NoteDoc(doc);
				return [{ path: `${names.claim('notes', note.title || info.title, 'note')}.md`, text: noteToMarkdown(note.title, note.body.toString(), note.tagList()) }];
			}
		});
	}
	for (const info of root.listAiThreads()) {
		if (!isId(info.id)) continue;
		out.push({
			id: info.id,
			kind: DocKind.aiThread,
			title: info.title,
			files: referencesIn,
			readable: (doc) => {
				const data = aiChatData(new AiThreadDoc(doc), info, nameOf);
				const base = names.claim('ai-chats', info.title, 'chat');
				return [
					{ path: `${base}.md`, text: aiChatMarkdown(data) },
					{ path: `${base}.json`, text: JSON.stringify(data, null, '\t') }
				];
			}
		});
	}
	return out;
}

/**
 * Exports a workspace of this device into one zip file (see the module comment).
 * @throws {WorkspaceNotFoundError} when the workspace (or its root document) is not here
 */
export async function exportWorkspace(init: ExportInit): Promise<ExportResult> {
	const { db, docs, workspaceId, signal } = init;
	const now = init.now ?? new Date();
	const row = await db.workspaces.get(workspaceId);
	if (!row) throw new WorkspaceNotFoundError(`workspace ${workspaceId} is not on this device`);
	const rootHandle = docs.open(workspaceId);
	let rosterHandle: DocHandle | undefined;
	try {
		await rootHandle.ready;
		const root = new WorkspaceDoc(rootHandle.doc);
		if (!isId(root.rosterId)) throw new WorkspaceNotFoundError(`workspace ${workspaceId} has not arrived on this device`);
		// The device's own roster id, not the root's: the root's `meta` is any member's to rewrite.
		const rosterId = isId(row.rosterId) ? row.rosterId : root.rosterId;
		// Held for the whole export: transcripts name authors by their roster display names.
		rosterHandle = docs.open(rosterId);
		await rosterHandle.ready;
		const roster = new RosterDoc(rosterHandle.doc);
		const team = await readTeam(workspaceId, rosterHandle.doc);
		// The team's names; a workspace made before signed teams still has its old roster's.
		const nameOf: NameOf = (peerId) => teamName(team, peerId) ?? roster.displayName(peerId);
		const names = new UniqueNames();
		const planned = plan(root, workspaceId, rosterId, nameOf, names, init.channelRules ?? creatorsChannels, init);
		const zip = new ZipWriter(now);
		const documents: ManifestDocument[] = [];
		const referenced = new Map<string, AttachmentRef>();
		init.onProgress?.({ done: 0, total: planned.length });
		for (const [i, p] of planned.entries()) {
			signal?.throwIfAborted();
			const handle = docs.open(p.id);
			try {
				await handle.ready;
				const state = Y.encodeStateAsUpdate(handle.doc);
				const readable = (await p.readable?.(handle.doc)) ?? [];
				for (const [id, ref] of (await p.files?.(handle.doc)) ?? []) if (!referenced.has(id)) referenced.set(id, ref);
				zip.add(statePath(p.id), state);
				for (const r of readable) zip.add(r.path, strToU8(r.text));
				documents.push({
					id: p.id,
					kind: p.kind,
					title: p.title,
					state: statePath(p.id),
					bytes: state.length,
					sha256: await sha256Hex(state),
					files: readable.map((r) => r.path)
				});
			} finally {
				docs.release(handle);
			}
			init.onProgress?.({ done: i + 1, total: planned.length });
		}
		const attachments = await addAttachments(zip, referenced, init.blobs, signal);
		const manifest: ExportManifest = {
			format: EXPORT_FORMAT,
			formatVersion: EXPORT_FORMAT_VERSION,
			appVersion: init.appVersion,
			exportedAt: now.toISOString(),
			workspace: { id: workspaceId, name: root.name || row.name, color: root.color, rosterId },
			documents,
			attachments
		};
		const manifestBytes = strToU8(JSON.stringify(manifest, null, '\t'));
		zip.add(MANIFEST_PATH, manifestBytes);
		if (init.signer !== undefined) zip.add(MANIFEST_SIG_PATH, await signManifest(init.signer, manifestBytes));
		const fileName = `${safeStem(manifest.workspace.name, 'workspace')}-${now.toISOString().slice(0, 10)}.outpost.zip`;
		const included = attachments.filter((a) => a.path !== null).length;
		return { bytes: zip.finish(), fileName, manifest, attachments: { included, missing: attachments.length - included } };
	} finally {
		docs.release(rootHandle);
		if (rosterHandle) docs.release(rosterHandle);
	}
}

/** Writes the referenced attachments `blobs` holds into the zip; lists every one. */
async function addAttachments(zip: ZipWriter, referenced: Map<string, AttachmentRef>, blobs: BlobStore | undefined, signal: AbortSignal | undefined): Promise<ManifestAttachment[]> {
	const out: ManifestAttachment[] = [];
	for (const ref of referenced.values()) {
		signal?.throwIfAborted();
		const held = blobs === undefined ? undefined : await readBlob(blobs, ref.blob);
		// A private space's file is written opened, so the export is readable; its key lets an import seal it again.
		const bytes = held === undefined || ref.key === undefined ? held : await openBlob(held, ref.key).catch(() => undefined);
		const path = bytes === undefined ? null : `${FILES_DIR}${ref.blob}/${safeFileName(ref.name)}`;
		if (bytes !== undefined && path !== null) zip.add(path, bytes, true);
		out.push({ blob: ref.blob, name: ref.name, mime: ref.mime, size: ref.size, path, ...(ref.key !== undefined ? { key: ref.key } : {}) });
	}
	return out;
}
