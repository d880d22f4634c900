/**
 * The calls of a huddle (CallMesh) over real libp2p signalling under the team's rule, with
 * WebRTC, the microphone and Web Audio stubbed: who gets this browser's microphone. A
 * participant awareness lists connects (also when its awareness reached the other side late:
 * refused, it calls again); a member outside the huddle who calls in anyway is refused, as is
 * a participant calling the wrong way round; a member removed from a private channel loses the
 * audio at once even when her modified client neither reads nor closes the signalling stream,
 * and is dropped and never called again while she still lists herself in awareness. A peer
 * that calls again (a re-JOIN) gets a new call with a bound of candidates of its own, and its
 * old call's peer connection is closed before that: no peer connection takes more than the
 * bound. A peer that re-JOINs again and again has a few calls taken, then one per a while
 * (each would cost the other side a new peer connection); a member whose network dropped
 * still reconnects. Through HuddleState (as the app wires it: awareness, the team, fairOrder), one member's
 * tabs listed first do not take every place: a person listed after them is still called. The
 * real audio is tested end to end (tests/e2e/huddle.spec.ts).
 */
import '../../src/lib/mesh/polyfills.node.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { CallMesh } from '../../src/lib/huddle/CallMesh.js';
import { encodeHuddleMessage, HuddleDenied, HuddleMessageType, HUDDLE_PROTOCOL_ID, MAX_HUDDLE_PEOPLE, MAX_SIGNAL_FRAME_BYTES } from '../../src/lib/huddle/huddleMessages.js';
import { HuddleDeniedError, HuddleSignalling, type HuddleSignallingInit, MAX_CANDIDATES } from '../../src/lib/huddle/HuddleSignalling.js';
import { JOIN_BURST, JOIN_EVERY_MS } from '../../src/lib/huddle/joinBucket.js';
import { HuddleState } from '../../src/lib/state/HuddleState.svelte.js';
import { signDelegation } from '../../src/lib/doc/team/delegation.js';
import { mayHuddle } from '../../src/lib/huddle/huddleRule.js';
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import { huddleStreams, waitFor } from './helpers.js';
import { connect, heal, partition, stopPeers } from './peers.js';
import { createTeamWorkspace, invite, listedDoc, newKey, startJoiner, stopTeamPeers, type TeamPeer } from './teamPeers.js';

/** A stub of RTCPeerConnection: connected as soon as the remote description is set. */
class FakePc {
	static all: FakePc[] = [];
	tracks: unknown[] = [];
	closed = false;
	remoteDescription: unknown = null;
	connectionState = 'new';
	onicecandidate: unknown;
	ontrack: unknown;
	onconnectionstatechange: (() => void) | undefined;
	/** Candidates added from the other side. */
	candidates = 0;
	constructor() {
		FakePc.all.push(this);
	}
	addTrack(track: unknown): void {
		this.tracks.push(track);
	}
	async createOffer() {
		return { type: 'offer', sdp: 'v=0 offer' };
	}
	async createAnswer() {
		return { type: 'answer', sdp: 'v=0 answer' };
	}
	async setLocalDescription(): Promise<void> {}
	async setRemoteDescription(description: unknown): Promise<void> {
		this.remoteDescription = description;
		this.connectionState = 'connected';
		queueMicrotask(() => this.onconnectionstatechange?.());
	}
	async addIceCandidate(): Promise<void> {
		this.candidates++;
	}
	close(): void {
		this.closed = true;
	}
}

/** The stub microphone's one track. */
const mic = { kind: 'audio', enabled: true, stop() {} };

/** Connections still open that carry the microphone. */
const micOpen = () => FakePc.all.filter((pc) => !pc.closed && pc.tracks.includes(mic));

beforeAll(() => {
	vi.stubGlobal('RTCPeerConnection', FakePc);
	class FakeStream {
		constructor(private readonly tracks: unknown[] = [mic]) {}
		getTracks() {
			return this.tracks;
		}
		getAudioTracks() {
			return this.tracks;
		}
	}
	vi.stubGlobal('MediaStream', FakeStream);
	vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: async () => new FakeStream() } });
	vi.stubGlobal(
		'AudioContext',
		class {
			async resume() {}
			async close() {}
			createMediaStreamSource() {
				return { connect() {}, disconnect() {} };
			}
			createAnalyser() {
				return { fftSize: 1024, getFloatTimeDomainData() {} };
			}
		}
	);
	vi.stubGlobal(
		'Audio',
		class {
			play() {
				return Promise.resolve();
			}
		}
	);
});

afterAll(() => {
	vi.unstubAllGlobals();
});

const services: HuddleSignalling[] = [];
const meshes: CallMesh[] = [];

afterEach(async () => {
	for (const mesh of meshes.splice(0)) mesh.leave();
	for (const s of services.splice(0)) await s.stop().catch(() => undefined);
	await stopTeamPeers();
	await stopPeers();
	FakePc.all.splice(0);
});

/**
 * Owner, bob and mallory, all connected, with device keys ordered mallory < bob < owner: whoever
 * sorts first calls (CallMesh), so mallory and bob are the ones to call the owner.
 */
async function orderedTeam() {
	const [malloryKey, bobKey, ownerKey] = (await Promise.all([newKey(), newKey(), newKey()])).sort((a, b) => (a.peerId < b.peerId ? -1 : 1));
	const { ws, owner } = await createTeamWorkspace(ownerKey!.key);
	const invM = await invite(owner, 'member');
	const invB = await invite(owner, 'member');
	const mallory = await startJoiner(ws, malloryKey!.key, 'mallory', invM);
	const bob = await startJoiner(ws, bobKey!.key, 'bob', invB);
	await connect(mallory, owner);
	await connect(bob, owner);
	await connect(bob, mallory);
	for (const p of [owner, mallory, bob]) {
		await waitFor(() => p.authority.joined && p.authority.team.members.size === 3, `${p.name} folds three members`);
	}
	return { ws, owner, mallory, bob };
}

/** A peer's signalling under the team's rule, as app.ts starts it (`extra`: its clock, what it reports). */
async function signallingOf(peer: TeamPeer, workspaceId: string, extra: Pick<HuddleSignallingInit, 'now' | 'onError'> = {}): Promise<HuddleSignalling> {
	const s = new HuddleSignalling({ node: peer.node, mayJoin: (ws, channel, peerId) => ws === workspaceId && mayHuddle({ authority: peer.authority, docs: peer.docs }, channel, peerId), ...extra });
	await s.start();
	services.push(s);
	return s;
}

/** `peer` in the huddle of `channel`, as HuddleState runs it; `errors` collects what CallMesh (and the signalling) report. */
async function inHuddle(peer: TeamPeer, workspaceId: string, channel: string, now?: () => number) {
	const errors: Error[] = [];
	const signalling = await signallingOf(peer, workspaceId, { onError: (e) => errors.push(e), ...(now !== undefined ? { now } : {}) });
	const mesh = new CallMesh({ signalling, me: peer.peerId, onChange: () => undefined, onError: (e) => errors.push(e) });
	meshes.push(mesh);
	await mesh.join(workspaceId, channel);
	return { mesh, signalling, errors };
}

/**
 * A modified client: JOIN, and on ACCEPT an OFFER and the ANSWER read; after that it reads
 * nothing more and never closes its end.
 */
async function rawCall(from: TeamPeer, to: TeamPeer, workspaceId: string, channelId: string) {
	const stream = await from.node.dialProtocol(peerIdFromString(to.peerId), HUDDLE_PROTOCOL_ID);
	const frames = frameStream(stream, { maxFrameBytes: MAX_SIGNAL_FRAME_BYTES });
	await frames.write(encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId, channelId }));
	const first = await frames.read();
	const accepted = first?.[0] === HuddleMessageType.accept;
	if (accepted) {
		await frames.write(encodeHuddleMessage({ type: HuddleMessageType.offer, sdp: 'v=0 recvonly' }));
		expect((await frames.read())?.[0]).toBe(HuddleMessageType.answer);
	}
	return { accepted, first, frames };
}

/** An ICE candidate as a call's other side sends it. */
function candidate(i: number): Uint8Array {
	return encodeHuddleMessage({ type: HuddleMessageType.candidate, candidate: `candidate:${i} 1 udp 1 10.0.0.1 ${1000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
}

/** An awareness state of `peer` in the huddle of `channel`, as another device publishes it, applied to `awareness`. */
function listInHuddle(awareness: Awareness, peer: string, channel: string): Awareness {
	const theirs = new Awareness(new Y.Doc());
	theirs.setLocalState({ peer, huddle: { channel, muted: false } });
	applyAwarenessUpdate(awareness, encodeAwarenessUpdate(theirs, [theirs.clientID]), 'remote');
	return theirs;
}

describe('huddle calls: who gets the microphone', () => {
	it('a participant awareness lists connects and gets the microphone, also after a refusal while its awareness had not arrived', async () => {
		const { ws, owner, bob } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => bob.docs.isListed(channel), 'bob gets the channel');
		const ownerSide = await inHuddle(owner, ws.id, channel);
		ownerSide.mesh.reach([owner.peerId]); // bob's awareness has not reached the owner yet
		const bobSide = await inHuddle(bob, ws.id, channel);
		bobSide.mesh.reach([bob.peerId, owner.peerId]); // bob sorts first: he calls

		await waitFor(() => bobSide.errors.length > 0, 'the owner refuses the call of someone it does not see in the huddle');
		expect(bobSide.errors[0]).toBeInstanceOf(HuddleDeniedError);
		expect((bobSide.errors[0] as HuddleDeniedError).reason).toBe(HuddleDenied.notInHuddle);
		expect(ownerSide.mesh.connected()).toEqual([]);

		// Bob's awareness arrives; he calls again (2 s after the refusal) and is taken.
		ownerSide.mesh.reach([owner.peerId, bob.peerId]);
		await waitFor(() => ownerSide.mesh.connected().includes(bob.peerId) && bobSide.mesh.connected().includes(owner.peerId), 'both connected', 15_000);
		expect(micOpen()).toHaveLength(2); // each sends its microphone to the other
	}, 60_000);

	it('a member not in the huddle (absent from awareness) who calls in is refused and gets no microphone', async () => {
		const { ws, owner, mallory, bob } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => mallory.docs.isListed(channel) && bob.docs.isListed(channel), 'the channel reaches everyone');
		const ownerSide = await inHuddle(owner, ws.id, channel);
		const bobSide = await inHuddle(bob, ws.id, channel);
		ownerSide.mesh.reach([owner.peerId, bob.peerId]);
		bobSide.mesh.reach([bob.peerId, owner.peerId]);
		await waitFor(() => ownerSide.mesh.connected().includes(bob.peerId), 'bob connected');

		// Mallory may read the channel and sorts first, but nobody lists her in the huddle.
		const { accepted, first } = await rawCall(mallory, owner, ws.id, channel);
		expect(accepted).toBe(false);
		expect([...(first ?? [])]).toEqual([HuddleMessageType.denied, HuddleDenied.notInHuddle]);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(ownerSide.mesh.connected()).toEqual([bob.peerId]);
		expect(micOpen()).toHaveLength(2); // the owner's and bob's connection to each other, no third
	}, 60_000);

	it('a participant calling the wrong way round (it sorts after the one it calls) is refused', async () => {
		const { ws, owner, bob } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => bob.docs.isListed(channel), 'bob gets the channel');
		const bobSide = await inHuddle(bob, ws.id, channel);
		bobSide.mesh.reach([bob.peerId, owner.peerId]);
		const { accepted } = await rawCall(owner, bob, ws.id, channel); // bob is the one to call
		expect(accepted).toBe(false);
		expect(micOpen()).toEqual([]);
	}, 60_000);

	it('a member removed from a private channel loses the audio at once, even when her client neither reads nor closes the signalling stream', async () => {
		const { ws, owner, mallory, bob } = await orderedTeam();
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId, bob.peerId] });
		await waitFor(() => mallory.authority.spaceAccess(space)?.local === true && owner.authority.spaceAccess(space)?.local === true, 'the space reaches mallory');
		const ownerSide = await inHuddle(owner, ws.id, space);
		ownerSide.mesh.reach([owner.peerId, mallory.peerId]); // she is in the huddle, rightly at first
		expect((await rawCall(mallory, owner, ws.id, space)).accepted).toBe(true);
		await waitFor(() => ownerSide.mesh.connected().includes(mallory.peerId), 'the owner’s audio reaches mallory');
		const [pc] = micOpen();
		expect(pc).toBeDefined();

		// The owner removes her from the channel; the app then asks the signalling to revisit its calls.
		await owner.authority.write({ t: 'space-members', space, add: [], remove: [mallory.peerId] });
		await waitFor(() => owner.authority.spaceAccess(space)?.reads(mallory.peerId) === false, 'the removal folded');
		ownerSide.signalling.revisit();
		// The peer connection closes now, not when her stream ends (which her client never does).
		await waitFor(() => pc!.closed, 'the peer connection closed', 1000);
		expect(ownerSide.mesh.connected()).toEqual([]);
		// And the stream she keeps open is reset once its grace after BYE passed.
		await waitFor(() => huddleStreams(owner.node, mallory.peerId).length === 0, 'her stream reset', 5000);
		expect(micOpen()).toEqual([]);
	}, 60_000);

	it('a member removed from a private channel who still lists herself in the huddle is dropped and not taken again', async () => {
		const { ws, owner, mallory, bob } = await orderedTeam();
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId, bob.peerId] });
		await waitFor(() => mallory.authority.spaceAccess(space)?.local === true && owner.authority.spaceAccess(space)?.local === true, 'the space reaches mallory');
		const ownerSide = await inHuddle(owner, ws.id, space);
		ownerSide.mesh.reach([owner.peerId, mallory.peerId]);
		expect((await rawCall(mallory, owner, ws.id, space)).accepted).toBe(true);
		await waitFor(() => ownerSide.mesh.connected().includes(mallory.peerId), 'the owner’s audio reaches mallory');

		// Removed; no revisit this time: the next change of awareness (which still lists her) drops her.
		await owner.authority.write({ t: 'space-members', space, add: [], remove: [mallory.peerId] });
		await waitFor(() => owner.authority.spaceAccess(space)?.reads(mallory.peerId) === false, 'the removal folded');
		ownerSide.mesh.reach([owner.peerId, mallory.peerId]);
		expect(ownerSide.mesh.connected()).toEqual([]);
		expect(micOpen()).toEqual([]);
		expect((await rawCall(mallory, owner, ws.id, space)).accepted).toBe(false);
		expect(micOpen()).toEqual([]);
	}, 60_000);

	it('a re-JOIN gets a new call with its own bound of candidates: the old call and its peer connection end first, and no peer connection takes more than the bound', async () => {
		const { ws, owner, mallory } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => mallory.docs.isListed(channel), 'mallory gets the channel');
		const ownerSide = await inHuddle(owner, ws.id, channel);
		ownerSide.mesh.reach([owner.peerId, mallory.peerId]);
		// Mallory's modified client calls and sends every candidate a call takes.
		const first = await rawCall(mallory, owner, ws.id, channel);
		expect(first.accepted).toBe(true);
		for (let i = 0; i < MAX_CANDIDATES; i++) await first.frames.write(candidate(i));
		const [pc1] = FakePc.all;
		await waitFor(() => pc1!.candidates === MAX_CANDIDATES, 'the owner takes the first call’s candidates');

		// She calls again: the new call replaces the old one, whose peer connection is closed by then.
		const second = await rawCall(mallory, owner, ws.id, channel);
		expect(second.accepted).toBe(true);
		expect(pc1!.closed).toBe(true);
		const pc2 = FakePc.all[1]!;
		expect(pc2).toBeDefined();
		// What the old stream still sends is not taken (its call ended); the new call takes its own bound.
		for (let i = 0; i < 8; i++) await first.frames.write(candidate(100 + i)).catch(() => undefined);
		for (let i = 0; i < MAX_CANDIDATES; i++) await second.frames.write(candidate(200 + i));
		await waitFor(() => pc2.candidates === MAX_CANDIDATES, 'the owner takes the second call’s candidates');
		expect(pc1!.candidates).toBe(MAX_CANDIDATES);
		// One more ends the new call too, and its peer connection with it.
		await second.frames.write(candidate(999));
		await waitFor(() => pc2.closed, 'the owner ends the flooding call');
		expect(ownerSide.errors.some((e) => e.name === 'HuddleProtocolError')).toBe(true);
		expect(FakePc.all.map((pc) => pc.candidates)).toEqual([MAX_CANDIDATES, MAX_CANDIDATES]);
		expect(ownerSide.mesh.connected()).toEqual([]);
	}, 60_000);

	it('a peer that re-JOINs again and again has a few calls taken, then one per a while; the others, and a reconnect after a drop, still get through', async () => {
		const { ws, owner, mallory, bob } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => mallory.docs.isListed(channel) && bob.docs.isListed(channel), 'the channel reaches everyone');
		let clock = 1_000_000;
		const ownerSide = await inHuddle(owner, ws.id, channel, () => clock);
		ownerSide.mesh.reach([owner.peerId, mallory.peerId, bob.peerId]);
		// Mallory's modified client calls again and again: each call taken costs the owner a new peer connection.
		for (let i = 0; i < JOIN_BURST; i++) expect((await rawCall(mallory, owner, ws.id, channel)).accepted).toBe(true);
		expect(FakePc.all).toHaveLength(JOIN_BURST);
		const current = FakePc.all.at(-1)!;
		for (let i = 0; i < 5; i++) {
			const refused = await rawCall(mallory, owner, ws.id, channel);
			expect([...(refused.first ?? [])]).toEqual([HuddleMessageType.denied, HuddleDenied.full]);
		}
		expect(FakePc.all).toHaveLength(JOIN_BURST); // no more peer connections
		expect(current.closed).toBe(false); // and she keeps the call she has
		expect(ownerSide.errors.filter((e) => e.name === 'HuddleJoinRateError')).toHaveLength(1); // reported once
		// A while later one more call of hers is taken, and only one.
		clock += JOIN_EVERY_MS;
		expect((await rawCall(mallory, owner, ws.id, channel)).accepted).toBe(true);
		expect(current.closed).toBe(true);
		expect((await rawCall(mallory, owner, ws.id, channel)).accepted).toBe(false);
		expect(FakePc.all).toHaveLength(JOIN_BURST + 1);

		// Bob, an honest participant, connects; his network drops, and he reconnects (his CallMesh calls again).
		const bobSide = await inHuddle(bob, ws.id, channel);
		bobSide.mesh.reach([bob.peerId, owner.peerId]);
		await waitFor(() => ownerSide.mesh.connected().includes(bob.peerId), 'bob connected', 15_000);
		const before = FakePc.all.length;
		await partition(bob, owner);
		await waitFor(() => !ownerSide.mesh.connected().includes(bob.peerId), 'the drop seen by the owner', 15_000);
		await heal(bob, owner);
		await waitFor(() => ownerSide.mesh.connected().includes(bob.peerId) && FakePc.all.length > before + 1, 'bob reconnected', 15_000);
	}, 60_000);

	it('through HuddleState, one member’s tabs listed first do not take every place: a person listed after them is called', async () => {
		const { ws, owner, mallory, bob } = await orderedTeam();
		const channel = listedDoc(owner, ws.id);
		await waitFor(() => bob.docs.isListed(channel), 'bob gets the channel');
		// More tabs of mallory's than the places a huddle calls, each admitted on the owner by her
		// device's delegation (as a tab's HELLO admits it), so the team counts them as hers.
		const tabs: Awaited<ReturnType<typeof newKey>>[] = [];
		// Keys that sort before the owner's: they are the ones to call (they have no node here), so the owner dials none of them.
		while (tabs.length < MAX_HUDDLE_PEOPLE) {
			const key = await newKey();
			if (key.peerId < owner.peerId) tabs.push(key);
		}
		for (const tab of tabs) {
			const delegation = await signDelegation(mallory.key, { ws: ws.id, device: mallory.peerId, tab: tab.peerId, expires: Date.now() + 60_000 });
			expect(await owner.authority.admits(tab.peerId, delegation)).toBe('ok');
			expect(owner.authority.personOf(tab.peerId)).toBe(mallory.peerId);
		}
		// The owner's huddle as the app wires it: its awareness, its team, its signalling.
		const awareness = new Awareness(new Y.Doc());
		awareness.setLocalState({ peer: owner.peerId });
		const state = new HuddleState({ me: owner.peerId, awareness: (id) => (id === ws.id ? awareness : undefined), team: (id) => (id === ws.id ? owner.authority : undefined) });
		await state.attach(await signallingOf(owner, ws.id));
		const listed: Awareness[] = [];
		try {
			await state.join(ws.id, channel);
			expect(state.joined).toEqual({ workspaceId: ws.id, channelId: channel });
			// Her tabs reach the owner's awareness first, then bob.
			for (const tab of tabs) listed.push(listInHuddle(awareness, tab.peerId, channel));
			listed.push(listInHuddle(awareness, bob.peerId, channel));
			expect(state.people(ws.id, channel).map((p) => p.peerId)).toEqual([owner.peerId, ...tabs.map((t) => t.peerId), bob.peerId]);
			// Bob sorts before the owner: he calls, and the owner takes it only if it wants him.
			const bobSide = await inHuddle(bob, ws.id, channel);
			bobSide.mesh.reach([bob.peerId, owner.peerId]);
			await waitFor(() => state.connected.has(bob.peerId), 'the owner takes bob’s call', 15_000);
			expect(bobSide.mesh.connected()).toEqual([owner.peerId]);
		} finally {
			state.leave();
			for (const a of [awareness, ...listed]) a.destroy();
		}
	}, 60_000);
});
