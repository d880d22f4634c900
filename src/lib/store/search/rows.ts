/**
 * The Dexie rows of full-text search (tables declared in ../db.ts, version 2). See
 * SearchIndex.ts for how they fit together.
 */

/** What kind of item a search entry is. */
export const SearchKind = { message: 'message', ai: 'ai', note: 'note' } as const;
export type SearchKind = (typeof SearchKind)[keyof typeof SearchKind];

/** One searchable item: a channel message or thread reply, an AI-chat message, or a note. */
export interface SearchEntry {
	/** The document holding it (channel, AI thread or note id). */
	docId: string;
	/** The message id; for a note, the note id again. */
	itemId: string;
	kind: SearchKind;
	/** Thread replies: the parent message's id. */
	parent?: string;
	/** Message author (peer id): only the author's edits count. */
	author?: string;
	/** A note's title. */
	title?: string;
	/**
	 * The text: a message's newest edit that the channel's rules show, a note's Markdown body;
	 * at most {@link MAX_ENTRY_TEXT} characters.
	 */
	text: string;
	/** Wall-clock milliseconds of the item (0 when unknown); ranks ties, newest first. */
	time: number;
	/** Clock of the version of the text that is indexed (the message's or its newest edit's). */
	textHlc?: string;
}

/** A stored {@link SearchEntry}, keyed by workspace. */
export interface SearchEntryRow extends SearchEntry {
	/** `workspaceId|docId|itemId`. */
	id: string;
	workspaceId: string;
}

/** What the indexer has indexed of one document. */
export interface SearchDocRow {
	/** `workspaceId|docId`. */
	id: string;
	workspaceId: string;
	docId: string;
	/** The document's state vector when it was indexed. */
	sv: Uint8Array;
	/** Key of the document's newest stored update then (unchanged → nothing new to index). */
	storedKey?: number;
	/** Channels: the ids of messages dropped because their author deleted them. */
	deleted?: string[];
	/** AI threads: the ids of the messages indexed (to drop removed ones). */
	items?: string[];
	/** Channels: the devices whose roles decide whether its edits show (editRules.ts `editorsOf`), sorted. */
	editors?: string[];
	/** Channels: what the posting rules said about those edits when indexed (editRules.ts `editRulesKey`). */
	rulesKey?: string;
	/** Channels: how many of its records and marks had been removed then (ChannelRecords.ts `removed`; another count: read it whole). */
	removed?: number;
	/** {@link SEARCH_FORMAT} when written; another value means "index again". */
	format: number;
}

/** The change counter of a workspace's entries (a snapshot is trusted only at the same count). */
export interface SearchStateRow {
	workspaceId: string;
	stamp: number;
	format: number;
}

/** A serialised MiniSearch index of a workspace's entries, taken at `stamp`. */
export interface SearchSnapshotRow {
	workspaceId: string;
	stamp: number;
	format: number;
	json: string;
}

/**
 * Version of the tokenizer and entry layout. Raising it makes every device rebuild its
 * snapshots and index every document again. 2: edits the channel's rules refuse, unsigned
 * AI-chat entries and texts past {@link MAX_ENTRY_TEXT} are no longer indexed (indexes of 1
 * hold them).
 */
export const SEARCH_FORMAT = 2;

/**
 * Most characters of an entry's text that are indexed and stored (messages are at most
 * 40,000; a note or an AI-chat message may be longer, and tokenizing megabytes at once
 * would hold the page).
 */
export const MAX_ENTRY_TEXT = 100_000;

/** `text` cut to {@link MAX_ENTRY_TEXT} characters. */
export function boundedText(text: string): string {
	return text.length > MAX_ENTRY_TEXT ? text.slice(0, MAX_ENTRY_TEXT) : text;
}

/** Key of an entry row. */
export function entryRowId(workspaceId: string, docId: string, itemId: string): string {
	return `${workspaceId}|${docId}|${itemId}`;
}

/** Key of a document's progress row. */
export function docRowId(workspaceId: string, docId: string): string {
	return `${workspaceId}|${docId}`;
}

/** Whether a stored row has the shape of an entry (rows are read back defensively). */
export function isEntryRow(v: unknown): v is SearchEntryRow {
	if (typeof v !== 'object' || v === null) return false;
	const r = v as Record<string, unknown>;
	return (
		typeof r.id === 'string' &&
		typeof r.docId === 'string' &&
		typeof r.itemId === 'string' &&
		typeof r.text === 'string' &&
		(r.kind === SearchKind.message || r.kind === SearchKind.ai || r.kind === SearchKind.note) &&
		(r.title === undefined || typeof r.title === 'string') &&
		typeof r.time === 'number'
	);
}
