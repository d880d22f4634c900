/**
 * Typed accessors over a workspace root document: the workspace's name and colour, and the
 * indexes of its channels, notes and AI threads. Each index entry is a Y.Map so that
 * concurrent changes to different fields (one peer renames, another archives) both survive.
 */
import * as Y from 'yjs';
import type { AiThreadInfo, ChannelInfo, NoteInfo } from './schema.js';

/** Colours offered for a workspace icon. */
export const WORKSPACE_COLORS = ['#1f6f5c', '#2f5fb3', '#8a3ffc', '#c0392b', '#d35400', '#7f8c8d'] as const;

/** Fields set when a workspace is created. */
export interface WorkspaceInit {
	name: string;
	color: string;
	createdBy: string;
	createdAt: number;
	rosterId: string;
}

function readString(map: Y.Map<unknown>, key: string, fallback = ''): string {
	const v = map.get(key);
	return typeof v === 'string' ? v : fallback;
}

function readNumber(map: Y.Map<unknown>, key: string): number {
	const v = map.get(key);
	return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Accessors over a workspace root document. */
export class WorkspaceDoc {
	readonly meta: Y.Map<unknown>;
	readonly channels: Y.Map<Y.Map<unknown>>;
	readonly notes: Y.Map<Y.Map<unknown>>;
	readonly aiThreads: Y.Map<Y.Map<unknown>>;
	readonly settings: Y.Map<unknown>;

	constructor(readonly doc: Y.Doc) {
		this.meta = doc.getMap('meta');
		this.channels = doc.getMap('channels');
		this.notes = doc.getMap('notes');
		this.aiThreads = doc.getMap('aiThreads');
		this.settings = doc.getMap('settings');
	}

	/** Writes the fields of a new workspace. */
	init(init: WorkspaceInit): void {
		this.doc.transact(() => {
			for (const [k, v] of Object.entries(init)) this.meta.set(k, v);
		});
	}

	get name(): string {
		return readString(this.meta, 'name');
	}
	set name(value: string) {
		this.meta.set('name', value);
	}

	get color(): string {
		return readString(this.meta, 'color', WORKSPACE_COLORS[0]);
	}
	set color(value: string) {
		this.meta.set('color', value);
	}

	/** The id of this workspace's roster document. */
	get rosterId(): string {
		return readString(this.meta, 'rosterId');
	}

	/** Adds a channel to the index (its messages live in their own document, id = `info.id`). */
	createChannel(info: ChannelInfo): void {
		const entry = new Y.Map<unknown>();
		for (const [k, v] of Object.entries(info)) entry.set(k, v);
		this.channels.set(info.id, entry);
	}

	/** Changes some of a channel's settings. */
	updateChannel(id: string, patch: Partial<Omit<ChannelInfo, 'id' | 'createdAt' | 'createdBy'>>): void {
		const entry = this.channels.get(id);
		if (!(entry instanceof Y.Map)) return;
		this.doc.transact(() => {
			for (const [k, v] of Object.entries(patch)) entry.set(k, v);
		});
	}

	/** One channel's settings, or undefined if there is no such channel. */
	channel(id: string): ChannelInfo | undefined {
		const entry = this.channels.get(id);
		if (!(entry instanceof Y.Map)) return undefined;
		return {
			id,
			name: readString(entry, 'name', id.slice(0, 8)),
			topic: readString(entry, 'topic'),
			private: entry.get('private') === true,
			readOnly: entry.get('readOnly') === true,
			archived: entry.get('archived') === true,
			createdAt: readNumber(entry, 'createdAt'),
			createdBy: readString(entry, 'createdBy')
		};
	}

	/** All channels, oldest first (ties broken by id, so every peer shows the same order). */
	listChannels(): ChannelInfo[] {
		const out: ChannelInfo[] = [];
		for (const id of this.channels.keys()) {
			const c = this.channel(id);
			if (c) out.push(c);
		}
		return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
	}

	/** Adds a note to the index. */
	createNote(info: NoteInfo): void {
		const entry = new Y.Map<unknown>();
		for (const [k, v] of Object.entries(info)) entry.set(k, v);
		this.notes.set(info.id, entry);
	}

	/**
	 * Records a note's latest edit in the index: its title and `updatedAt` (never moved back,
	 * so a late peer's older clock does not reorder the list).
	 */
	touchNote(id: string, patch: { title?: string; updatedAt: number }): void {
		const entry = this.notes.get(id);
		if (!(entry instanceof Y.Map)) return;
		this.doc.transact(() => {
			if (patch.title !== undefined && patch.title !== entry.get('title')) entry.set('title', patch.title);
			if (patch.updatedAt > readNumber(entry, 'updatedAt')) entry.set('updatedAt', patch.updatedAt);
		});
	}

	/** All notes, most recently edited first (ties broken by id, so every peer shows the same order). */
	listNotes(): NoteInfo[] {
		const out: NoteInfo[] = [];
		for (const [id, entry] of this.notes.entries()) {
			if (!(entry instanceof Y.Map)) continue;
			out.push({
				id,
				title: readString(entry, 'title'),
				createdAt: readNumber(entry, 'createdAt'),
				updatedAt: readNumber(entry, 'updatedAt')
			});
		}
		return out.sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1));
	}

	/** Adds an AI thread to the index. */
	createAiThread(info: AiThreadInfo): void {
		const entry = new Y.Map<unknown>();
		for (const [k, v] of Object.entries(info)) entry.set(k, v);
		this.aiThreads.set(info.id, entry);
	}

	/** All AI threads, newest first (ties broken by id). */
	listAiThreads(): AiThreadInfo[] {
		const out: AiThreadInfo[] = [];
		for (const [id, entry] of this.aiThreads.entries()) {
			if (!(entry instanceof Y.Map)) continue;
			out.push({ id, title: readString(entry, 'title'), createdAt: readNumber(entry, 'createdAt') });
		}
		return out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
	}
}
