/**
 * Applies a remote update and hands the document's update listeners the update's own bytes,
 * where they stand exactly for what the document integrated, instead of letting Yjs encode the
 * transaction again. Yjs encodes every transaction for its `update` listeners, and a replica's
 * documents always have some (persistence, forwarding), so every live update was decoded,
 * integrated and encoded again on every replica: about a microsecond of the ~5 a keystroke
 * costs a note's receiver (bench:note-replay).
 *
 * The bytes stand for the transaction when, checked at the transaction's cleanup (just before
 * Yjs would encode it):
 * - every client of the update has one section, of structs none of them empty
 *   (decodedUpdate.ts `laidOutHonestly`: Yjs keeps only a client's last section, and an empty
 *   struct moves no clock, so a no-op handed on would go round a mesh);
 * - for every client of the update, its structs lie in one section, contiguous, and the
 *   transaction took the document's clock of that client from the first struct's clock to the
 *   end of the last: every struct was integrated, none was a copy the document had (an update
 *   of deletions only must have deleted something);
 * - nothing is pending (the caller dropped what was, updateCheck.ts `applyRemoteUpdate`);
 * - the update's structure ends where its bytes end (decodedUpdate.ts `updateEnd`, as the
 *   one-loop reader found it; updates it leaves to Yjs are encoded by Yjs): Yjs ignores trailing
 *   bytes, which its own encoding would drop and a store or peer should not be handed.
 * The update's deletions may name items the document had already deleted, and integration may
 * delete what the update does not name (a map key's older value): every replica applying the
 * bytes does the same, so they bring any replica what Yjs's encoding would. Otherwise Yjs
 * encodes as usual.
 */
import * as Y from 'yjs';
import { decodeUpdateShared, laidOutHonestly, updateEnd, type DecodedUpdate } from '../doc/decodedUpdate.js';

/** A document's update listener (lib0 Observable). */
type UpdateListener = (update: Uint8Array, origin: unknown, doc: Y.Doc, transaction: Y.Transaction) => void;

/** The structs of a decoded update. */
type Structs = DecodedUpdate['structs'];

/**
 * Whether every client's structs of `update` (decoded as `structs`) are one contiguous section
 * of structs that are not empty (an update of deletions only has none), with the header
 * counting exactly those sections (decodedUpdate.ts `laidOutHonestly`).
 */
function contiguousSections(update: Uint8Array, decoded: DecodedUpdate): boolean {
	const { structs } = decoded;
	for (let i = 1; i < structs.length; i++) {
		const before = structs[i - 1]!;
		const struct = structs[i]!;
		if (struct instanceof Y.Skip) return false;
		if (before.id.client === struct.id.client && before.id.clock + before.length !== struct.id.clock) return false;
	}
	return !(structs[0] instanceof Y.Skip) && laidOutHonestly(update, decoded);
}

/**
 * Whether `transaction` took each client's clock from its first struct's clock to the end of
 * its last (or, for deletions only, deleted something: Yjs emits nothing for a transaction that
 * changed nothing, and a no-op handed on would go round a mesh), leaving nothing pending.
 */
function integratedExactly(doc: Y.Doc, transaction: Y.Transaction, structs: Structs): boolean {
	if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) return false;
	if (structs.length === 0) return transaction.deleteSet.clients.size > 0;
	for (let i = 0; i < structs.length; i++) {
		const { id, length } = structs[i]!;
		if (length <= 0) return false; // moves no clock: nothing would mark it as held
		const before = structs[i - 1];
		const after = structs[i + 1];
		if ((before === undefined || before.id.client !== id.client) && (transaction.beforeState.get(id.client) ?? 0) !== id.clock) return false;
		if ((after === undefined || after.id.client !== id.client) && transaction.afterState.get(id.client) !== id.clock + length) return false;
	}
	return true;
}

/**
 * A document's observers (lib0 ObservableV2 keeps them by event name in a Map) with a switch:
 * while `quiet`, it answers that no one listens for `update`, which is all Yjs asks before it
 * encodes a transaction for them. The listeners stay where they are, so one that adds or
 * removes a listener meanwhile (lib0's `once` removes itself when called) does so as always.
 */
class QuietableObservers extends Map<string, Set<unknown>> {
	quiet = false;

	override has(name: string): boolean {
		return !(this.quiet && name === 'update') && super.has(name);
	}
}

/**
 * What one document needs to hand its listeners an update's bytes: two listeners made once per
 * document (a closure made per update costs more than the rest of this, under tsx's `__name`),
 * and the update being applied.
 */
class CheckedEmitter {
	/** The update being applied, while `apply` runs. */
	private update: Uint8Array | undefined;
	private origin: unknown;
	private structs: Structs | undefined;
	/** Whether the update's own transaction was cleaned up. */
	private handled = false;
	private observers: QuietableObservers | undefined;

	constructor(private readonly doc: Y.Doc) {}

	/** Whether an update is being applied (a listener applying another to the same document gets Yjs's own path). */
	get busy(): boolean {
		return this.update !== undefined;
	}

	apply(update: Uint8Array, origin: unknown, structs: Structs): void {
		const held = this.doc._observers as Map<string, Set<unknown>>;
		let observers: QuietableObservers;
		if (held instanceof QuietableObservers) observers = held;
		else {
			// Once per document (and again after `destroy` replaced its observers).
			observers = new QuietableObservers(held);
			this.doc._observers = observers;
			this.doc.on('afterTransactionCleanup', this.onCleanup);
			this.doc.on('afterAllTransactions', this.speak);
		}
		this.observers = observers;
		this.update = update;
		this.origin = origin;
		this.structs = structs;
		this.handled = false;
		try {
			Y.applyUpdate(this.doc, update, origin);
		} finally {
			this.speak();
			this.update = undefined;
			this.origin = undefined;
			this.structs = undefined;
		}
	}

	private readonly onCleanup = (transaction: Y.Transaction): void => {
		this.speak(); // a later transaction's cleanup: Yjs encodes it as usual
		const { update, structs, observers } = this;
		if (update === undefined || structs === undefined || observers === undefined || this.handled || transaction.local || transaction.origin !== this.origin) return;
		this.handled = true;
		const listeners = observers.get('update') as Set<UpdateListener> | undefined;
		if (listeners === undefined || !integratedExactly(this.doc, transaction, structs)) return;
		observers.quiet = true;
		// A copy first, as lib0's emit makes: listeners added meanwhile wait for the next update.
		for (const listener of Array.from(listeners)) listener(update, this.origin, this.doc, transaction);
	};

	/** Lets Yjs see the update listeners again. */
	private readonly speak = (): void => {
		if (this.observers !== undefined) this.observers.quiet = false;
	};
}

const emitters = new WeakMap<Y.Doc, CheckedEmitter>();

/** The update decoded, or undefined when it does not decode (Yjs then throws as it will). */
function decodedOf(update: Uint8Array): DecodedUpdate | undefined {
	try {
		return decodeUpdateShared(update);
	} catch {
		return undefined;
	}
}

/**
 * `Y.applyUpdate(doc, update, origin)`, the update listeners handed `update` itself where it
 * stands for the transaction (see the module comment). Throws as `Y.applyUpdate` does.
 */
export function applyEmittingChecked(doc: Y.Doc, update: Uint8Array, origin: unknown): void {
	const decoded = doc._observers.has('update') ? decodedOf(update) : undefined;
	let emitter = emitters.get(doc);
	if (decoded === undefined || emitter?.busy === true || !contiguousSections(update, decoded) || updateEnd(update) !== update.length) {
		Y.applyUpdate(doc, update, origin);
		return;
	}
	if (emitter === undefined) emitters.set(doc, (emitter = new CheckedEmitter(doc)));
	emitter.apply(update, origin, decoded.structs);
}
