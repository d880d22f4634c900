/**
 * The shapes of Outpost's shared documents (DESIGN.md, "Documents"). Every type here is a
 * plain record stored inside a Yjs document; the accessors in this folder read and write them.
 *
 * A message is one immutable record (one Yjs item); what changes later (edits, reactions,
 * deletion) lives in side structures keyed by message id, so a 100,000-message channel is one
 * array of small records plus a few sparse maps.
 */

/** The kinds of shared document a workspace holds. */
export const DocKind = {
	workspace: 'workspace',
	roster: 'roster',
	channel: 'channel',
	note: 'note',
	aiThread: 'ai-thread'
} as const;
export type DocKind = (typeof DocKind)[keyof typeof DocKind];

/** Member roles, most to least powerful. Guests read only. */
export const Role = { owner: 'owner', admin: 'admin', member: 'member', guest: 'guest' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * A file attached to a message: a reference to a content-addressed blob (blob/blobManifest.ts)
 * and what a view shows before the bytes arrive. Signed as part of its message.
 */
export interface AttachmentRef {
	/** The blob's id: lower-case hex SHA-256 of its manifest. */
	blob: string;
	/** Bytes. */
	size: number;
	/** MIME type as the sender's device named it (shown, never trusted to run anything). */
	mime: string;
	/** File name (a display name only). */
	name: string;
	/** An image's size in pixels, when known. */
	width?: number;
	height?: number;
	/** A small preview of an image: a `data:image/jpeg;base64,` or `data:image/png;base64,` URL of at most 16 KiB. */
	thumb?: string;
	/** A recording's length in milliseconds (a voice note). */
	duration?: number;
	/**
	 * In a private space: the file's AES-256-GCM key (base64url), and `blob` names the sealed
	 * blob (blob/blobSeal.ts); `size` stays the file's own.
	 */
	key?: string;
}

/** A channel message (or thread reply when `parent` is set), as stored. */
export interface MessageRecord {
	/** Random id (ids.ts). */
	id: string;
	/** The author's libp2p peer id (an Ed25519 key). */
	author: string;
	/** The author's hybrid-logical-clock timestamp (hlc.ts); orders the channel. */
	hlc: string;
	/** Markdown source. */
	text: string;
	/** Parent message id for a thread reply. */
	parent?: string;
	/**
	 * Set when the message is a model's answer (`@model question` in a channel): the model
	 * id. `author` is then the peer that ran the model; the text streams into the channel's
	 * `answers` map (ChannelDoc) and the final text is a signed edit by that peer.
	 */
	model?: string;
	/** A model's answer: the member who asked, as the answering peer signs it. */
	askedBy?: string;
	/**
	 * A model's answer: the id of the question it answers, a message of the same channel that
	 * `askedBy` signed naming this model and this answer's author ({@link AskTarget}); without
	 * it, who asked is not proven (channelRights.ts `provenAsker`).
	 */
	question?: string;
	/** A question to a model (`@model question`): what it asks, signed with it. */
	ask?: AskTarget;
	/** Attached files (blobs), signed with the message. */
	files?: AttachmentRef[];
	/** Base64 Ed25519 signature over {@link messageSigningBytes}. */
	sig: string;
}

/**
 * What a question asks, signed by its asker: the model, and the peer that is to write the answer
 * (the host serving the model, or the asker's own device when the model or the tool loop runs
 * there). An answer counts as asked by the question's author only when it names such a question
 * and its signer is `host` (found in review: nothing tied an answer to a question, so a relay
 * device posted "answers" asked by the owner into read-only channels, and a member signed
 * answers "asked by" another member in AI chats).
 */
export interface AskTarget {
	model: string;
	host: string;
}

/** One edit of a message: the new text, signed by the message's author. */
export interface EditRecord {
	/** The edited message. */
	msg: string;
	author: string;
	hlc: string;
	text: string;
	/** Set on the final edit of a model's answer in a channel: how it ended, signed with its text. */
	end?: AnswerEnd;
	sig: string;
}

/**
 * How a model's answer in a channel ended, signed by the device that wrote it (the answering
 * host, or the asker whose tool loop ran), so its status, usage and tool calls are as hard to
 * rewrite as its text: views show these, not the live entry, once the final edit exists.
 */
export interface AnswerEnd {
	status: AiStatus;
	error?: string;
	stats?: GenerationStats;
	/** The tool calls the model made (aiSteps.ts bounds). */
	steps?: ToolStep[];
}

/** A soft deletion: the message stays in history, its text is hidden. */
export interface DeletionRecord {
	by: string;
	hlc: string;
	/** Base64 signature by `by` over {@link deletionSigningBytes} (signature.ts). */
	sig: string;
}

/**
 * A deletion or restoration of a message by its author, kept under its own key (ChannelDoc
 * `markKey`): the author's newest mark decides. Marks are never removed or overwritten.
 */
export interface DeletionMark {
	msg: string;
	by: string;
	hlc: string;
	/** True: hidden from now on; false: shown again. */
	deleted: boolean;
	/** Base64 signature by `by` over {@link deletionMarkSigningBytes} (signature.ts). */
	sig: string;
}

/** One peer's reaction to a message turned on or off; its newest mark decides. */
export interface ReactionMark {
	msg: string;
	emoji: string;
	by: string;
	hlc: string;
	on: boolean;
	sig: string;
}

/**
 * An admin hiding a message (or showing it again): a moderation mark, kept under its own key.
 * The newest mark by a current admin or owner decides; nothing is removed, so a hidden
 * message says who hid it and when.
 */
export interface ModerationMark {
	msg: string;
	by: string;
	hlc: string;
	hidden: boolean;
	sig: string;
}

/** The channel settings a {@link SettingsMark} may change, with their value types. */
export interface ChannelSettingValues {
	name: string;
	topic: string;
	readOnly: boolean;
	archived: boolean;
}

/**
 * A change of one channel setting after the channel was created, kept in the workspace root
 * under its own key: the newest mark by a current admin or owner whose signature verifies
 * decides; marks by anyone else change nothing.
 */
export interface SettingsMark {
	channel: string;
	field: keyof ChannelSettingValues;
	value: string | boolean;
	by: string;
	hlc: string;
	sig: string;
}

/** A channel's settings as kept in the workspace root. */
export interface ChannelInfo {
	id: string;
	name: string;
	topic: string;
	/** Only listed members may read (enforced by the mesh issue). */
	private: boolean;
	/** Only admins may post (enforced by the mesh issue). */
	readOnly: boolean;
	archived: boolean;
	createdAt: number;
	createdBy: string;
	/**
	 * The creator's signature over the entry as created (`channelEntries` in signature.ts);
	 * absent on channels made before entries were signed.
	 */
	sig?: string;
	/**
	 * Set by the view, never stored: the channel is listed although its creation does not count
	 * (unsigned, badly signed, or by a device that may not create channels), for an admin to keep
	 * or leave. Nobody else is shown such a channel.
	 */
	unverified?: boolean;
}

/** A note's entry in the workspace root's note index. */
export interface NoteInfo {
	id: string;
	title: string;
	createdAt: number;
	updatedAt: number;
}

/** An AI thread's entry in the workspace root's thread index. */
export interface AiThreadInfo {
	id: string;
	title: string;
	createdAt: number;
}

/** A workspace member in the roster. */
export interface Member {
	peerId: string;
	name: string;
	role: Role;
	joinedAt: number;
}

/** Lifecycle of an assistant message in an AI thread. */
export const AiStatus = {
	queued: 'queued',
	streaming: 'streaming',
	done: 'done',
	failed: 'failed',
	cancelled: 'cancelled'
} as const;
export type AiStatus = (typeof AiStatus)[keyof typeof AiStatus];

/**
 * A note's client binding (NoteDoc `bindings`, keyed by the client id): Yjs client `client`
 * of document `doc` writes for member device `device`, which signs it. A note with bindings
 * accepts new items only from bound clients of devices allowed to write (notePolicy.ts).
 */
export interface ClientBinding {
	doc: string;
	client: number;
	device: string;
	sig: string;
}

/** Kinds of signed AI-chat records (AiThreadDoc `records`). */
export const AiRecordKind = { user: 'user', answer: 'answer', cut: 'cut' } as const;
export type AiRecordKind = (typeof AiRecordKind)[keyof typeof AiRecordKind];

/**
 * A signed turn of an AI chat: a question (`user`, signed by the asker), a finished answer
 * (`answer`, signed by the peer that ran the model, with its model, who asked, how it ended
 * and its stats), or a `cut` (signed by whoever edited or regenerated: the conversation drops
 * the messages from `from` up to the cut). Records only accumulate (aiThreadPolicy.ts).
 */
export interface AiRecord {
	kind: AiRecordKind;
	/** The message's id (a question or answer), or the cut's own id. */
	id: string;
	/** Peer id of the signer. */
	author: string;
	hlc: string;
	text: string;
	model?: string;
	/** An answer: the peer id of the member who asked (shown only when it signed the question named by `question`). */
	askedBy?: string;
	/** An answer: the id of the signed question it answers (see {@link AskTarget}). */
	question?: string;
	/** A question: the model it asks and the peer to write the answer. */
	ask?: AskTarget;
	/** An answer: done, failed or cancelled. */
	status?: AiStatus;
	error?: string;
	stats?: GenerationStats;
	/** A cut: the first message it drops. */
	from?: string;
	/** A question: the files attached to it. */
	files?: AttachmentRef[];
	/** An answer: the tools the model called while answering, with their results. */
	steps?: ToolStep[];
	/** An answer from workspace knowledge: the sources it was given, cited as [n]. */
	sources?: SourceRef[];
	/** Base64 Ed25519 signature over {@link aiRecordSigningBytes} (signature.ts). */
	sig: string;
}

/** Where a tool call of an answer stands: running, waiting for the user, or how it ended. */
export type ToolStepStatus = 'running' | 'approval' | 'done' | 'error' | 'denied';

/** A tool the model called while answering (issue 15), shown folded under the answer. */
export interface ToolStep {
	/** The call's id. */
	id: string;
	name: string;
	/** The arguments as the model wrote them (JSON text, cut to aiSteps.ts's bound). */
	arguments: string;
	status: ToolStepStatus;
	/** What the tool returned (cut to aiSteps.ts's bound). */
	result?: string;
	/** How long it ran, in ms. */
	ms?: number;
}

/** A source a knowledge answer was given: a chunk of a note or a message, cited as `[n]`. */
export interface SourceRef {
	/** Its number in the answer's citations (1-based). */
	n: number;
	kind: 'note' | 'message';
	/** The note's or channel's document. */
	docId: string;
	/** The message's id (a message), or the chunk's place in the note (a note: its character offset). */
	itemId?: string;
	offset?: number;
	title: string;
}

/** Generation statistics recorded with an assistant message. */
export interface GenerationStats {
	tokensIn: number;
	tokensOut: number;
	/** Time to first token, milliseconds. */
	ttftMs: number;
	tokensPerSecond: number;
}
