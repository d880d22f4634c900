/**
 * The Dexie database: everything local that is not a shared document. Shared documents
 * live in IndexedDB databases of their own, in y-indexeddb's layout (DocStore.ts, IdbDocStorage.ts).
 */
import Dexie, { type EntityTable } from 'dexie';
import type { KnowledgeChunkRow, KnowledgeVectorRow } from '../knowledge/IdbVectorStore.js';
import type { SearchDocRow, SearchEntryRow, SearchSnapshotRow, SearchStateRow } from './search/rows.js';

/** This device's identity: an Ed25519 key in libp2p's protobuf encoding. */
export interface IdentityRow {
	id: 'self';
	/** `privateKeyToProtobuf` bytes: the mesh uses the same key as this device's peer id. */
	privateKey: Uint8Array;
	peerId: string;
	displayName: string;
	createdAt: number;
}

/** A blob's manifest (blob/blobManifest.ts), per workspace. */
export interface BlobManifestRow {
	workspaceId: string;
	id: string;
	manifest: Uint8Array;
}

/** A verified chunk of a blob. */
export interface BlobChunkRow {
	workspaceId: string;
	id: string;
	index: number;
	bytes: Uint8Array;
}

/** A key/value setting (language, last workspace…). */
export interface SettingRow {
	key: string;
	value: unknown;
}

/** A workspace this device belongs to. Name and colour mirror the root document for the switcher. */
export interface WorkspaceRow {
	id: string;
	name: string;
	color: string;
	rosterId: string;
	/** The workspace secret: proves membership to other peers; travels only inside invites. */
	secret?: Uint8Array;
	/** Relay multiaddrs learnt from the invite this device joined with. */
	relays?: string[];
	/**
	 * Set while a joined workspace waits for its first sync (its root document, and so its
	 * roster id, name and channels, come from a peer); `rosterId` is empty until then.
	 */
	joining?: boolean;
	/**
	 * The invitation this device joins with, until the team admits it: its admission is
	 * written (and shown to peers) with it.
	 */
	invitation?: { id: string; opId: string; seed: Uint8Array };
	createdAt: number;
	lastOpenedAt: number;
	lastChannelId?: string;
}

/** Per-channel bookkeeping: read position, unread tally and what this device has seen. */
export interface ChannelStateRow {
	workspaceId: string;
	channelId: string;
	/** Clock of the newest message the user has seen. */
	lastReadHlc: string;
	/** Unread messages by others, as last counted. */
	unread: number;
	/** Newest clock this device had when it last saw the channel (for "arrived later"). */
	maxHlc: string;
	/** The channel document's state vector when `maxHlc` was recorded. */
	knownSv?: Uint8Array;
	/** Key of the document's newest stored update when `unread` was counted (unchanged → still right). */
	storedKey?: number;
}

/** A message that reached this device long after it was written. */
export interface LateArrivalRow {
	channelId: string;
	msgId: string;
	arrivedAt: number;
}

/** A document's state-vector hash, so the mesh can compare digests without loading documents. */
export interface DigestRow {
	docId: string;
	/** `docDigest` of the document (mesh/syncDocs.ts); '' for an empty document. */
	svHash: string;
	updatedAt: number;
	/** Key of the document's newest stored update when the digest was taken (unchanged → still right). */
	storedKey?: number;
}

/** A channel's notification level on this device (state/notify/); a channel without a row has its default. */
export interface NotifyLevelRow {
	workspaceId: string;
	channelId: string;
	/** `all`, `mentions` or `nothing` (doc/notifyRules.ts). */
	level: string;
}

/** Outpost's local database. */
export class OutpostDb extends Dexie {
	identity!: EntityTable<IdentityRow, 'id'>;
	settings!: EntityTable<SettingRow, 'key'>;
	workspaces!: EntityTable<WorkspaceRow, 'id'>;
	channelState!: Dexie.Table<ChannelStateRow, [string, string]>;
	lateArrivals!: Dexie.Table<LateArrivalRow, [string, string]>;
	digests!: EntityTable<DigestRow, 'docId'>;
	/** Full-text search (store/search/): indexed items, per-document progress, index snapshots. */
	searchEntries!: EntityTable<SearchEntryRow, 'id'>;
	searchDocs!: EntityTable<SearchDocRow, 'id'>;
	searchState!: EntityTable<SearchStateRow, 'workspaceId'>;
	searchSnapshots!: EntityTable<SearchSnapshotRow, 'workspaceId'>;
	/** Per-channel notification levels of this device. */
	notifyLevels!: Dexie.Table<NotifyLevelRow, [string, string]>;
	/** Blobs (attachments): manifests and verified chunks (IdbBlobStore.ts). */
	blobManifests!: Dexie.Table<BlobManifestRow, [string, string]>;
	blobChunks!: Dexie.Table<BlobChunkRow, [string, string, number]>;
	/** Retrieval (knowledge/IdbVectorStore.ts): chunks of notes and messages, and their vectors per embedder. */
	knowledgeChunks!: Dexie.Table<KnowledgeChunkRow, [string, string]>;
	knowledgeVectors!: Dexie.Table<KnowledgeVectorRow, [string, string, string]>;

	constructor(name = 'outpost') {
		super(name);
		this.version(1).stores({
			identity: 'id',
			settings: 'key',
			workspaces: 'id, lastOpenedAt',
			channelState: '[workspaceId+channelId], workspaceId',
			lateArrivals: '[channelId+msgId], channelId',
			digests: 'docId'
		});
		// Version 2 adds the search tables; version 1's tables are unchanged.
		this.version(2).stores({
			searchEntries: 'id, workspaceId, [workspaceId+docId]',
			searchDocs: 'id, workspaceId',
			searchState: 'workspaceId',
			searchSnapshots: 'workspaceId'
		});
		// Version 3 adds the notification levels; earlier tables are unchanged.
		this.version(3).stores({
			notifyLevels: '[workspaceId+channelId], workspaceId'
		});
		// Version 4 adds blobs; earlier tables are unchanged.
		this.version(4).stores({
			blobManifests: '[workspaceId+id]',
			blobChunks: '[workspaceId+id+index], [workspaceId+id]'
		});
		// Version 5 adds retrieval's chunks and vectors; earlier tables are unchanged.
		this.version(5).stores({
			knowledgeChunks: '[workspaceId+id], workspaceId',
			knowledgeVectors: '[workspaceId+embedderId+id], [workspaceId+embedderId], [workspaceId+id]'
		});
	}
}
