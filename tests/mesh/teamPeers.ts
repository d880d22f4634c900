/**
 * Team peers for the in-process mesh tests: a real libp2p node whose key is the device key,
 * a MeshService, and the workspace core (OutpostCore) over MemoryDocs with the workspace's
 * write policy, exactly as the browser and the relay build them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { OutpostCore } from '../../src/lib/core/OutpostCore.js';
import type { SealedMirrorStore } from '../../src/lib/core/sealedSync.js';
import type { TeamAuthority } from '../../src/lib/core/TeamAuthority.js';
import { delegatedAuthority } from '../../src/lib/core/tabAuthority.js';
import type { MeshAuthority } from '../../src/lib/mesh/authority.js';
import { signDelegation } from '../../src/lib/doc/team/delegation.js';
import type { GossipKeyring } from '../../src/lib/mesh/keyring.js';
import type { TeamOp } from '../../src/lib/doc/team/ops.js';
import { admitProof, invitePublicKey, newInviteSeed, signTeamOp } from '../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamInviteId, teamRosterId, teamWorkspaceId } from '../../src/lib/doc/team/teamId.js';
import { newId } from '../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { at, msg } from '../unit/doc/helpers.js';
import { meshService, type MeshErrorEvent, type MeshService } from '../../src/lib/mesh/MeshService.js';
import { newSecret } from '../../src/lib/mesh/secret.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { startNode, waitFor } from './helpers.js';
import { blockableGater, connect, type Peer } from './peers.js';

/** A workspace with a signed team. */
export interface TeamWorkspace {
	id: string;
	secret: Uint8Array;
	rosterId: string;
}

/** A peer of a team workspace. */
export interface TeamPeer extends Peer {
	key: PrivateKey;
	peerId: string;
	authority: TeamAuthority;
	keyring: GossipKeyring;
	/** Failures of the key keeper and keyring (boxes that do not open, writes that fail). */
	keyErrors: Error[];
	/** Stops this peer alone (its core, mesh and node), as a device shutting down does. */
	stop(): Promise<void>;
}

const meshes: MeshService[] = [];
const cores: OutpostCore[] = [];

/** A new device key and its peer id. */
export async function newKey(): Promise<{ key: PrivateKey; peerId: string }> {
	const key = await generateKeyPair('Ed25519');
	return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/** What a modified client skips. */
export interface Hostility {
	/**
	 * Private spaces: it offers, forwards, publishes on gossip and takes every document it
	 * holds, whoever may hold it, and applies no write policy.
	 */
	ignoreSpaces?: boolean;
	/** Notes: it offers and forwards them though its role may not write (a guest's modified client). */
	passesNotes?: boolean;
	/** Keys: its key keeper waits this long (ms, at most) before it seals a key to a device (a modified client boxes its own way). */
	keyShareWaitMs?: number;
}

/** What a peer keeps across a restart (a device's stores): its documents and its mirrors of relays' sealed logs. */
export interface DeviceStores {
	docs?: MemoryDocs;
	sealedMirrors?: SealedMirrorStore;
}

/**
 * Starts a peer for `ws` with device key `key`; `seed` adds the operations it holds at
 * start. With `tab`, the node runs with a throwaway key and presents a delegation signed by
 * the device key, as a second browser tab does. `hostile`: a modified client. `stores`: what
 * a restarted device starts with.
 */
export async function startTeamPeer(
	ws: TeamWorkspace,
	key: PrivateKey,
	name: string,
	seed: TeamOp[] = [],
	tab = false,
	hostile: Hostility = {},
	stores: DeviceStores = {}
): Promise<TeamPeer> {
	const gater = blockableGater();
	const node = await startNode({ gater, privateKey: tab ? (await newKey()).key : key });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	meshes.push(mesh);
	const errors: MeshErrorEvent[] = [];
	mesh.on('error', (event) => errors.push(event));
	await mesh.start();
	const docs = stores.docs ?? (hostile.ignoreSpaces ? new MemoryDocs() : new MemoryDocs(ws.id));
	const peerId = peerIdFromPrivateKey(key).toString();
	const keyErrors: Error[] = [];
	const core = new OutpostCore({
		device: { peerId, privateKey: key },
		openDocs: () => Promise.resolve(docs),
		onError: (error) => keyErrors.push(error),
		shareJitterMs: hostile.keyShareWaitMs ?? 50,
		...(stores.sealedMirrors !== undefined ? { sealedMirrors: () => stores.sealedMirrors! } : {})
	});
	cores.push(core);
	const { authority } = await core.open({ id: ws.id, rosterId: ws.rosterId });
	for (const op of seed) await authority.add(op);
	await authority.ready;
	const delegation = async () =>
		delegatedAuthority(authority, await signDelegation(key, { ws: ws.id, device: peerId, tab: node.peerId.toString(), expires: Date.now() + 60_000 }));
	/** The team as a modified client presents it: the membership answers, plus what `more` keeps. */
	const presented = (more: Partial<MeshAuthority>) => (): Promise<MeshAuthority> =>
		Promise.resolve({
			get joined() {
				return authority.joined;
			},
			get excluded() {
				return authority.excluded;
			},
			isMember: (peerId: string) => authority.isMember(peerId),
			admission: () => authority.admission(),
			admits: (peerId: string, bytes: Uint8Array) => authority.admits(peerId, bytes),
			onChange: (handler: () => void) => authority.onChange(handler),
			...more
		});
	// One that ignores private spaces: no spaceAccess.
	const withoutSpaces = presented({});
	// One that passes notes on: a carrier, whatever its role.
	const passingNotes = presented({
		carrier: true,
		deviceOf: (peerId) => authority.deviceOf(peerId),
		spaceAccess: (docId) => authority.spaceAccess(docId),
		settled: () => authority.settled()
	});
	const presentAs = tab ? delegation : hostile.ignoreSpaces ? withoutSpaces : hostile.passesNotes ? passingNotes : undefined;
	await core.attach(mesh, presentAs !== undefined ? { presentAs } : {});
	await core.sync(ws.id, ws.secret);
	const keyring = core.get(ws.id)?.keyring;
	if (keyring === undefined) throw new Error('the workspace is not on the mesh');
	const stop = async () => {
		cores.splice(cores.indexOf(core), 1);
		meshes.splice(meshes.indexOf(mesh), 1);
		await core.stop();
		await mesh.stop();
		await node.stop();
	};
	return { node, mesh, docs, gater, errors, name, key, peerId, authority, keyring, keyErrors, stop };
}

/** Creates a workspace whose owner is `owner` (`hostile`: with a modified client); returns it and the owner's peer. */
export async function createTeamWorkspace(ownerKey: PrivateKey, hostile: Hostility = {}): Promise<{ ws: TeamWorkspace; owner: TeamPeer }> {
	const peerId = peerIdFromPrivateKey(ownerKey).toString();
	const nonce = newTeamNonce();
	const id = teamWorkspaceId(peerId, nonce);
	const ws = { id, secret: newSecret(), rosterId: teamRosterId(id) };
	const create = await signTeamOp(ownerKey, peerId, { ws: id, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' });
	const owner = await startTeamPeer(ws, ownerKey, 'owner', [create], false, hostile);
	return { ws, owner };
}

/** An invitation written by `admin`: its id, seed and operation. */
export async function invite(admin: TeamPeer, role: 'admin' | 'member' | 'guest' | 'relay' = 'member', uses = 1, expires = Date.now() + 3_600_000) {
	const seed = newInviteSeed();
	const key = invitePublicKey(seed);
	const id = teamInviteId(admin.authority.workspaceId, admin.peerId, key);
	const op = await admin.authority.write({ t: 'invite', invite: id, key, role, uses, expires });
	return { id, seed, op };
}

/**
 * Starts a joiner with `key` and the invitation: it writes its admission (naming the
 * invitation operation it has not received) before its node starts, as the app does.
 */
export async function startJoiner(
	ws: TeamWorkspace,
	key: PrivateKey,
	name: string,
	inv: { id: string; seed: Uint8Array; op: TeamOp },
	hostile: Hostility = {},
	stores: DeviceStores = {}
): Promise<TeamPeer> {
	const peerId = peerIdFromPrivateKey(key).toString();
	const admission = await signTeamOp(key, peerId, { ws: ws.id, prev: [inv.op.id], at: Date.now() }, {
		t: 'admit',
		invite: inv.id,
		proof: admitProof(inv.seed, ws.id, inv.id, peerId),
		name
	});
	return startTeamPeer(ws, key, name, [admission], false, hostile, stores);
}

/**
 * A further device of `member`, invited by the member itself (any member may: a device
 * invitation for its own member) and started with a fresh key; not yet connected to anyone.
 */
export async function ownDevice(ws: TeamWorkspace, member: TeamPeer, name: string): Promise<TeamPeer> {
	const seed = newInviteSeed();
	const key = invitePublicKey(seed);
	const id = teamInviteId(ws.id, member.peerId, key);
	const op = await member.authority.write({ t: 'invite', invite: id, key, role: 'member', uses: 1, expires: Date.now() + 3_600_000, member: member.peerId });
	return startJoiner(ws, (await newKey()).key, name, { id, seed, op });
}

/** Owner, and a member (mallory) and a second member (bob) admitted by invitations, all connected. */
export async function teamOfThree() {
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const invM = await invite(owner, 'member');
	const invB = await invite(owner, 'member');
	const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', invM);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', invB);
	await connect(mallory, owner);
	await connect(bob, owner);
	await waitFor(() => owner.authority.isMember(mallory.peerId) && owner.authority.isMember(bob.peerId), 'admissions on the owner');
	await connect(bob, mallory);
	for (const p of [owner, mallory, bob]) {
		await waitFor(() => p.authority.joined && p.authority.team.members.size === 3, `${p.name} folds three members`);
	}
	return { ws, owner, mallory, bob };
}

/** Stops every team peer's core and mesh service (nodes are stopped by stopPeers/stopAll). */
export async function stopTeamPeers(): Promise<void> {
	for (const core of cores.splice(0)) await core.stop();
	for (const mesh of meshes.splice(0)) await mesh.stop();
}

/**
 * A new document id that the workspace's root on `peer` lists as a public channel, so the
 * team's peers name it to each other (a document the root does not list is offered to nobody)
 * and check it as the channel {@link post} writes into.
 */
export function listedDoc(peer: Pick<TeamPeer, 'docs'>, workspaceId: string): string {
	const id = newId();
	new WorkspaceDoc(peer.docs.get(workspaceId)).createChannel({ id, name: `c-${id.slice(0, 6)}`, topic: '', private: false, readOnly: false, archived: false, createdAt: Date.now(), createdBy: 'test' });
	return id;
}

/** The owner with an admin (ann), a member (bob) and a guest (gus), each admitted by invitation and connected to the owner. */
export async function teamOfRoles() {
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const invites = { ann: await invite(owner, 'admin'), bob: await invite(owner, 'member'), gus: await invite(owner, 'guest') };
	const ann = await startJoiner(ws, (await newKey()).key, 'ann', invites.ann);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', invites.bob);
	const gus = await startJoiner(ws, (await newKey()).key, 'gus', invites.gus);
	for (const p of [ann, bob, gus]) await connect(p, owner);
	await waitFor(() => [ann, bob, gus].every((p) => owner.authority.isMember(p.peerId) && p.authority.joined), 'three admissions');
	return { ws, owner, ann, bob, gus };
}

let clock = 0;

/** Posts `value` as a message of `peer` in channel `docId` (a space's document is a channel). */
export function post(peer: Pick<TeamPeer, 'docs' | 'peerId'>, docId: string, value: string): void {
	new ChannelDoc(peer.docs.get(docId)).post(msg(newId(), peer.peerId, at(++clock, peer.peerId), value));
}

/** Whether `peer` holds a message reading `value` in channel `docId`. */
export function has(peer: Pick<TeamPeer, 'docs'>, docId: string, value: string): boolean {
	const doc = peer.docs.docs.get(docId);
	return doc !== undefined && new ChannelDoc(doc).messages.toArray().some((m) => m.text === value);
}
