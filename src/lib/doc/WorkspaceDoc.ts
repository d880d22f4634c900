/**
 * Typed accessors over a workspace root document: the workspace's name and colour, and the
 * indexes of its channels, notes and AI threads. Each index entry is a Y.Map.
 *
 * A channel's entry holds its settings as its creator made them, set once (rootPolicy.ts
 * refuses changes to it). Later changes are signed {@link SettingsMark}s in `channelSettings`,
 * one key per mark; a channel's settings are its entry with, per field, the newest mark the
 * caller accepts (a current admin's or owner's whose signature verifies) on top.
 *
 * The entry is signed by its creator (`sig`); a view lists a channel only when its creation
 * counts (a valid signature by a device allowed to create channels: channelRights.ts) or an
 * admin kept it with a counted settings mark. So a guest, a relay or a stranger that writes an
 * entry with a modified client adds nothing anyone is shown.
 *
 * An entry under an id of the space form (team/teamId.ts `isSpaceId`) lists nothing, in any
 * index: that id is a private space's, or one a member derived to claim as a space later
 * (rootPolicy.ts refuses such entries; this holds for any written before or locally).
 */
import * as Y from 'yjs';
import { fitsKey, keyNames, markKey } from './markKey.js';
import { compareHlc } from './hlc.js';
import type { AiThreadInfo, ChannelInfo, NoteInfo, SettingsMark } from './schema.js';
import { isSettingsMark } from './validate.js';
import { isSpaceId } from './team/teamId.js';

/** The map key of a settings mark: its fields, what it sets, then its signature (markKey.ts). */
export function settingsKey(m: Pick<SettingsMark, 'channel' | 'field' | 'by' | 'hlc' | 'value' | 'sig'>): string {
	return markKey([m.channel, m.field, m.by, m.hlc], [JSON.stringify(m.value)], m.sig);
}

/** The write policy's check of each new settings entry (markKey.ts `fitsKey`). */
export function settingsEntryFits(key: string, value: unknown): boolean {
	return fitsKey(key, 6, value, (v) => (isSettingsMark(v) ? settingsKey(v) : undefined));
}

/** The settings mark stored under `key`, or undefined when malformed or under another key. */
export function readSettings(key: string, value: unknown): SettingsMark | undefined {
	return isSettingsMark(value) && keyNames(key, [value.channel, value.field, value.by, value.hlc], [JSON.stringify(value.value)], value.sig) ? value : undefined;
}

/**
 * Which settings marks count: a current admin's or the owner's, signed (channelRights.ts
 * `acceptSettings`). Callers say so every time: a default that took every mark would let any
 * member rename a channel wherever it was forgotten.
 */
export type AcceptMark = (mark: SettingsMark) => boolean;

/** For callers with no team at hand: channels as their creators made them. */
export const creatorsSettings: AcceptMark = () => false;

/**
 * Which channels a view lists, and with which settings (channelRights.ts `channelRules` builds
 * them from the team). Callers pass them every time, for the reason given at {@link AcceptMark}.
 */
export interface ChannelRules {
	/** Which settings marks count. */
	settings: AcceptMark;
	/**
	 * Whether a channel's creation counts (its entry as created, with its signature): only such
	 * channels are listed, and those an admin kept with a counted settings mark.
	 */
	creation: (entry: ChannelInfo) => boolean;
	/** Also list channels whose creation does not count, marked `unverified` (for admins, to keep or leave). */
	withUnverified?: boolean;
}

/**
 * For callers with no team at hand (tests, an export without a team): every channel as its
 * creator made it, whoever created it.
 */
export const creatorsChannels: ChannelRules = { settings: creatorsSettings, creation: () => true };

/** Colours offered for a workspace icon. */
export const WORKSPACE_COLORS = ['#1f6f5c', '#2f5fb3', '#8a3ffc', '#c0392b', '#d35400', '#7f8c8d'] as const;

/**
 * `value` when it is one of {@link WORKSPACE_COLORS}, else the first. Any member writes the
 * root's colour, and the rail puts it in a style (found in review: "red; position: fixed;
 * inset: 0; background-image: url(…)" laid an invisible button over the app and made every
 * member's app fetch a remote address).
 */
export function workspaceColor(value: unknown): string {
	return (WORKSPACE_COLORS as readonly unknown[]).includes(value) ? (value as string) : WORKSPACE_COLORS[0];
}

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
	/** Signed changes of channel settings; read with {@link readSettings}. */
	readonly channelSettings: Y.Map<unknown>;

	constructor(readonly doc: Y.Doc) {
		this.meta = doc.getMap('meta');
		this.channels = doc.getMap('channels');
		this.notes = doc.getMap('notes');
		this.aiThreads = doc.getMap('aiThreads');
		this.settings = doc.getMap('settings');
		this.channelSettings = doc.getMap('channelSettings');
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
		return workspaceColor(this.meta.get('color'));
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
		for (const [k, v] of Object.entries(info)) if (k !== 'unverified' && v !== undefined) entry.set(k, v);
		this.channels.set(info.id, entry);
	}

	/** Records a signed change of a channel setting. */
	markSetting(mark: SettingsMark): void {
		this.channelSettings.set(settingsKey(mark), mark);
	}

	/** Every well-formed settings mark, by channel, newest first. */
	settingsIndex(): Map<string, SettingsMark[]> {
		const index = new Map<string, SettingsMark[]>();
		this.channelSettings.forEach((value, key) => {
			const mark = readSettings(key, value);
			if (!mark) return;
			const list = index.get(mark.channel) ?? [];
			list.push(mark);
			index.set(mark.channel, list);
		});
		for (const list of index.values()) list.sort((a, b) => compareHlc(b.hlc, a.hlc) || (a.by < b.by ? 1 : -1));
		return index;
	}

	/**
	 * One channel's settings (its entry, then the newest accepted mark per field), or undefined
	 * when there is no such channel or `rules` do not list it.
	 */
	channel(id: string, rules: ChannelRules, index?: Map<string, SettingsMark[]>): ChannelInfo | undefined {
		const entry = this.channels.get(id);
		if (!(entry instanceof Y.Map) || isSpaceId(id)) return undefined;
		const created: ChannelInfo = {
			id,
			name: readString(entry, 'name', id.slice(0, 8)),
			topic: readString(entry, 'topic'),
			private: entry.get('private') === true,
			readOnly: entry.get('readOnly') === true,
			archived: entry.get('archived') === true,
			createdAt: readNumber(entry, 'createdAt'),
			createdBy: readString(entry, 'createdBy')
		};
		const sig = entry.get('sig');
		if (typeof sig === 'string') created.sig = sig;
		const info: ChannelInfo = { ...created };
		const marks = (index ?? this.settingsIndex()).get(id) ?? [];
		const decided = new Set<string>();
		for (const mark of marks) {
			if (decided.has(mark.field) || !rules.settings(mark)) continue;
			decided.add(mark.field);
			(info as unknown as Record<string, unknown>)[mark.field] = mark.value; // isSettingsMark checked the value's type
		}
		// A counted settings mark is an admin's act on the channel: it keeps a channel whose creation does not count.
		if (decided.size > 0 || rules.creation(created)) return info;
		return rules.withUnverified === true ? { ...info, unverified: true } : undefined;
	}

	/** All listed channels, oldest first (ties broken by id, so every peer shows the same order). */
	listChannels(rules: ChannelRules): ChannelInfo[] {
		const index = this.settingsIndex();
		const out: ChannelInfo[] = [];
		for (const id of this.channels.keys()) {
			const c = this.channel(id, rules, index);
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
			if (!(entry instanceof Y.Map) || isSpaceId(id)) continue;
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
			if (!(entry instanceof Y.Map) || isSpaceId(id)) continue;
			out.push({ id, title: readString(entry, 'title'), createdAt: readNumber(entry, 'createdAt') });
		}
		return out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
	}
}
