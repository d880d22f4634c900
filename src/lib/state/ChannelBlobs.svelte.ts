/**
 * Runes state for the attachments of one channel (its messages and thread replies): adds
 * picked files as blobs of the workspace, fetches the blobs messages name from the peers of
 * the mesh with progress, and hands the views object URLs of the blobs held.
 */
import type { AttachmentRef } from '../doc/schema.js';
import { DEFAULT_FILE_POLICY, fileVerdict, type FilePolicy } from '../doc/team/filePolicy.js';
import { newBlobKey, openBlob, sealBlob } from '../blob/blobSeal.js';
import type { BlobManifest } from '../blob/blobManifest.js';
import { referencedBlobSize } from '../blob/blobAdmission.js';
import { shownFileName } from '../doc/fileNames.js';

/**
 * Why a fetch failed, for the view to say in the user's language; `mismatch`: the blob is not
 * the size its reference says (a modified sender's client), so it is neither fetched nor shown;
 * `budget`: an automatic fetch past the device's storage budget for blobs (blob/blobBudget.ts),
 * shown as not downloaded, with Download; `noSpace`: the device's storage has no room for a
 * file the user asked for.
 */
export type BlobFailure = 'offline' | 'unavailable' | 'mismatch' | 'budget' | 'noSpace' | 'other';

/** Why a fetch starts: the view showed the file (`auto`, within the budget), or the user asked for it (`opened`). */
export type FetchReason = 'auto' | 'opened';

/** Where a blob stands on this device; `blocked`: the workspace's file policy forbids it (too large, or its type). */
export type BlobPhase = 'missing' | 'fetching' | 'ready' | 'failed' | 'blocked';

/** What a view shows of a blob. */
export interface BlobStatus {
	phase: BlobPhase;
	/** Bytes held (of `size`). */
	held: number;
	size: number;
	/** Why the last fetch failed (phase `failed`): no peer connected, no peer had (all of) it, not the size its reference says, or another error. */
	error?: BlobFailure;
	/** Why the policy forbids it (phase `blocked`). */
	blocked?: 'tooLarge' | 'blocked';
}

/** A preview of an image, made on the sender's device (ui/attachments/thumbnail.ts). */
export interface ImagePreview {
	width: number;
	height: number;
	/** A data URL of at most MAX_THUMB_LENGTH characters. */
	thumb: string;
}

/** What a reference carries besides the bytes: an image's size and preview, a recording's length. */
export type AttachmentDetails = Partial<ImagePreview> & { duration?: number };

/** Limits the views apply (from the workspace's file policy: doc/team/filePolicy.ts). */
export interface AttachmentLimits {
	/** Largest file that may be attached. */
	maxBytes: number;
	/** Images up to this size are fetched as soon as their message shows; larger files when opened. */
	autoFetchImageBytes: number;
	/** Most files on one message. */
	maxFiles: number;
}

/** The platform below {@link ChannelBlobs}: the device's blobs of one workspace (DeviceBlobs). */
export interface BlobAccess {
	/** Stores bytes as a blob; `onProgress` gets bytes stored so far. */
	put(bytes: Uint8Array, onProgress?: (done: number, total: number) => void): Promise<BlobManifest>;
	/** Bytes held of a blob, and its size when its manifest is known. */
	held(blobId: string): Promise<{ held: number; size: number | undefined }>;
	/** The whole blob, when every chunk is held. */
	read(blobId: string): Promise<Uint8Array | undefined>;
	/**
	 * Fetches the blob reference `ref` of document `docId` names from the mesh's peers, only
	 * if it is the size the reference says (BlobRefusedError otherwise: blob/blobAdmission.ts),
	 * and, fetched automatically, within the device's budget (BudgetReachedError otherwise;
	 * DeviceFullError when the user asked and the device has no room: blob/blobBudget.ts).
	 */
	fetch(
		docId: string,
		ref: Pick<AttachmentRef, 'blob' | 'size' | 'key'>,
		onProgress: (held: number, size: number) => void,
		signal: AbortSignal,
		reason?: FetchReason
	): Promise<void>;
	/** The user opened a blob held: it is kept (never dropped to make room for automatic fetches). */
	keep(blobId: string): Promise<void>;
	/** Asks the relays outside private space `docId` to keep its sealed blobs; resolves with how many requests they took. */
	keepOnRelays(docId: string, blobIds: readonly string[]): Promise<number>;
	/** Asks those relays to drop the sealed blobs `blobIds` of `docId` no message there shows any more; resolves with how many they dropped. */
	dropOnRelays?(docId: string, blobIds: readonly string[]): Promise<number>;
}

/** The limits a file policy sets. */
export function limitsOf(policy: FilePolicy): AttachmentLimits {
	return { maxBytes: policy.maxBytes, autoFetchImageBytes: policy.autoFetchBytes, maxFiles: 10 };
}

export const DEFAULT_LIMITS: AttachmentLimits = limitsOf(DEFAULT_FILE_POLICY);

/** Image types shown inline (never SVG: it can carry script). */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Audio types played inline (voice notes). */
export const INLINE_AUDIO_TYPES: ReadonlySet<string> = new Set(['audio/webm', 'audio/ogg', 'audio/mp4', 'audio/mpeg', 'audio/wav']);

/** The MIME type without parameters, lower case (`audio/webm;codecs=opus` → `audio/webm`). */
export function baseType(mime: string): string {
	return mime.split(';')[0]!.trim().toLowerCase();
}

/**
 * Whether a device fetches `ref` as soon as it is referenced: an inline image or a voice note
 * up to the policy's size. The reference's size is only claimed, but the fetch takes no blob
 * of another size (BlobAccess.fetch), so the claim bounds what is fetched.
 */
export function autoFetches(ref: AttachmentRef, limits: AttachmentLimits = DEFAULT_LIMITS): boolean {
	const type = baseType(ref.mime);
	return (INLINE_IMAGE_TYPES.has(type) || INLINE_AUDIO_TYPES.has(type)) && ref.size <= limits.autoFetchImageBytes;
}

/** What this device knows of one blob. */
interface Entry {
	status: BlobStatus;
	url?: string;
	/** The fetch under way. */
	stop?: AbortController;
	/** The first look at the store, under way. */
	checking?: Promise<void>;
	/** Fetches tried again after a failure, and the next one's timer. */
	retries?: number;
	retry?: ReturnType<typeof setTimeout>;
}

/** Waits before a failed fetch is tried again on its own (then only Retry tries again). */
const RETRY_MS = [2_000, 5_000, 15_000, 30_000];

/** See the module comment. */
export class ChannelBlobs {
	/** Bumps whenever a status or URL changes. */
	version = $state(0);
	/** By {@link entryKey}. */
	private readonly entries = new Map<string, Entry>();
	private destroyed = false;

	constructor(
		private readonly access: BlobAccess,
		readonly docId: string,
		/** The workspace's file policy now (asked on every use: an admin may change it). */
		private readonly policy: () => FilePolicy = () => DEFAULT_FILE_POLICY,
		/** Whether the channel is a private space's (its files are sealed: blob/blobSeal.ts). */
		private readonly isPrivate: () => boolean = () => false
	) {}

	/** The limits the workspace's file policy sets now. */
	get limits(): AttachmentLimits {
		return limitsOf(this.policy());
	}

	/** Where blob `ref` stands (reactive: reads {@link version}). */
	status(ref: AttachmentRef): BlobStatus {
		void this.version;
		const verdict = fileVerdict(this.policy(), ref);
		if (verdict !== 'ok') return { phase: 'blocked', held: 0, size: ref.size, blocked: verdict };
		return this.entry(ref).status;
	}

	/** An object URL of the whole blob once held (typed with the reference's MIME type), else undefined. Reactive. */
	url(ref: AttachmentRef): string | undefined {
		void this.version;
		return this.entry(ref).url;
	}

	/** The entry of `ref`, made on first use; its first use looks at what the store holds. */
	private entry(ref: AttachmentRef): Entry {
		let entry = this.entries.get(entryKey(ref));
		if (entry !== undefined) return entry;
		entry = { status: { phase: 'missing', held: 0, size: ref.size } };
		this.entries.set(entryKey(ref), entry);
		const made = entry;
		made.checking = this.refresh(ref, made);
		return made;
	}

	/** Reads what the store holds of `ref` into its entry (and makes its URL when whole). */
	private async refresh(ref: AttachmentRef, entry: Entry): Promise<void> {
		try {
			const { held, size } = await this.access.held(ref.blob);
			// A blob held already (from another message) that is not what this reference says is not shown under it.
			if (size !== undefined && size !== referencedBlobSize(ref)) this.set(entry, { phase: 'failed', held: 0, size: ref.size, error: 'mismatch' });
			else if (size !== undefined && held === size) await this.makeUrl(ref, entry);
			else if (entry.status.phase === 'missing') this.set(entry, { phase: 'missing', held, size: ref.size });
		} catch (error) {
			this.set(entry, { phase: 'failed', held: 0, size: ref.size, error: describe(error) });
		}
	}

	private async makeUrl(ref: AttachmentRef, entry: Entry): Promise<void> {
		const held = await this.access.read(ref.blob);
		if (held === undefined || this.destroyed) return;
		// A private space's file is held sealed; it opens with the key its (signed) reference carries.
		const bytes = ref.key === undefined ? held : await openBlob(held, ref.key);
		if (entry.url === undefined) entry.url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: safeType(ref.mime) }));
		this.set(entry, { phase: 'ready', held: bytes.byteLength, size: bytes.byteLength });
	}

	private set(entry: Entry, status: BlobStatus): void {
		entry.status = status;
		this.version++;
	}

	/**
	 * Starts fetching blob `ref` from the mesh (nothing when held or already fetching): `auto`
	 * when the view fetches it on its own (within the device's budget), else the user asked.
	 */
	fetch(ref: AttachmentRef, reason: FetchReason = 'opened'): void {
		void this.fetched(ref, reason);
	}

	/** The user opened `ref` (full size): once held it is kept, never dropped to make room. */
	opened(ref: AttachmentRef): void {
		void this.access.keep(ref.blob).catch((error: unknown) => console.info('blobs: not marked as opened', error));
	}

	/** Fetches `ref` (when not held) and resolves once it is held or the fetch failed. */
	private async fetched(ref: AttachmentRef, reason: FetchReason = 'opened'): Promise<void> {
		if (fileVerdict(this.policy(), ref) !== 'ok') return; // no replica serves it either
		const entry = this.entry(ref);
		clearTimeout(entry.retry);
		await entry.checking;
		if (this.destroyed) return;
		if (entry.status.phase === 'ready') {
			if (reason === 'opened') this.opened(ref);
			return;
		}
		// The manifest (its id proves it) was found not to be this reference's size: asking again would give the same one.
		if (entry.status.phase === 'failed' && entry.status.error === 'mismatch') return;
		if (entry.stop !== undefined) {
			await new Promise<void>((resolve) => entry.stop!.signal.addEventListener('abort', () => resolve(), { once: true }));
			const after: BlobStatus = entry.status;
			// The automatic fetch under way was past the budget; the user asks for it now.
			if (reason === 'opened' && after.phase === 'failed' && after.error === 'budget') return this.fetched(ref, reason);
			if (reason === 'opened' && after.phase === 'ready') this.opened(ref);
			return;
		}
		const stop = new AbortController();
		entry.stop = stop;
		this.set(entry, { phase: 'fetching', held: entry.status.held, size: ref.size });
		try {
			await this.access.fetch(this.docId, ref, (held, size) => this.set(entry, { phase: 'fetching', held, size }), stop.signal, reason);
			await this.makeUrl(ref, entry);
		} catch (error) {
			if (this.destroyed) return;
			const failure = describe(error);
			this.set(entry, { phase: 'failed', held: entry.status.held, size: ref.size, error: failure });
			// No peer had it yet (the message came first, or its holder is reconnecting): tried again a few times.
			const wait = RETRY_MS[entry.retries ?? 0];
			if ((failure === 'offline' || failure === 'unavailable') && wait !== undefined) {
				entry.retries = (entry.retries ?? 0) + 1;
				entry.retry = setTimeout(() => this.fetch(ref), wait);
			}
		} finally {
			entry.stop = undefined;
			stop.abort(); // tells those waiting on this fetch
		}
	}

	/**
	 * Stores a picked file as a blob of the workspace and returns its reference (with
	 * `details`: an image's preview, a recording's length). `onProgress` gets bytes stored so far.
	 * @throws {AttachmentTooLargeError} over {@link AttachmentLimits.maxBytes}.
	 */
	async add(file: File, details: AttachmentDetails = {}, onProgress?: (done: number, total: number) => void): Promise<AttachmentRef> {
		const policy = this.policy();
		const verdict = fileVerdict(policy, { size: file.size, mime: file.type || 'application/octet-stream', name: file.name });
		if (verdict === 'tooLarge') throw new AttachmentTooLargeError(file.name, file.size, policy.maxBytes);
		if (verdict === 'blocked') throw new FileTypeBlockedError(file.name);
		const bytes = new Uint8Array(await file.arrayBuffer());
		const key = this.isPrivate() ? newBlobKey() : undefined;
		const manifest = await this.access.put(key === undefined ? bytes : await sealBlob(bytes, key), onProgress);
		const ref: AttachmentRef = {
			blob: manifest.id,
			size: bytes.byteLength,
			...(key !== undefined ? { key } : {}),
			mime: (file.type || 'application/octet-stream').slice(0, 200),
			name: (file.name || 'file').slice(0, 200),
			...(details.width !== undefined && details.height !== undefined ? { width: details.width, height: details.height } : {}),
			...(details.thumb !== undefined ? { thumb: details.thumb } : {}),
			...(details.duration !== undefined ? { duration: Math.round(details.duration) } : {})
		};
		const entry = this.entry(ref);
		await entry.checking;
		return ref;
	}

	/** After a message with `files` was posted here: asks the relays to keep the sealed ones (private spaces). */
	async posted(files: readonly AttachmentRef[]): Promise<void> {
		const sealed = files.filter((f) => f.key !== undefined).map((f) => f.blob);
		if (sealed.length > 0) await this.access.keepOnRelays(this.docId, sealed).catch((error: unknown) => console.info('blobs: relays not asked', error));
	}

	/** After a message with `files` was deleted or hidden here: asks the relays to drop the sealed ones no message shows any more. */
	async withdrawn(files: readonly AttachmentRef[]): Promise<void> {
		const sealed = files.filter((f) => f.key !== undefined).map((f) => f.blob);
		if (sealed.length > 0) await this.access.dropOnRelays?.(this.docId, sealed).catch((error: unknown) => console.info('blobs: relays not asked to drop', error));
	}

	/** Offers the blob as a download under its name (fetching it first when needed). */
	async download(ref: AttachmentRef): Promise<void> {
		await this.fetched(ref);
		const url = this.entries.get(entryKey(ref))?.url;
		if (url === undefined) return; // the fetch failed: its status says why
		const link = document.createElement('a');
		link.href = url;
		link.download = shownFileName(ref.name);
		link.rel = 'noopener';
		link.style.display = 'none';
		document.body.append(link);
		link.click();
		link.remove();
	}

	/** Revokes the object URLs and stops the fetches. */
	destroy(): void {
		this.destroyed = true;
		for (const entry of this.entries.values()) {
			clearTimeout(entry.retry);
			entry.stop?.abort(new Error('the channel was closed'));
			if (entry.url !== undefined) URL.revokeObjectURL(entry.url);
		}
		this.entries.clear();
	}
}

/**
 * An entry per blob and the size its reference says: a reference that lies about a blob's size
 * neither shares the status nor the URL of an honest one of the same blob.
 */
function entryKey(ref: Pick<AttachmentRef, 'blob' | 'size' | 'key'>): string {
	return `${ref.blob}/${referencedBlobSize(ref)}`;
}

/** Types a blob may be shown as: images a browser renders safely; anything else is bytes to download. */
const SHOWN_TYPES: ReadonlySet<string> = new Set([...INLINE_IMAGE_TYPES, ...INLINE_AUDIO_TYPES]);

/** The type an object URL gets: a shown type, else plain bytes (an HTML or SVG file never renders in the app's origin). */
function safeType(mime: string): string {
	const base = baseType(mime);
	return SHOWN_TYPES.has(base) ? base : 'application/octet-stream';
}

/** What kind of failure a fetch error is (the details go to the console). */
function describe(error: unknown): BlobFailure {
	console.info('blobs: fetch failed', error);
	if (error instanceof Error && error.name === 'NoPeersError') return 'offline';
	if (error instanceof Error && error.name === 'BlobUnavailableError') return 'unavailable';
	if (error instanceof Error && error.name === 'BlobRefusedError') return 'mismatch';
	if (error instanceof Error && error.name === 'BudgetReachedError') return 'budget';
	if (error instanceof Error && error.name === 'DeviceFullError') return 'noSpace';
	return 'other';
}

/** A file of a type the workspace blocks. */
export class FileTypeBlockedError extends Error {
	override name = 'FileTypeBlockedError';
	constructor(readonly fileName: string) {
		super(`the workspace does not allow files like ${fileName}`);
	}
}

/** A file over the limit. */
export class AttachmentTooLargeError extends Error {
	override name = 'AttachmentTooLargeError';
	constructor(
		readonly fileName: string,
		readonly size: number,
		readonly limit: number
	) {
		super(`${fileName} is ${size} bytes, over the ${limit}-byte limit`);
	}
}
