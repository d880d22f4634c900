/**
 * Binds this device's Yjs client id in a note to the device, before its first edit: a signed
 * binding (notePolicy.ts) written into the note's `bindings` map inside the first local
 * transaction of each client id, so the edit and the binding that vouches for it travel in one
 * update and no peer ever sees one without the other.
 */
import type { DeviceKey } from '../doc/deviceKey.js';
import type * as Y from 'yjs';
import type { ClientBinding } from '../doc/schema.js';
import { signBindingNow } from '../doc/signature.js';

/** Starts binding local edits of note `docId` (held as `doc`) to `device`; returns a function that stops. */
export function bindWriter(doc: Y.Doc, docId: string, key: DeviceKey, device: string): () => void {
	let signed: ClientBinding | undefined;
	/** The client id last seen bound (every keystroke asks; nothing removes a binding: notePolicy.ts). */
	let bound: number | undefined;
	const before = (transaction: Y.Transaction) => {
		if (!transaction.local || doc.clientID === bound) return;
		const bindings = doc.getMap<ClientBinding>('bindings');
		const client = doc.clientID; // Yjs may draw a new one on a clash: each is bound when first used
		if (bindings.has(String(client))) {
			bound = client;
			return;
		}
		if (signed?.client !== client) signed = signBindingNow(key, { doc: docId, client, device });
		bindings.set(String(client), signed);
	};
	doc.on('beforeTransaction', before);
	return () => doc.off('beforeTransaction', before);
}
