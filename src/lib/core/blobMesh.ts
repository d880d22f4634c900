/**
 * Blobs on the mesh the way every replica serves and pins them (the browser, the relay, the
 * in-process test peers): one {@link BlobService} on the node, with the team's rule for who may
 * read a blob, and pinning: blobs that documents come to reference are fetched as soon as
 * their reference arrives when the replica wants them (the relay: every blob within its
 * quota; a browser: small images).
 *
 * **Who may read a blob** (asked on the serving side for every GET): the fetcher is a current
 * member device of the workspace (or a tab one delegated to), may hold the document it names
 * (a private space's only its members; TeamGate.mayShare, the rule sync applies), and that
 * document references the blob. So a member removed from a private channel gets DENIED for
 * its blobs, and a blob nobody referenced in a readable document is refused to everyone. A
 * reference the workspace's file policy forbids (too large, a blocked type: doc/team/filePolicy.ts)
 * is neither served nor pinned, and neither is a blob whose size is not the one its reference
 * says (blob/blobAdmission.ts: the policy and every size limit read the reference's claim).
 * A file is served only while a message naming it shows: not deleted by its author, nor hidden
 * by an admin (blob/shownPosts.ts). A private space's sealed file that another private space here names too is served under that
 * other one only to devices the first lets in, unless a signed post naming it there is by a
 * device the first lets in: a removed member's copy of the reference opens nothing. For a device
 * that may not hold the document named, nothing is read (references, store) before the refusal.
 *
 * **Pinning judges the manifest, not the claim.** A pin's fetch takes the blob's manifest only
 * when it is the size its reference says and the replica has room for it ({@link BlobMeshInit.room}:
 * the relay's quota, a browser's blob budget); a sealed pin, whose reference the replica cannot read, only within the
 * file policy's largest sealed file and that room. A pin refused so is dropped, not tried again.
 *
 * **Private spaces' blobs are sealed** (blob/blobSeal.ts). A member's device serves them to the
 * space's members and, as ciphertext, to the team's relays; after posting, it asks the relays
 * that are not in the space to keep them (PIN). Such a relay fetches and keeps the sealed blob
 * (it cannot read the reference, so it records which space asked) and serves it to the
 * space's members only. One device may have {@link MAX_SEALED_PINS_PER_ASKER} such requests
 * waiting, so a member cannot fill the queue that everyone's pins wait in. The relay records
 * which device asked; when the author deletes the message (or an admin hides it), that device
 * (or the admin's) asks it to drop the blob again (UNPIN: {@link BlobMesh.unpinOnRelays}), as it
 * cannot read those marks itself.
 *
 * **A browser drops what no post shows** ({@link BlobMeshInit.sweep}): once every message naming
 * a file it fetched is deleted or hidden, its bytes go (blob/blobSweep.ts).
 */
import { admitReferenced, referencedBlobSize } from '../blob/blobAdmission.js';
import { chunkLength, type BlobManifest } from '../blob/blobManifest.js';
import { BlobService, BlobRefusedError, type Admission, type BlobServiceInit } from '../blob/blobService.js';
import { BlobReferences, referencesInUpdate } from '../blob/blobReferences.js';
import type { BlobLedger } from '../blob/blobBudget.js';
import { BlobSweep } from '../blob/blobSweep.js';
import { sealedSize } from '../blob/blobSeal.js';
import { namedByShownPost } from '../blob/shownPosts.js';
import type { BlobStore } from '../blob/BlobStore.js';
import type { AttachmentRef } from '../doc/schema.js';
import { isModerator, signedPost } from '../doc/channelRights.js';
import { DEFAULT_FILE_POLICY, filePolicy, fileVerdict, type FilePolicy } from '../doc/team/filePolicy.js';
import type { Team } from '../doc/team/teamTypes.js';
import type { MeshAuthority, SpaceAccess } from '../mesh/authority.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { TeamGate } from '../mesh/teamGate.js';

/** What the blob mesh needs of an open workspace. */
export interface BlobWorkspace {
	docs: SyncDocs;
	/** The team (TeamAuthority): who may read, members' roles, and the workspace's file policy when it has a folded team. */
	authority: MeshAuthority & { readonly team?: Pick<Team, 'filePolicy' | 'spaces'>; roleOf?(peerId: string): string | undefined };
}

/** Which sealed blobs of private spaces a relay keeps, for which space's document, and which devices asked (the relay's database). */
export interface SealedBlobIndex {
	has(workspaceId: string, blobId: string, docId: string): boolean;
	/** Records that device `asker` had blob `blobId` kept for document `docId`. */
	add(workspaceId: string, blobId: string, docId: string, asker: string): void;
	/**
	 * The devices whose pins keep blob `blobId` for document `docId` (none for one kept before
	 * they were recorded). Without it and {@link forget}, UNPIN is refused.
	 */
	askers?(workspaceId: string, blobId: string, docId: string): readonly string[];
	/**
	 * Forgets `asker`'s pin of blob `blobId` for document `docId` (every pin for that document
	 * when undefined: an admin's UNPIN); once no pin keeps it for any document, its bytes go too.
	 */
	forget?(workspaceId: string, blobId: string, docId: string, asker: string | undefined): Promise<void>;
}

/** The file policy a workspace's team sets (the default without a team). */
function policyOf(workspace: BlobWorkspace): FilePolicy {
	return workspace.authority.team === undefined ? DEFAULT_FILE_POLICY : filePolicy(workspace.authority.team);
}

/**
 * Whether `peerId` is a current member device, or a tab one delegated to (the team knows the
 * tab once its delegation admitted it on a sync or model stream here): as sync and models admit
 * them (PROTOCOL.md "Membership", tab delegations).
 */
function memberOrTab(authority: MeshAuthority, peerId: string): boolean {
	const device = authority.isMember(peerId) ? peerId : authority.deviceOf?.(peerId);
	return device !== undefined && authority.isMember(device);
}

/** Options of {@link BlobMesh}. */
export interface BlobMeshInit extends Pick<BlobServiceInit, 'unproven' | 'requestTimeoutMs' | 'writeTimeoutMs' | 'idleTimeoutMs'> {
	node: BlobServiceInit['node'];
	/** The workspace when this replica has it open. */
	workspace(workspaceId: string): BlobWorkspace | undefined;
	/** Its blob store. */
	storeFor(workspaceId: string): BlobStore | undefined;
	/** Peers with a live session in the workspace: whom a pinning fetch asks. */
	livePeers(workspaceId: string): string[];
	/**
	 * Whether to fetch a referenced blob at once (default: never). Asked with the reference's
	 * claimed size (0 for a sealed pin, whose reference this replica cannot read): the fetch
	 * takes the blob only if it is that size, and asks {@link room} with the verified one.
	 */
	pins?(workspaceId: string, ref: AttachmentRef): boolean;
	/**
	 * Asked once a pin's manifest is known (its id proves it), before any of its chunks is
	 * stored: whether this replica has room for the `bytes` of blob `blobId` it does not hold
	 * yet (the relay's quota; a browser's blob budget, which may make room: blob/blobBudget.ts),
	 * named by document `docId`; true, or why not (the pin is then dropped). Default: room.
	 * `manifest`: the blob's (a browser stores it with its mark, for its other tabs to count).
	 */
	room?(workspaceId: string, blobId: string, bytes: number, docId: string, manifest: BlobManifest): Admission | Promise<Admission>;
	/**
	 * Where a replica keeps the sealed blobs of private spaces it is not in, when members ask it
	 * to (a relay); without it such requests are refused.
	 */
	sealedIndex?: SealedBlobIndex;
	/** Told about failed serving streams and pins given up. */
	onError?: (error: Error) => void;
	/** First wait before a failed pin is tried again (doubles up to 60 s; tests shorten it). */
	retryMs?: number;
	/** Pins waiting at most per workspace; default {@link MAX_PENDING_PINS} (tests lower it). */
	maxPendingPins?: number;
	/**
	 * A browser's blob store of a workspace, with why it holds each blob: the fetched files no
	 * post it holds shows any more are dropped from it (blob/blobSweep.ts). Absent (the relay,
	 * which keeps what its archive references): nothing is dropped.
	 */
	sweep?(workspaceId: string): BlobLedger | undefined;
	/** Milliseconds after the last deletion or hide before the sweep runs (tests shorten it). */
	sweepDelayMs?: number;
	/** Milliseconds after following a workspace before the sweep looks at every fetched blob once (tests shorten it). */
	sweepStartMs?: number;
}

/**
 * Pins waiting at most, per workspace. A new one beyond takes the place of the longest-failing
 * one (the first to fail of those no peer could give yet), found at no cost per pin waiting: a
 * full queue cannot be made to scan itself for every reference of an update. When none has
 * failed yet, the new one is dropped and reported.
 */
export const MAX_PENDING_PINS = 10_000;
/** Sealed pins one device may have waiting at once: a member cannot fill the queue for the others. */
export const MAX_SEALED_PINS_PER_ASKER = 64;
/**
 * Posts naming a private space's sealed file whose signatures a GET checks at most, when another
 * space here names the file too (BlobMesh `postedByReaders`).
 */
const MAX_POST_CHECKS = 16;
/** Tries of one pin before it is given up. */
const PIN_TRIES = 8;

interface Pin {
	docId: string;
	ref: AttachmentRef;
	tries: number;
	/**
	 * For a sealed blob kept at a member's request (a private space this replica is not in,
	 * recorded once fetched): the device that asked.
	 */
	asker?: string;
	/**
	 * Other member devices that asked to keep it for the same document while it waited: recorded
	 * as its pinners too once fetched (found in review: such a PIN was answered END and not
	 * recorded, so the first asker's UNPIN dropped the file the second had asked to keep).
	 */
	also?: Set<string>;
}

/** A followed workspace's pins: those waiting, sealed ones counted per asking device. */
interface Followed {
	pending: Map<string, Pin>;
	/** Sealed pins waiting, per device that asked. */
	askers: Map<string, number>;
	/** Blob ids of the pins waiting that failed at least once, in the order they first failed. */
	failed: Set<string>;
	running: boolean;
	timer?: ReturnType<typeof setTimeout>;
	/** A browser's sweep of the workspace (BlobMeshInit.sweep), which also says whether a pin's file shows. */
	sweep?: BlobSweep;
	stop: () => void;
}

/** See the module comment. */
export class BlobMesh {
	readonly service: BlobService;
	private readonly references = new WeakMap<SyncDocs, BlobReferences>();
	/** Followed workspaces: pins waiting, and how to stop. */
	private readonly followed = new Map<string, Followed>();

	constructor(private readonly init: BlobMeshInit) {
		this.service = new BlobService({
			node: init.node,
			storeFor: (id) => (init.workspace(id) === undefined ? undefined : init.storeFor(id)),
			mayRead: (workspaceId, peerId, blobId, docId, held) => this.mayRead(workspaceId, peerId, blobId, docId, held),
			onPin: (workspaceId, peerId, blobId, docId) => this.onPin(workspaceId, peerId, blobId, docId),
			onUnpin: (workspaceId, peerId, blobId, docId) => this.onUnpin(workspaceId, peerId, blobId, docId),
			...(init.onError !== undefined ? { onError: init.onError } : {}),
			...(init.unproven !== undefined ? { unproven: init.unproven } : {}),
			...(init.requestTimeoutMs !== undefined ? { requestTimeoutMs: init.requestTimeoutMs } : {}),
			...(init.writeTimeoutMs !== undefined ? { writeTimeoutMs: init.writeTimeoutMs } : {}),
			...(init.idleTimeoutMs !== undefined ? { idleTimeoutMs: init.idleTimeoutMs } : {})
		});
	}

	start(): Promise<void> {
		return this.service.start();
	}

	async stop(): Promise<void> {
		for (const id of [...this.followed.keys()]) this.unfollow(id);
		await this.service.stop();
	}

	/** The references index of a workspace's documents (one per open documents). */
	referencesOf(docs: SyncDocs): BlobReferences {
		let refs = this.references.get(docs);
		if (refs === undefined) this.references.set(docs, (refs = new BlobReferences(docs)));
		return refs;
	}

	/**
	 * The team's rule (module comment); `held` reads the manifest this replica holds (default:
	 * from its store), which must be the size the reference says.
	 */
	async mayRead(workspaceId: string, peerId: string, blobId: string, docId: string, held?: () => Promise<BlobManifest | undefined>): Promise<boolean> {
		const workspace = this.init.workspace(workspaceId);
		if (workspace === undefined) return false;
		const { authority, docs } = workspace;
		if (authority.excluded || !memberOrTab(authority, peerId)) return false;
		const space = authority.spaceAccess?.(docId);
		// A private space this replica keeps sealed (a relay outside it): the blobs its members asked it to keep, to its members.
		if (space !== undefined && !space.local) return space.reads(peerId) && (this.init.sealedIndex?.has(workspaceId, blobId, docId) ?? false);
		const shares = new TeamGate(authority).mayShare(peerId, docId, docs);
		// A sealed blob also goes to the team's relays, which keep it for the space's members without reading it.
		const relay = space !== undefined && authority.roleOf?.(peerId) === 'relay';
		// Nothing is read for a device that may not hold the document, neither its references nor
		// the store: the time of the answer would tell whether the document names a blob it guessed.
		if (!shares && !relay) return false;
		const ref = (await this.referencesOf(docs).of(docId)).get(blobId);
		if (ref === undefined || fileVerdict(policyOf(workspace), ref) !== 'ok') return false;
		// A sealed file is a private space's (each sealed with a fresh key): a reference to it copied
		// into an open document (by a member removed from the space) does not open it to everyone,
		// with its key or without (found in review: a copy without the key, its size the sealed
		// size, was served, and the removed member opened it with the key it kept).
		if (space === undefined && (ref.key !== undefined || (await this.inSpaceHere(workspace, blobId, docId)))) return false;
		// Served only while a message naming it shows (not deleted by its author, nor hidden by an admin).
		if (!(await namedByShownPost(this.referencesOf(docs), docId, blobId, (peer) => authority.roleOf?.(peer)))) return false;
		// Served under a reference only as the blob it claims to be (a lying size passes every size limit).
		const manifest = await (held ?? (() => this.init.storeFor(workspaceId)?.manifest(blobId) ?? Promise.resolve(undefined)))();
		if (manifest !== undefined && manifest.size !== referencedBlobSize(ref)) return false;
		if (space !== undefined && !(await this.postedByReaders(workspace, peerId, blobId, docId))) return false;
		return shares || (relay && ref.key !== undefined);
	}

	/**
	 * Whether a private space's document this replica is in, other than `docId`, references blob
	 * `blobId` (its files are sealed: a private space's own).
	 */
	private async inSpaceHere(workspace: BlobWorkspace, blobId: string, docId: string): Promise<boolean> {
		return (await this.spacesNaming(workspace, blobId, docId)).length > 0;
	}

	/** The private spaces this replica is in, other than `docId`, whose documents reference blob `blobId`. */
	private async spacesNaming(workspace: BlobWorkspace, blobId: string, docId: string): Promise<SpaceAccess[]> {
		const { authority, docs } = workspace;
		const out: SpaceAccess[] = [];
		for (const spaceId of authority.team?.spaces.keys() ?? []) {
			const access = authority.spaceAccess?.(spaceId);
			if (spaceId === docId || access?.local !== true) continue;
			if (await this.referencesOf(docs).has(spaceId, blobId)) out.push(access);
		}
		return out;
	}

	/**
	 * Whether private space `docId`'s reference to blob `blobId` may open it to `peerId`, when
	 * other private spaces here name the same (sealed) blob: a space that keeps `peerId` out
	 * counts unless a signed post in `docId` naming the blob is by a device that space lets in
	 * (who may pass on what it reads). Found in review: a member removed from a private channel
	 * copied a file's reference, key and all, into a direct conversation with a member still in
	 * the channel; that member's device served her the file under the conversation (and to a
	 * relay, which would have kept it for her). The signer is asked, not the asker alone, so that
	 * such a copy does not shut the first space's members out of its own file.
	 */
	private async postedByReaders(workspace: BlobWorkspace, peerId: string, blobId: string, docId: string): Promise<boolean> {
		const keptOut = (await this.spacesNaming(workspace, blobId, docId)).filter((space) => !space.reads(peerId));
		if (keptOut.length === 0) return true;
		const posts = await this.referencesOf(workspace.docs).posts(docId, blobId);
		// Signatures are checked only of posts whose claimed author would do, and of a few of them:
		// a member cannot make every GET check thousands of forged posts.
		const claimed = posts.filter((post) => keptOut.every((space) => space.reads(post.author)));
		return claimed.slice(0, MAX_POST_CHECKS).some((post) => signedPost(post, docId));
	}

	/** A member asks this replica to keep a sealed blob of a private space it is not in (module comment). */
	private onPin(workspaceId: string, peerId: string, blobId: string, docId: string): boolean {
		const workspace = this.init.workspace(workspaceId);
		const followed = this.followed.get(workspaceId);
		if (workspace === undefined || this.init.sealedIndex === undefined || followed === undefined || !workspace.authority.isMember(peerId)) return false;
		const space = workspace.authority.spaceAccess?.(docId);
		if (space === undefined || space.local || !space.reads(peerId)) return false;
		// Kept for the document already: this device's pin is recorded too (the bytes stay while any pin does).
		if (this.init.sealedIndex.has(workspaceId, blobId, docId)) {
			this.init.sealedIndex.add(workspaceId, blobId, docId, peerId);
			return true;
		}
		// Its size is not known before its manifest: the quota is asked here with what is held
		// already, and again with the manifest's size before any chunk is stored (drain).
		const ref: AttachmentRef = { blob: blobId, size: 0, mime: 'application/octet-stream', name: 'sealed' };
		if (!this.init.pins?.(workspaceId, ref)) return false;
		const waiting = followed.pending.get(blobId);
		if (waiting !== undefined) {
			if (waiting.asker !== undefined && waiting.asker !== peerId && waiting.docId === docId) (waiting.also ??= new Set()).add(peerId);
			return true;
		}
		if ((followed.askers.get(peerId) ?? 0) >= MAX_SEALED_PINS_PER_ASKER) return false;
		// Recorded only once fetched from a member of the space naming it, so a member cannot fill the
		// index with ids nobody holds, nor claim a blob it holds for another space.
		return this.enqueue(workspaceId, followed, docId, ref, peerId);
	}

	/**
	 * A device asks this replica to drop a sealed blob it keeps for a private space it is not in
	 * (its message was deleted by its author, or hidden by an admin: this replica cannot read
	 * those marks). Taken from a member device of the space that pinned it here, or an admin's
	 * (owner or admin) device in the space: that device's pin goes (an admin's: every pin for the
	 * document), and the bytes once no pin of the blob is left. A device that pinned nothing
	 * of it here, a stranger, or a removed member is refused, and nothing is dropped.
	 */
	private async onUnpin(workspaceId: string, peerId: string, blobId: string, docId: string): Promise<boolean> {
		const workspace = this.init.workspace(workspaceId);
		const index = this.init.sealedIndex;
		if (workspace === undefined || index?.askers === undefined || index.forget === undefined) return false;
		const { authority } = workspace;
		if (authority.excluded || !authority.isMember(peerId)) return false;
		const space = authority.spaceAccess?.(docId);
		if (space === undefined || space.local || !space.reads(peerId)) return false;
		const admin = isModerator(authority.roleOf?.(peerId));
		const followed = this.followed.get(workspaceId);
		const waiting = followed?.pending.get(blobId);
		const asked = waiting?.docId === docId && (waiting.asker === peerId || waiting.also?.has(peerId) === true);
		if (!admin && !asked && !index.askers(workspaceId, blobId, docId).includes(peerId)) return false;
		// A pin of it still being fetched for the document stops here once no device's request for
		// it is left (drain forgets what it fetched); an admin's stops it at once.
		if (waiting?.docId === docId && (admin || asked)) this.withdraw(followed!, blobId, waiting, admin ? undefined : peerId);
		await index.forget(workspaceId, blobId, docId, admin ? undefined : peerId);
		return true;
	}

	/**
	 * Asks the team's relays that are not in private space `docId` to drop its sealed blobs
	 * `blobIds` again, those no message there that still shows names (after this device's
	 * author deleted one, or its admin hid one); resolves with how many relays dropped each.
	 * A relay refuses unless this device pinned the blob there or is an admin's.
	 */
	async unpinOnRelays(workspaceId: string, docId: string, blobIds: readonly string[]): Promise<number> {
		const workspace = this.init.workspace(workspaceId);
		const space = workspace?.authority.spaceAccess?.(docId);
		if (workspace === undefined || space === undefined) return 0;
		const { authority, docs } = workspace;
		const gone: string[] = [];
		for (const blobId of blobIds) {
			if (!(await namedByShownPost(this.referencesOf(docs), docId, blobId, (peer) => authority.roleOf?.(peer)))) gone.push(blobId);
		}
		return this.askOutsideRelays(workspaceId, workspace, space, gone, (peer, blobId) => this.service.unpin(workspaceId, peer, docId, blobId));
	}

	/**
	 * Asks the team's relays that are not in private space `docId` to keep its sealed blobs
	 * `blobIds` (after a message naming them was posted there); resolves with how many took each.
	 */
	async pinOnRelays(workspaceId: string, docId: string, blobIds: readonly string[]): Promise<number> {
		const workspace = this.init.workspace(workspaceId);
		const space = workspace?.authority.spaceAccess?.(docId);
		if (workspace === undefined || space === undefined) return 0;
		return this.askOutsideRelays(workspaceId, workspace, space, blobIds, (peer, blobId) => this.service.pin(workspaceId, peer, docId, blobId));
	}

	/** Puts `ask` to every live relay of the team outside `space` for each of `blobIds`; resolves with how many said yes. */
	private async askOutsideRelays(
		workspaceId: string,
		workspace: BlobWorkspace,
		space: SpaceAccess,
		blobIds: readonly string[],
		ask: (peer: string, blobId: string) => Promise<boolean>
	): Promise<number> {
		let agreed = 0;
		for (const peer of this.init.livePeers(workspaceId)) {
			if (workspace.authority.roleOf?.(peer) !== 'relay' || space.reads(peer)) continue;
			for (const blobId of blobIds) {
				const yes = await ask(peer, blobId).catch((error: unknown) => {
					this.init.onError?.(error instanceof Error ? error : new Error(String(error)));
					return false;
				});
				if (yes) agreed++;
			}
		}
		return agreed;
	}

	/**
	 * Pins the blobs that updates of the workspace's documents reference from now on (those
	 * {@link BlobMeshInit.pins} wants), and sweeps what no post shows any more
	 * ({@link BlobMeshInit.sweep}). Idempotent; {@link unfollow} stops it.
	 */
	follow(workspaceId: string): void {
		const workspace = this.init.workspace(workspaceId);
		if (workspace === undefined || this.followed.has(workspaceId) || this.init.pins === undefined) return;
		const ledger = this.init.sweep?.(workspaceId);
		const sweep =
			ledger === undefined
				? undefined
				: new BlobSweep({
						docs: workspace.docs,
						references: this.referencesOf(workspace.docs),
						ledger,
						roleOf: (peer) => workspace.authority.roleOf?.(peer),
						...(this.init.sweepDelayMs !== undefined ? { delayMs: this.init.sweepDelayMs } : {}),
						...(this.init.sweepStartMs !== undefined ? { startMs: this.init.sweepStartMs } : {}),
						// A file whose message shows again (restored, shown by a moderator) is pinned again.
						onShown: (docId, ref) => this.want(workspaceId, docId, ref),
						...(this.init.onError !== undefined ? { onError: this.init.onError } : {})
					});
		const unsubscribe = workspace.docs.onLocalUpdate((docId, update) => {
			for (const ref of referencesInUpdate(update)) {
				sweep?.named(ref.blob);
				this.want(workspaceId, docId, ref);
			}
		});
		const stop = () => {
			unsubscribe();
			sweep?.destroy();
		};
		this.followed.set(workspaceId, { pending: new Map(), askers: new Map(), failed: new Set(), running: false, stop, ...(sweep !== undefined ? { sweep } : {}) });
	}

	/** Stops pinning a workspace's blobs (fetches under way finish). */
	unfollow(workspaceId: string): void {
		const followed = this.followed.get(workspaceId);
		if (followed === undefined) return;
		this.followed.delete(workspaceId);
		clearTimeout(followed.timer);
		followed.stop();
	}

	/** Blob references waiting to be pinned in a workspace. */
	pendingPins(workspaceId: string): number {
		return this.followed.get(workspaceId)?.pending.size ?? 0;
	}

	/** Of those, the ones tried and not fetched yet (no peer could give them so far). */
	failedPins(workspaceId: string): number {
		return this.followed.get(workspaceId)?.failed.size ?? 0;
	}

	private want(workspaceId: string, docId: string, ref: AttachmentRef): void {
		const followed = this.followed.get(workspaceId);
		const workspace = this.init.workspace(workspaceId);
		if (followed === undefined || workspace === undefined || followed.pending.has(ref.blob)) return;
		if (fileVerdict(policyOf(workspace), ref) !== 'ok' || !this.init.pins!(workspaceId, ref)) return;
		this.enqueue(workspaceId, followed, docId, ref);
	}

	/** Queues a pin (a sealed one when `asker` asked for it); whether it waits now. */
	private enqueue(workspaceId: string, followed: Followed, docId: string, ref: AttachmentRef, asker?: string): boolean {
		if (followed.pending.has(ref.blob)) return true;
		const max = this.init.maxPendingPins ?? MAX_PENDING_PINS;
		if (followed.pending.size >= max) {
			// The longest-failing pin gives way (a blob nobody could give), else the new one.
			const [oldest] = followed.failed;
			if (oldest === undefined) {
				this.init.onError?.(new Error(`blob ${ref.blob} not pinned: ${max} pins are waiting`));
				return false;
			}
			this.unqueue(followed, oldest);
			this.init.onError?.(new Error(`blob ${oldest} no longer waits to be pinned, as no peer could give it: ${max} pins are waiting`));
		}
		followed.pending.set(ref.blob, { docId, ref, tries: 0, ...(asker !== undefined ? { asker } : {}) });
		if (asker !== undefined) followed.askers.set(asker, (followed.askers.get(asker) ?? 0) + 1);
		void this.drain(workspaceId);
		return true;
	}

	/**
	 * Takes device `asker`'s request out of sealed pin `pin` of blob `blobId` waiting (every
	 * device's when undefined); the pin itself once no request is left.
	 */
	private withdraw(followed: Followed, blobId: string, pin: Pin, asker: string | undefined): void {
		if (asker !== undefined && pin.also?.delete(asker) === true) return;
		const [next] = pin.also ?? [];
		if (asker === undefined || next === undefined || pin.asker !== asker) return this.unqueue(followed, blobId);
		// The next device that asked holds the request now, counted as its own; the pin stays the
		// same, so a fetch of it under way records it.
		pin.also!.delete(next);
		const left = (followed.askers.get(asker) ?? 1) - 1;
		if (left > 0) followed.askers.set(asker, left);
		else followed.askers.delete(asker);
		followed.askers.set(next, (followed.askers.get(next) ?? 0) + 1);
		pin.asker = next;
	}

	/** Takes blob `blobId` out of the pins waiting. */
	private unqueue(followed: Followed, blobId: string): void {
		const asker = followed.pending.get(blobId)?.asker;
		followed.pending.delete(blobId);
		followed.failed.delete(blobId);
		if (asker === undefined) return;
		const left = (followed.askers.get(asker) ?? 1) - 1;
		if (left > 0) followed.askers.set(asker, left);
		else followed.askers.delete(asker);
	}

	/**
	 * Whether a pin takes the blob `manifest` describes (module comment): the size its reference
	 * says, or for a sealed pin at most the sealed size of the largest file the policy allows;
	 * then room for the bytes not held yet.
	 */
	private async admitPin(workspaceId: string, store: BlobStore, pin: Pin, manifest: BlobManifest): Promise<Admission> {
		const workspace = this.init.workspace(workspaceId);
		if (workspace === undefined) return 'the workspace is closed';
		if (pin.asker === undefined) {
			const matches = admitReferenced(pin.ref)(manifest);
			if (matches !== true) return matches;
		} else {
			const largest = sealedSize(policyOf(workspace).maxBytes);
			if (manifest.size > largest) return `${manifest.size} bytes, more than the file policy allows (${largest} sealed)`;
		}
		const missing = await store.missing(manifest.id);
		const bytes = missing === undefined ? manifest.size : missing.reduce((n, index) => n + chunkLength(manifest, index), 0);
		return (await this.init.room?.(workspaceId, manifest.id, bytes, pin.docId, manifest)) ?? true;
	}

	/**
	 * Whether a browser still wants a pin's file: some message it holds names it and shows. Found
	 * in review: a device that got a message and its deletion together (a first sync, a device
	 * back online) pinned the file anyway; every replica refused it, eight times over, or one
	 * that had not heard of the deletion served it, after the sweep had looked, and it stayed.
	 * A replica without a sweep (the relay) pins what is referenced.
	 */
	private async stillShown(followed: Followed, blobId: string, pin: Pin): Promise<boolean> {
		return followed.sweep === undefined || pin.asker !== undefined || (await followed.sweep.shows(blobId, [pin.docId]));
	}

	/** Fetches the pins waiting, one at a time; failed ones are tried again later; refused ones are dropped. */
	private async drain(workspaceId: string): Promise<void> {
		const followed = this.followed.get(workspaceId);
		if (followed === undefined || followed.running) return;
		followed.running = true;
		let failed = false;
		try {
			for (const [blobId, pin] of [...followed.pending]) {
				if (this.followed.get(workspaceId) !== followed) return;
				const store = this.init.storeFor(workspaceId);
				if (store === undefined) return;
				if ((await store.missing(blobId))?.length === 0 || !this.init.pins!(workspaceId, pin.ref) || !(await this.stillShown(followed, blobId, pin))) {
					this.unqueue(followed, blobId);
					continue;
				}
				const peers = this.init.livePeers(workspaceId);
				try {
					if (peers.length === 0) throw new Error('no peer of the workspace is connected');
					const admit = (manifest: BlobManifest) => this.admitPin(workspaceId, store, pin, manifest);
					await this.service.fetch(workspaceId, blobId, peers, { docId: pin.docId, admit, signal: AbortSignal.timeout(10 * 60_000) });
					// Unpinned while it was fetched (onUnpin): forgotten, its bytes dropped unless another pin keeps them.
					if (pin.asker !== undefined && followed.pending.get(blobId) !== pin) await this.init.sealedIndex?.forget?.(workspaceId, blobId, pin.docId, pin.asker);
					else if (pin.asker !== undefined) for (const asker of [pin.asker, ...(pin.also ?? [])]) this.init.sealedIndex?.add(workspaceId, blobId, pin.docId, asker);
					// Its message deleted or hidden while it was fetched (after the sweep looked): swept.
					else if (followed.sweep !== undefined && !(await followed.sweep.shows(blobId, [pin.docId]).catch(() => true))) followed.sweep.recheck(blobId);
					this.unqueue(followed, blobId);
				} catch (error) {
					if (error instanceof BlobRefusedError) {
						// Every peer gives the same manifest: trying again would only fetch it again.
						if (followed.pending.get(blobId) === pin) this.unqueue(followed, blobId);
						this.init.onError?.(new Error(`blob ${blobId} not pinned: ${error.message}`));
					} else if (++pin.tries >= PIN_TRIES) {
						if (followed.pending.get(blobId) === pin) this.unqueue(followed, blobId);
						this.init.onError?.(new Error(`blob ${blobId} not pinned after ${PIN_TRIES} tries: ${error instanceof Error ? error.message : String(error)}`));
					} else {
						failed = true;
						// Unless it gave way to a new pin meanwhile.
						if (followed.pending.get(blobId) === pin) followed.failed.add(blobId);
					}
				}
			}
		} finally {
			followed.running = false;
		}
		if (this.followed.get(workspaceId) !== followed) return;
		// References that came while this round ran.
		if ([...followed.pending.values()].some((pin) => pin.tries === 0)) return this.drain(workspaceId);
		if (failed && followed.pending.size > 0) {
			const tries = Math.min(...[...followed.pending.values()].map((pin) => pin.tries));
			const wait = Math.min(60_000, (this.init.retryMs ?? 2_000) * 2 ** Math.max(0, tries - 1));
			clearTimeout(followed.timer);
			followed.timer = setTimeout(() => void this.drain(workspaceId), wait);
		}
	}
}
