/**
 * A working copy of one workspace document, for a model host writing an answer into it
 * (llmHost.ts, REQUEST with a target). The host reaches documents only through the mesh's
 * {@link SyncDocs} (the browser's store or the relay's archive), so the copy is kept in step
 * both ways: every update of the real document (local or synced) is applied to the copy,
 * and every write to the copy is applied to the real document with {@link TargetDoc.origin},
 * an origin of this peer, so the mesh publishes it to the workspace like any local edit.
 */
import * as Y from 'yjs';
import type { SyncDocs } from '../mesh/syncDocs.js';

/** An open working copy; close it when the answer is written. */
export interface TargetDoc {
	readonly doc: Y.Doc;
	/** The transaction origin to write with. */
	readonly origin: object;
	close(): void;
}

/** Options of {@link openTargetDoc}. */
export interface OpenTargetInit {
	/** True once the copy holds what the writer needs (the entry to write into). */
	ready: (doc: Y.Doc) => boolean;
	/** How long to wait for that (it may still be on its way from the asker); default 5,000 ms. */
	timeoutMs?: number;
	signal?: AbortSignal;
	/** Told when a write could not be applied to the real document. */
	onError?: (error: Error) => void;
}

/** Marks updates copied in from the real document (never written back). */
const FROM_STORE = Symbol('from the store');

/** Opens a working copy of `docId`; undefined when it is not ready within the timeout. */
export async function openTargetDoc(docs: SyncDocs, docId: string, init: OpenTargetInit): Promise<TargetDoc | undefined> {
	// Its guid is the document's id, which the records signed in it name (ChannelDoc.id).
	const doc = new Y.Doc({ guid: docId });
	const origin = { targetDoc: docId };
	let wake: () => void = () => {};
	const stopListening = docs.onLocalUpdate((id, update, from) => {
		if (id !== docId || from === origin) return;
		Y.applyUpdate(doc, update, FROM_STORE);
		wake();
	});
	const close = () => {
		stopListening();
		doc.destroy();
	};
	try {
		const current = await docs.diff(docId, Y.encodeStateVector(doc));
		if (current !== undefined) Y.applyUpdate(doc, current, FROM_STORE);
		if (!init.ready(doc)) {
			const ready = await new Promise<boolean>((resolve) => {
				const timer = setTimeout(() => finish(false), init.timeoutMs ?? 5000);
				const onAbort = () => finish(false);
				init.signal?.addEventListener('abort', onAbort, { once: true });
				function finish(ok: boolean): void {
					clearTimeout(timer);
					init.signal?.removeEventListener('abort', onAbort);
					wake = () => {};
					resolve(ok);
				}
				wake = () => {
					if (init.ready(doc)) finish(true);
				};
			});
			if (!ready) {
				close();
				return undefined;
			}
		}
	} catch (error) {
		close();
		throw error;
	}
	doc.on('update', (update: Uint8Array, from: unknown) => {
		if (from === FROM_STORE) return;
		Promise.resolve(docs.apply(docId, update, origin)).catch((error: unknown) =>
			init.onError?.(error instanceof Error ? error : new Error(String(error)))
		);
	});
	return { doc, origin, close };
}
