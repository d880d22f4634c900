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
 * and the mirror would count it as held. Not yet: mirrors and read positions kept across restarts
 * (today a restart reads a relay's log from its start again), snapshots, and re-reading
 * envelopes of a generation whose key arrived after they were read.
 */
import * as Y from 'yjs';
import { TeamRole } from '../doc/team/ops.js';
import type { MeshService } from '../mesh/MeshService.js';
import { EMPTY_STATE_VECTOR, type SyncDocs } from '../mesh/syncDocs.js';
import { applicablePart } from '../mesh/updateCheck.js';
import type { Team } from '../doc/team/fold.js';
import { openSpaceKeys, type OpenedSpaceKeys } from './spaceKeys.js';
import { openSpaceUpdate, SealError, sealSpaceUpdate } from './spaceSeal.js';
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
}

/** What this device knows a relay holds of one space document. */
interface Mirror {
	doc: Y.Doc;
	/** Envelopes read so far (the next read starts here). */
	read: number;
}

/** Starts keeping the member's spaces on the relays outside them; returns a function that stops it. */
export function startSealedSync(init: SealedSyncInit): () => void {
	const { workspaceId, mesh, docs, authority, device, onError } = init;
	const mirrors = new Map<string, Mirror>();
	let stopped = false;
	let running: Promise<void> = Promise.resolve();
	let timer: ReturnType<typeof setTimeout> | undefined;

	const mirrorOf = (peer: string, docId: string): Mirror => {
		const key = `${peer}\n${docId}`;
		let mirror = mirrors.get(key);
		if (mirror === undefined) {
			mirror = { doc: new Y.Doc({ gc: false }), read: 0 };
			mirrors.set(key, mirror);
		}
		return mirror;
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

	const fetchFrom = async (peer: string, docId: string, keys: Map<string, Uint8Array>): Promise<void> => {
		const mirror = mirrorOf(peer, docId);
		for (;;) {
			// A relay that refuses says nothing: 3 s, then the round goes on and reads again later.
			const batch = await mesh.wantSealed(workspaceId, peer, docId, mirror.read, 3000);
			for (const envelope of batch.envelopes) {
				try {
					const update = openSpaceUpdate(keys, docId, envelope);
					// Any member of the space may have sealed it: checked as every remote update is
					// (updateCheck.ts: it decodes, applies cleanly, leaves at most 1 MiB pending).
					const part = applicablePart(update, (await docs.stateVector(docId)) ?? EMPTY_STATE_VECTOR);
					if (part === undefined) throw new SealError('a sealed update that does not apply cleanly was set aside');
					await docs.apply(docId, part, SEALED_ORIGIN);
					// The mirror counts what the relay holds: the whole update, not only what was new here.
					Y.applyUpdate(mirror.doc, update);
				} catch (error) {
					onError(asError(error));
				}
			}
			mirror.read += batch.envelopes.length;
			if (!batch.more || batch.envelopes.length === 0 || stopped) return;
		}
	};

	const storeOn = async (peer: string, docId: string, gen: string, key: Uint8Array): Promise<void> => {
		const mirror = mirrorOf(peer, docId);
		const update = await docs.diff(docId, Y.encodeStateVector(mirror.doc));
		if (update === undefined) return;
		const { structs, ds } = Y.decodeUpdate(update);
		if (structs.length === 0 && ds.clients.size === 0) return; // the relay holds it all
		if (mesh.putSealed(workspaceId, peer, docId, [sealSpaceUpdate(key, gen, docId, update)])) Y.applyUpdate(mirror.doc, update);
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
		offTeam();
		offStatus();
		offDocs();
	};
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
