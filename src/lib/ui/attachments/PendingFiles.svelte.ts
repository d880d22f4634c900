/**
 * The files picked in a composer on their way to a message: each is stored as a blob of the
 * workspace as soon as it is picked (with a preview for an image), its progress shown on its
 * chip, and the message is sent once every add has finished. Files over the limits are refused
 * one by one, with the reason kept in {@link PendingFiles.problem}; the others stay.
 */
import { MAX_FILES } from '$lib/doc/validate';
import type { AttachmentRef } from '$lib/doc/schema';
import { AttachmentTooLargeError, FileTypeBlockedError, type AttachmentDetails, type ChannelBlobs } from '$lib/state/ChannelBlobs.svelte';
import { imagePreview } from './thumbnail';

/** One picked file. */
export interface PendingFile {
	readonly id: number;
	readonly name: string;
	readonly size: number;
	/** Bytes stored so far. */
	done: number;
	/** Its reference, once stored. */
	ref?: AttachmentRef;
}

/** A file with what its reference should carry besides the bytes (a recording's length), known when it was made. */
export interface DetailedFile {
	file: File;
	details: AttachmentDetails;
}

/** Why files were refused, for the composer to put in words. */
export type AttachmentProblem =
	| { kind: 'tooMany'; max: number }
	| { kind: 'tooLarge'; name: string; size: number; limit: number }
	| { kind: 'blocked'; name: string }
	| { kind: 'failed'; name: string; error: string };

/** Files ready to send: their references, and which chips they are (cleared once sent). */
export interface PendingBatch {
	ids: number[];
	refs: AttachmentRef[];
}

/** See the module comment. */
export class PendingFiles {
	files = $state<PendingFile[]>([]);
	/** The last refusal or failure, until the next files are picked. */
	problem = $state<AttachmentProblem | undefined>();
	#tasks = new Map<number, Promise<void>>();
	#failed = new Set<number>();
	#next = 0;

	constructor(private readonly blobs: ChannelBlobs) {}

	/** Most files on one message. */
	get max(): number {
		return Math.min(this.blobs.limits.maxFiles, MAX_FILES);
	}

	/**
	 * Starts storing `picked`, refusing those over the size or count limit. A plain file gets its
	 * details here (an image's preview); a {@link DetailedFile} brings its own.
	 */
	add(picked: Iterable<File | DetailedFile>): void {
		this.problem = undefined;
		for (const item of picked) {
			const { file, details } = 'details' in item ? item : { file: item, details: undefined };
			if (this.files.length >= this.max) {
				this.problem = { kind: 'tooMany', max: this.max };
				break;
			}
			if (file.size > this.blobs.limits.maxBytes) {
				this.problem = { kind: 'tooLarge', name: file.name, size: file.size, limit: this.blobs.limits.maxBytes };
				continue;
			}
			const id = ++this.#next;
			this.files.push({ id, name: file.name, size: file.size, done: 0 });
			this.#tasks.set(id, this.#store(id, file, details));
		}
	}

	/** Drops a chip (a store still running finishes; its reference is not sent). */
	remove(id: number): void {
		this.files = this.files.filter((f) => f.id !== id);
		this.#tasks.delete(id);
	}

	/**
	 * Waits for the files pending now to be stored. Their references, or undefined when one
	 * failed (it is dropped and {@link problem} says why; the others stay for the next try).
	 */
	async settle(): Promise<PendingBatch | undefined> {
		const ids = this.files.map((f) => f.id);
		await Promise.all(ids.map((id) => this.#tasks.get(id)));
		if (ids.some((id) => this.#failed.has(id))) return undefined;
		const sent = this.files.filter((f) => ids.includes(f.id) && f.ref);
		return { ids: sent.map((f) => f.id), refs: sent.map((f) => $state.snapshot(f.ref!)) };
	}

	/** Drops the chips of files sent. */
	clear(ids: readonly number[]): void {
		this.files = this.files.filter((f) => !ids.includes(f.id));
		for (const id of ids) this.#tasks.delete(id);
	}

	async #store(id: number, file: File, given: AttachmentDetails | undefined): Promise<void> {
		try {
			const details = given ?? (file.type.startsWith('image/') ? await imagePreview(file) : undefined);
			const ref = await this.blobs.add(file, details, (done) => this.#update(id, (f) => (f.done = done)));
			this.#update(id, (f) => {
				f.ref = ref;
				f.done = f.size;
			});
		} catch (err) {
			if (!this.files.some((f) => f.id === id)) return; // removed meanwhile: nothing to say
			this.#failed.add(id);
			this.problem =
				err instanceof AttachmentTooLargeError
					? { kind: 'tooLarge', name: file.name, size: err.size, limit: err.limit }
					: err instanceof FileTypeBlockedError
						? { kind: 'blocked', name: file.name }
						: { kind: 'failed', name: file.name, error: err instanceof Error ? err.message : String(err) };
			this.remove(id);
		}
	}

	#update(id: number, change: (file: PendingFile) => void): void {
		const file = this.files.find((f) => f.id === id);
		if (file) change(file);
	}
}
