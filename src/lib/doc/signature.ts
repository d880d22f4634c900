/**
 * Message signatures. Every message and edit is signed with the author's device key; the
 * author field is an Ed25519 libp2p peer id, which embeds the public key, so anyone can
 * verify a record without a key directory.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64, toBase64, verifyByPeerId, type DeviceKey } from './deviceKey.js';
import type { AiRecord, AskTarget, AttachmentRef, ChannelInfo, ClientBinding, DeletionMark, DeletionRecord, EditRecord, MessageRecord, ModerationMark, ReactionMark, SettingsMark, SourceRef, ToolStep } from './schema.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The bytes a message's or AI-chat record's signature covers when it is bound to the document
 * it is written in: its own signed form inside a tag naming the document (the document's id,
 * which is its Yjs guid in every store). Found in review: signatures named no document, so a
 * member of a private space replayed a member's message from it into an open channel, and an
 * AI answer from one chat into another, shown verified. Records signed before are checked in
 * their unbound form as well (see {@link verifyBound}), so they still show verified, and can
 * still be replayed; everything signed since names its document.
 */
function boundTo(docId: string, bytes: Uint8Array): Uint8Array {
	return encoder.encode(JSON.stringify(['outpost/in/1', docId, decoder.decode(bytes)]));
}

/** Whether `sig` is `author`'s signature over `bytes` bound to `docId` or, for a record signed before binding, over `bytes` alone. */
function verifyBound(author: string, bytes: Uint8Array, sig: string, docId: string | undefined): boolean {
	return (docId !== undefined && verifyBytesNow(author, boundTo(docId, bytes), sig)) || verifyBytesNow(author, bytes, sig);
}

/** The bytes a message signature covers: every field but the signature, in a fixed order. */
export function messageSigningBytes(m: Omit<MessageRecord, 'sig'>): Uint8Array {
	const fields = [m.id, m.author, m.hlc, m.text, m.parent ?? ''];
	// A question to a model (what it asks) or an answer naming its question signs every field, under a tag of its own.
	if (m.ask !== undefined || m.question !== undefined) {
		return encoder.encode(JSON.stringify(['outpost/msg/5', ...fields, m.model ?? '', m.askedBy ?? '', filesSigned(m.files ?? []), askSigned(m.ask), m.question ?? '']));
	}
	// Attached files are signed whole, in order, each field in a fixed order (a tag of its own).
	if (m.files !== undefined) {
		return encoder.encode(JSON.stringify(['outpost/msg/4', ...fields, m.model ?? '', m.askedBy ?? '', filesSigned(m.files)]));
	}
	// A model's answer also signs the model's id and who asked (separate tags, so no form can pass for another).
	if (m.model !== undefined && m.askedBy !== undefined) return encoder.encode(JSON.stringify(['outpost/msg/3', ...fields, m.model, m.askedBy]));
	if (m.model !== undefined) return encoder.encode(JSON.stringify(['outpost/msg/2', ...fields, m.model]));
	return encoder.encode(JSON.stringify(['outpost/msg/1', ...fields]));
}

/** What a question asks, as a signature covers it ('' when it asks nothing). */
function askSigned(ask: AskTarget | undefined): unknown {
	return ask === undefined ? '' : [ask.model, ask.host];
}

/** Attached files as a signature covers them: every field of every file, in a fixed order. */
function filesSigned(files: readonly AttachmentRef[]): unknown[] {
	return files.map((f) => [f.blob, f.size, f.mime, f.name, f.width ?? 0, f.height ?? 0, f.thumb ?? '', f.duration ?? -1, f.key ?? '']);
}

/** The bytes an AI-chat record's signature covers: every field but the signature, in a fixed order. */
export function aiRecordSigningBytes(r: Omit<AiRecord, 'sig'>): Uint8Array {
	const stats = r.stats === undefined ? '' : [r.stats.tokensIn, r.stats.tokensOut, r.stats.ttftMs, r.stats.tokensPerSecond];
	const fields = [r.kind, r.id, r.author, r.hlc, r.text, r.model ?? '', r.askedBy ?? '', r.status ?? '', r.error ?? '', stats, r.from ?? ''];
	// A question naming what it asks, or an answer naming its question, signs every field under a tag of its own.
	if (r.ask !== undefined || r.question !== undefined) {
		return encoder.encode(JSON.stringify(['outpost/ai/4', ...fields, filesSigned(r.files ?? []), stepsSigned(r.steps), sourcesSigned(r.sources), askSigned(r.ask), r.question ?? '']));
	}
	// An answer with tool steps or sources signs them (and any files) under a tag of its own.
	if (r.steps !== undefined || r.sources !== undefined) {
		return encoder.encode(JSON.stringify(['outpost/ai/3', ...fields, filesSigned(r.files ?? []), stepsSigned(r.steps), sourcesSigned(r.sources)]));
	}
	// A question with files signs them too, under a tag of its own.
	if (r.files !== undefined) return encoder.encode(JSON.stringify(['outpost/ai/2', ...fields, filesSigned(r.files)]));
	return encoder.encode(JSON.stringify(['outpost/ai/1', ...fields]));
}

/** An answer's tool steps as a signature covers them. */
function stepsSigned(steps: readonly ToolStep[] | undefined): unknown[] {
	return (steps ?? []).map((s) => [s.id, s.name, s.arguments, s.status, s.result ?? null, s.ms ?? null]);
}

/** An answer's sources as a signature covers them. */
function sourcesSigned(sources: readonly SourceRef[] | undefined): unknown[] {
	return (sources ?? []).map((s) => [s.n, s.kind, s.docId, s.itemId ?? null, s.offset ?? null, s.title]);
}

/** Signs an AI-chat record written in chat `docId` (see {@link boundTo}; without it, unbound: tests of older records). */
export async function signAiRecord(key: DeviceKey, r: Omit<AiRecord, 'sig'>, docId?: string): Promise<AiRecord> {
	const bytes = aiRecordSigningBytes(r);
	return { ...r, sig: await signBytes(key, docId === undefined ? bytes : boundTo(docId, bytes)) };
}

/** The bytes a client binding's signature covers: Yjs client `client` of document `docId` writes for `device`. */
export function bindingSigningBytes(b: Omit<ClientBinding, 'sig'>): Uint8Array {
	return encoder.encode(JSON.stringify(['outpost/bind/1', b.doc, b.client, b.device]));
}

/**
 * Signs a client binding at once (it is written in the same transaction as the first edit
 * it covers, which cannot wait): an Ed25519 device key's seed signs with @noble.
 */
export function signBindingNow(key: DeviceKey, b: Omit<ClientBinding, 'sig'>): ClientBinding {
	if (key.type !== 'Ed25519') throw new TypeError('client bindings are signed with an Ed25519 device key');
	const seed = key.raw.subarray(0, 32);
	return { ...b, sig: toBase64(ed25519.sign(bindingSigningBytes(b), seed)) };
}

/** Verifies a client binding's signature against its device, at once (the note write policy is synchronous). */
export function verifyBindingNow(b: ClientBinding): boolean {
	return verifyBytesNow(b.device, bindingSigningBytes(b), b.sig);
}

/** Verifies an AI-chat record's signature at once, in chat `docId` (the view folds cuts synchronously; they are few). */
export function verifyAiRecordNow(r: AiRecord, docId?: string): boolean {
	return verifyBound(r.author, aiRecordSigningBytes(r), r.sig, docId);
}

/** Verifies an AI-chat record's signature against its author, as written in chat `docId`. */
export async function verifyAiRecord(r: AiRecord, docId?: string): Promise<boolean> {
	return verifyAiRecordNow(r, docId);
}

/** The bytes an edit signature covers. */
export function editSigningBytes(e: Omit<EditRecord, 'sig'>): Uint8Array {
	if (e.end === undefined) return encoder.encode(JSON.stringify(['outpost/edit/1', e.msg, e.author, e.hlc, e.text]));
	// The final edit of a model's answer also signs how it ended, under a tag of its own.
	const { status, error, stats, steps } = e.end;
	const usage = stats === undefined ? '' : [stats.tokensIn, stats.tokensOut, stats.ttftMs, stats.tokensPerSecond];
	const calls = (steps ?? []).map((s) => [s.id, s.name, s.arguments, s.status, s.result ?? null, s.ms ?? null]);
	return encoder.encode(JSON.stringify(['outpost/edit/2', e.msg, e.author, e.hlc, e.text, status, error ?? '', usage, calls]));
}

/** The bytes a deletion signature covers. */
export function deletionSigningBytes(msgId: string, d: Omit<DeletionRecord, 'sig'>): Uint8Array {
	return encoder.encode(JSON.stringify(['outpost/del/1', msgId, d.by, d.hlc]));
}

/** Signs bytes with the device key, returning base64. */
export async function signBytes(key: DeviceKey, bytes: Uint8Array): Promise<string> {
	return toBase64(await key.sign(bytes));
}

/**
 * True when `sig` is `author`'s valid signature over `bytes`. Any malformed author or
 * signature gives false, never an exception: records come from other peers.
 */
export async function verifyBytes(author: string, bytes: Uint8Array, sig: string): Promise<boolean> {
	return verifyBytesNow(author, bytes, sig);
}

/** Whether a message's signature checks out in document `docId`, at once (for the rare choice between records of one id). */
export function verifyMessageNow(m: MessageRecord, docId?: string): boolean {
	return verifyBound(m.author, messageSigningBytes(m), m.sig, docId);
}

/** Signs a message record written in document `docId` (see {@link boundTo}; without it, unbound: tests of older records). */
export async function signMessage(key: DeviceKey, m: Omit<MessageRecord, 'sig'>, docId?: string): Promise<MessageRecord> {
	const bytes = messageSigningBytes(m);
	return { ...m, sig: await signBytes(key, docId === undefined ? bytes : boundTo(docId, bytes)) };
}

/** Verifies a message record's signature against its author, as written in document `docId`. */
export async function verifyMessage(m: MessageRecord, docId?: string): Promise<boolean> {
	return verifyMessageNow(m, docId);
}

/** Signs an edit record. */
export async function signEdit(key: DeviceKey, e: Omit<EditRecord, 'sig'>): Promise<EditRecord> {
	return { ...e, sig: await signBytes(key, editSigningBytes(e)) };
}

/** Verifies an edit record's signature against its author. */
export function verifyEdit(e: EditRecord): Promise<boolean> {
	return verifyBytes(e.author, editSigningBytes(e), e.sig);
}

/** Signs the soft deletion of a message. */
export async function signDeletion(key: DeviceKey, msgId: string, d: Omit<DeletionRecord, 'sig'>): Promise<DeletionRecord> {
	return { ...d, sig: await signBytes(key, deletionSigningBytes(msgId, d)) };
}

/** Verifies a deletion record's signature against its `by` peer. */
export function verifyDeletion(msgId: string, d: DeletionRecord): Promise<boolean> {
	return verifyBytes(d.by, deletionSigningBytes(msgId, d), d.sig);
}

/** A kind of signed mark: what its signature covers, how to sign one and how to check one. */
export interface MarkSigning<T extends { by: string; sig: string }> {
	bytes(mark: Omit<T, 'sig'>): Uint8Array;
	sign(key: DeviceKey, mark: Omit<T, 'sig'>): Promise<T>;
	/** Whether `mark.sig` is `mark.by`'s signature; never throws. */
	verify(mark: T): Promise<boolean>;
}

/** Signing for marks whose signature covers `fields(mark)` under `tag`, signed by `mark.by`. */
function markSigning<T extends { by: string; sig: string }>(tag: string, fields: (mark: Omit<T, 'sig'>) => unknown[]): MarkSigning<T> {
	const bytes = (mark: Omit<T, 'sig'>) => encoder.encode(JSON.stringify([tag, ...fields(mark)]));
	return {
		bytes,
		sign: async (key, mark) => ({ ...mark, sig: await signBytes(key, bytes(mark)) }) as T,
		verify: (mark) => verifyBytes(mark.by, bytes(mark), mark.sig)
	};
}

/** Deletion marks (hide or show again a message). */
export const deletionMarks = markSigning<DeletionMark>('outpost/del/2', (d) => [d.msg, d.by, d.hlc, d.deleted]);
/** Reaction marks. */
export const reactionMarks = markSigning<ReactionMark>('outpost/react/1', (r) => [r.msg, r.emoji, r.by, r.hlc, r.on]);
/** Moderation marks (an admin hiding a message). */
export const moderationMarks = markSigning<ModerationMark>('outpost/mod/1', (m) => [m.msg, m.by, m.hlc, m.hidden]);
/** Channel settings marks. */
export const settingsMarks = markSigning<SettingsMark>('outpost/settings/1', (m) => [m.channel, m.field, m.value, m.by, m.hlc]);

/** What a channel entry's signature covers: the channel as its creator made it. */
export type ChannelEntryFields = Omit<ChannelInfo, 'sig' | 'unverified'>;

/** The bytes a channel entry's signature covers. */
export function channelEntrySigningBytes(c: ChannelEntryFields): Uint8Array {
	return encoder.encode(JSON.stringify(['outpost/channel/1', c.id, c.name, c.topic, c.private, c.readOnly, c.archived, c.createdAt, c.createdBy]));
}

/** Signs a new channel's entry as its creator `c.createdBy`. */
export async function signChannelEntry(key: DeviceKey, c: ChannelEntryFields): Promise<ChannelInfo> {
	return { ...c, sig: await signBytes(key, channelEntrySigningBytes(c)) };
}

/** Whether `c.sig` is `c.createdBy`'s signature over the entry, at once (the channel list folds synchronously); never throws. */
export function verifyChannelEntryNow(c: ChannelInfo): boolean {
	return c.sig !== undefined && verifyBytesNow(c.createdBy, channelEntrySigningBytes(c), c.sig);
}

export const signDeletionMark = deletionMarks.sign;
export const verifyDeletionMark = deletionMarks.verify;
export const signReactionMark = reactionMarks.sign;
export const verifyReactionMark = reactionMarks.verify;
export const signModerationMark = moderationMarks.sign;
export const verifyModerationMark = moderationMarks.verify;
export const signSettingsMark = settingsMarks.sign;

/**
 * {@link verifyBytes} at once (no await), for the few records a write policy must check before
 * it answers: any malformed author or signature gives false.
 */
export function verifyBytesNow(author: string, bytes: Uint8Array, sig: string): boolean {
	let signature: Uint8Array;
	try {
		signature = fromBase64(sig);
	} catch {
		return false;
	}
	return verifyByPeerId(author, bytes, signature);
}

/** Verifies a settings mark's signature against its `by` peer, at once (a write policy's fold cannot wait). */
export function verifySettingsMark(m: SettingsMark): boolean {
	return verifyBytesNow(m.by, settingsMarks.bytes(m), m.sig);
}
