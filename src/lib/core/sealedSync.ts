/**
 * A member device's side of sealed storage: for each private space
 * its member is in, and each relay of the team that is live on the mesh and not in the space,
 * it fetches the sealed updates the relay keeps (from where it last read), opens them with the
 * space's keys and applies them through the documents' write policy; and it stores, sealed with
 * the space's current key, whatever of its documents the relay does not hold yet.
 *
 * What the relay holds is mirrored in a scratch document per relay and space document (built
 * from what was fetched and what was stored), so a device stores only what that mirror lacks.
 * Runs one round at a time: on start, when the team changes and when sessions come and go
 * (reading and storing), and a moment after a space document changes (storing only: an edit
 * costs no round trip to the relay, and boxes are opened again only when the team changed). A
 * relay that refuses a read (it has not folded the space yet) is read again later, with a
 * backoff, and nothing is stored on it until a read works: it would refuse the store unseen,
 * and the mirror would count it as held.
 *
 * With a {@link SealedMirrorStore}, mirrors and read positions outlive a restart: a device
 * reads a relay's log from where it stopped, not from its start. The first read of a session
 * asks again for the last envelope it read and compares it with the SHA-256 it kept; when the
 * relay's log is not what it read (the relay lost or replaced its data), it forgets the mirror
 * and reads the log from the start. Mirrors are saved at most every {@link MIRROR_SAVE_MS} and
 * when the workspace stops.
 *
 * An envelope of a generation whose key this device does not hold yet (a member just added to
 * the space reads the log before a holder sealed it the older generations; a box it was given
 * did not hold the generation's key, until a keeper replaced it) is not lost: the mirror keeps,
 * per generation the team lists, where the first one was, and once the key is here that part of
 * the log is read again, with what built on it. Not yet: snapshots (the relay's log only grows).
 */
import * as Y from 'yjs';
import { sha256 } from '@noble/hashes/sha2.js';
import { TeamRole } from '../doc/team/ops.js';
import type { MeshService } from '../mesh/MeshService.js';
import { targetClocks, type SyncDocs } from '../mesh/syncDocs.js';
import { applicablePart, dropPending } from '../mesh/updateCheck.js';
import type { Team } from '../doc/team/fold.js';
import { openSpaceKeys, type OpenedSpaceKeys } from './spaceKeys.js';
import { envelopeGeneration, openSpaceUpdate, SealError, sealSpaceUpdate } from './spaceSeal.js';
import type { TeamAuthority, TeamDevice } from './TeamAuthority.js';

/** Origin of updates applied from sealed storage. */
export const SEALED_ORIGIN = Symbol('sealed storage');

/** Options of {@link startSealedSync}. */
export interface SealedSyncInit {
	workspaceId: string;
	mesh: Pick<MeshService, 'putSealed' | 'wantSealed' | 'livePeers' | 'on'>;
	docs: SyncDocs;
	authority: TeamAuthority;
	device: TeamDevice;
	onError: (error: Error) => void;
	/** Wait after a space document changes before storing it; default 200 ms. */
	delayMs?: number;
	/** Keeps mirrors across restarts; without one they live for the session. */
	mirrors?: SealedMirrorStore;
}

/** What a device keeps of one mirror across restarts. */
export interface StoredMirror {
	/** Envelopes read so far. */
	read: number;
	/** The mirror document's state. */
	state: Uint8Array;
	/** SHA-256 of the last envelope read (absent while none was). */
	last?: Uint8Array;
	/** Generations whose key was not here when envelopes of them were read: generation id → where the first of those was. */
	waiting?: Record<string, number>;
}

/** Where a device keeps its mirrors of relays' sealed logs, by `<relay peer id>\n<document id>`. */
export interface SealedMirrorStore {
	load(key: string): Promise<StoredMirror | undefined>;
	save(key: string, mirror: StoredMirror): Promise<void>;
}

/** Longest a changed mirror waits before it is saved. */
export const MIRROR_SAVE_MS = 5000;

/**
 * Generations a mirror waits for the key of, at most (a member could seal envelopes under
 * made-up generations: past this many, envelopes of yet another are passed over for good).
 */
export const MAX_WAITING_GENERATIONS = 64;

/** What this device knows a relay holds of one space document. */
interface Mirror {
	doc: Y.Doc;
	/** Envelopes read so far (the next read starts here). */
	read: number;
	/** SHA-256 of the last envelope read. */
	last: Uint8Array | undefined;
	/** Whether the relay's log was found to be the one read (a kept mirror is checked once a session). */
	checked: boolean;
	/** Generations read without their key here: id → the index of the first such envelope (one entry per generation). */
	waiting: Map<string, number>;
	/** Changed since it was last saved. */
	dirty: boolean;
}

/** Starts keeping the member's spaces on the relays outside them; returns a function that stops it. */
export function startSealedSync(init: SealedSyncInit): () => void {
	const { workspaceId, mesh, docs, authority, device, onError } = init;
	const mirrors = new Map<string, Promise<Mirror>>();
	let stopped = false;
	let running: Promise<void> = Promise.resolve();
	let timer: ReturnType<typeof setTimeout> | undefined;

	const mirrorOf = (peer: string, docId: string): Promise<Mirror> => {
		const key = `${peer}\n${docId}`;
		let mirror = mirrors.get(key);
		if (mirror === undefined) {
			mirror = loadMirror(init.mirrors, key, onError);
			mirrors.set(key, mirror);
		}
		return mirror;
	};

	let saveTimer: ReturnType<typeof setTimeout> | undefined;
	/** Saves the mirrors changed since they were last saved. */
	const saveMirrors = async (): Promise<void> => {
		const store = init.mirrors;
		if (store === undefined) return;
		for (const [key, pending] of mirrors) {
			const mirror = await pending;
			if (!mirror.dirty) continue;
			mirror.dirty = false;
			const kept: StoredMirror = {
				read: mirror.read,
				state: Y.encodeStateAsUpdate(mirror.doc),
				...(mirror.last !== undefined ? { last: mirror.last } : {}),
				...(mirror.waiting.size > 0 ? { waiting: Object.fromEntries(mirror.waiting) } : {})
			};
			await store.save(key, kept).catch((error: unknown) => onError(asError(error)));
		}
	};
	const saveSoon = () => {
		if (init.mirrors === undefined || saveTimer !== undefined) return;
		saveTimer = setTimeout(() => {
			saveTimer = undefined;
			void saveMirrors();
		}, MIRROR_SAVE_MS);
	};

	/** A kept mirror, once a session: is the relay's log still the one it read? If not, it is forgotten. */
	const check = async (peer: string, docId: string, mirror: Mirror): Promise<void> => {
		if (mirror.checked) return;
		if (mirror.read > 0) {
			const batch = await mesh.wantSealed(workspaceId, peer, docId, mirror.read - 1, 3000);
			const again = batch.envelopes[0];
			if (again === undefined || mirror.last === undefined || !equalBytes(sha256(again), mirror.last)) {
				onError(new SealError(`the relay's sealed log of ${docId} is not the one this device read: reading it again from the start`));
				mirror.doc.destroy();
				Object.assign(mirror, { doc: new Y.Doc({ gc: false }), read: 0, last: undefined, dirty: true, waiting: new Map() });
			}
		}
		mirror.checked = true;
	};

	/** Relays of the team with a live session here that are not in space `docId`. */
	const storesFor = (docId: string): string[] => {
		const team = authority.team;
		const access = authority.spaceAccess(docId);
		if (access === undefined || !access.local) return [];
		return mesh.livePeers(workspaceId).filter((peer) => {
			const member = team.members.get(team.devices.get(peer) ?? '');
			return member?.role === TeamRole.relay && !access.reads(peer);
		});
	};

	/**
	 * Opens, checks and applies one envelope; returns its generation when that key is not here
	 * (it was passed over). Nothing is thrown: what fails is reported.
	 */
	const take = async (docId: string, mirror: Mirror, keys: Map<string, Uint8Array>, envelope: Uint8Array): Promise<string | undefined> => {
		try {
			const gen = envelopeGeneration(envelope);
			if (!keys.has(gen)) return gen;
			const update = openSpaceUpdate(keys, docId, envelope);
			// Any member of the space may have sealed it: checked as every remote update is
			// (updateCheck.ts: it decodes, applies cleanly, leaves at most 1 MiB pending).
			const part = applicablePart(update, await targetClocks(docs, docId));
			if (part === undefined) throw new SealError('a sealed update that does not apply cleanly was set aside');
			await docs.apply(docId, part, SEALED_ORIGIN);
			// The mirror counts what the relay holds: the whole update, not only what was new here,
			// but nothing it leaves pending. Found in review: a member sealed a range of another
			// member's client past its clock; held pending, it integrated once that member's next
			// message filled the gap, and the mirror then counted a million clocks of that client
			// as stored, so no device stored that member's messages on the relay again.
			Y.applyUpdate(mirror.doc, update);
			dropPending(mirror.doc);
		} catch (error) {
			onError(asError(error));
		}
		return undefined;
	};

	const fetchFrom = async (peer: string, docId: string, keys: Map<string, Uint8Array>): Promise<void> => {
		const mirror = await mirrorOf(peer, docId);
		await check(peer, docId, mirror);
		for (;;) {
			// A relay that refuses says nothing: 3 s, then the round goes on and reads again later.
			const batch = await mesh.wantSealed(workspaceId, peer, docId, mirror.read, 3000);
			for (const [i, envelope] of batch.envelopes.entries()) {
				const gen = await take(docId, mirror, keys, envelope);
				// Only a generation the team lists for the space is waited for: envelopes under made-up
				// ones (any member of the space can put them) would fill the slots for good.
				if (gen !== undefined && !mirror.waiting.has(gen) && mirror.waiting.size < MAX_WAITING_GENERATIONS && authority.team.spaces.get(docId)?.keyGenerations.has(gen)) {
					mirror.waiting.set(gen, mirror.read + i);
				}
			}
			mirror.read += batch.envelopes.length;
			const last = batch.envelopes.at(-1);
			if (last !== undefined) {
				mirror.last = sha256(last);
				mirror.dirty = true;
			}
			if (!batch.more || batch.envelopes.length === 0 || stopped) break;
		}
		await readAgain(peer, docId, mirror, keys);
	};

	/**
	 * Reads the log again from where envelopes of generations whose key is here now were first
	 * passed over, to where it had read, taking every envelope it holds the key of: those, and
	 * the ones after them that built on them (taken before without what they build on, their
	 * content was dropped: documents keep nothing pending). What is held already changes nothing.
	 */
	const readAgain = async (peer: string, docId: string, mirror: Mirror, keys: Map<string, Uint8Array>): Promise<void> => {
		const ready = [...mirror.waiting].filter(([gen]) => keys.has(gen));
		if (ready.length === 0) return;
		const end = mirror.read;
		let at = Math.min(...ready.map(([, first]) => first));
		while (at < end && !stopped) {
			const batch = await mesh.wantSealed(workspaceId, peer, docId, at, 3000);
			if (batch.envelopes.length === 0) break; // a log shorter than it was: read it all again later
			for (const envelope of batch.envelopes.slice(0, end - at)) await take(docId, mirror, keys, envelope);
			at += batch.envelopes.length;
		}
		// Waited for no longer once read again to where it had read; else from where this stopped.
		for (const [gen, first] of ready) {
			if (at >= end) mirror.waiting.delete(gen);
			else if (at > first) mirror.waiting.set(gen, at);
		}
		mirror.dirty = true;
	};

	const storeOn = async (peer: string, docId: string, gen: string, key: Uint8Array): Promise<void> => {
		const mirror = await mirrorOf(peer, docId);
		// A kept mirror not checked yet this session (its relay refused the read) says nothing sure.
		if (!mirror.checked) return;
		const update = await docs.diff(docId, Y.encodeStateVector(mirror.doc));
		if (update === undefined || holdsAll(mirror.doc, update)) return;
		if (mesh.putSealed(workspaceId, peer, docId, [sealSpaceUpdate(key, gen, docId, update)])) {
			Y.applyUpdate(mirror.doc, update);
			mirror.dirty = true;
		}
	};

	// Boxes are opened again only when the team changed, not on every edit.
	let opened: { team: Team; accepted: number; keys: Map<string, OpenedSpaceKeys> } | undefined;
	const spaceKeys = (): Map<string, OpenedSpaceKeys> => {
		const team = authority.team;
		if (opened?.team !== team || opened.accepted !== team.accepted.length) {
			opened = { team, accepted: team.accepted.length, keys: openSpaceKeys(team, device.privateKey, device.peerId, onError) };
		}
		return opened.keys;
	};
	/** Whether the next round reads the relays' logs: after the team or the sessions changed, not after an edit. */
	let fetchDue = true;

	/** Wait before reading again after a relay refused a read (doubles up to 30 s; reset by a read that worked). */
	let retryMs = 500;
	let retryTimer: ReturnType<typeof setTimeout> | undefined;

	const round = async (): Promise<void> => {
		if (stopped) return;
		const fetching = fetchDue;
		fetchDue = false;
		let refused: Error | undefined;
		for (const [docId, space] of spaceKeys()) {
			for (const peer of storesFor(docId)) {
				if (stopped) return;
				if (fetching) {
					try {
						await fetchFrom(peer, docId, space.keys);
					} catch (error) {
						// The relay refused the read (most often: it has not folded the space yet).
						// It would refuse a store as well, unseen: store there once a read works.
						refused = asError(error);
						continue;
					}
				}
				const key = space.current === undefined ? undefined : space.keys.get(space.current);
				if (space.current !== undefined && key !== undefined) await storeOn(peer, docId, space.current, key);
			}
		}
		saveSoon();
		if (refused === undefined) {
			if (fetching) retryMs = 500;
			return;
		}
		onError(refused);
		fetchDue = true;
		if (retryTimer === undefined && !stopped) {
			retryTimer = setTimeout(() => {
				retryTimer = undefined;
				refetch();
			}, retryMs);
			retryMs = Math.min(30_000, retryMs * 2);
		}
	};

	const schedule = () => {
		running = running.then(round).catch((error: unknown) => onError(asError(error)));
	};
	const soon = () => {
		if (timer !== undefined || stopped) return;
		timer = setTimeout(() => {
			timer = undefined;
			schedule();
		}, init.delayMs ?? 200);
	};
	const refetch = () => {
		fetchDue = true;
		soon();
	};
	const offTeam = authority.onChange(refetch);
	const offStatus = mesh.on('workspace-status', (status) => {
		if (status.workspaceId === workspaceId) refetch();
	});
	const offDocs = docs.onLocalUpdate((docId, _update, origin) => {
		if (origin !== SEALED_ORIGIN && authority.spaceAccess(docId)?.local === true) soon();
	});
	soon();
	return () => {
		stopped = true;
		clearTimeout(timer);
		clearTimeout(retryTimer);
		clearTimeout(saveTimer);
		// What changed since the last save is kept (after the round running now).
		void running.then(saveMirrors);
		offTeam();
		offStatus();
		offDocs();
	};
}

/** A mirror as `store` kept it (a new one without a store, or when what it kept is unreadable). */
async function loadMirror(store: SealedMirrorStore | undefined, key: string, onError: (error: Error) => void): Promise<Mirror> {
	const fresh = (): Mirror => ({ doc: new Y.Doc({ gc: false }), read: 0, last: undefined, checked: true, dirty: false, waiting: new Map() });
	if (store === undefined) return fresh();
	try {
		const kept = await store.load(key);
		if (kept === undefined) return fresh();
		const doc = new Y.Doc({ gc: false });
		Y.applyUpdate(doc, kept.state);
		dropPending(doc); // a mirror saved before pending parts were dropped
		return { doc, read: kept.read, last: kept.last, checked: false, dirty: false, waiting: new Map(Object.entries(kept.waiting ?? {})) };
	} catch (error) {
		onError(asError(error));
		return fresh();
	}
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Whether `mirror` (what a relay holds of a document) already holds all of `update` (a diff
 * against the mirror's state vector). Such a diff always carries the document's whole delete
 * set, so a document with any deletion would otherwise be stored again on every round, and the
 * relay's log would grow with copies of it.
 */
export function holdsAll(mirror: Y.Doc, update: Uint8Array): boolean {
	const { structs, ds } = Y.decodeUpdate(update);
	if (structs.length > 0) return false;
	if (ds.clients.size === 0) return true;
	const held = Y.createDeleteSetFromStructStore(mirror.store);
	return Y.equalDeleteSets(held, Y.mergeDeleteSets([held, ds]));
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
