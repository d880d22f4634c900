/**
 * Huddle signalling (`/outpost/huddle/1`) under the team's rule, with real libp2p nodes running
 * the workspace core: a member's call is accepted and carries offer, answer and candidates both
 * ways; a stranger's JOIN (a modified client that skips its own check) is refused before anything
 * else is read, as is a member's for a private channel they are not in; a member removed from the
 * private channel loses the call; oversized and malformed input ends the stream; a stranger's
 * stream that says nothing, or keeps its end open after DENIED, is reset, and what it holds
 * unread counts in the node's unproven budget; a member's second tab (a throwaway node key and
 * its device's delegation) calls as its device does; a call ended on either side resets, after
 * a grace, the stream a peer keeps open. The audio
 * (RTCPeerConnection) is the browser's and is tested end to end (tests/e2e/huddle.spec.ts).
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import '../../src/lib/mesh/polyfills.node.js';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHuddleMessage, HuddleDenied, HuddleMessageType, HUDDLE_PROTOCOL_ID, MAX_JOIN_BYTES } from '../../src/lib/huddle/huddleMessages.js';
import { BYE_GRACE_MS, HuddleDeniedError, HuddleSignalling, MAX_CANDIDATES, type HuddleSignallingInit, type SignalCall, type SignalMessage } from '../../src/lib/huddle/HuddleSignalling.js';
import { mayHuddle } from '../../src/lib/huddle/huddleRule.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import { newId } from '../../src/lib/doc/ids.js';
import { UnprovenBudget } from '../../src/lib/mesh/unprovenBudget.js';
import { addressOf, ended, huddleStreams, startNode, varint, waitFor } from './helpers.js';
import { connect, stopPeers } from './peers.js';
import { listedDoc, startTeamPeer, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

const services: HuddleSignalling[] = [];

afterEach(async () => {
	for (const s of services.splice(0)) await s.stop().catch(() => undefined);
	await stopTeamPeers();
	await stopPeers();
});

/** A peer's signalling under the team's rule, as app.ts starts it; `more`: further options (deadlines, a budget). */
async function signallingOf(peer: TeamPeer, workspaceId: string, more: Pick<HuddleSignallingInit, 'unproven' | 'joinTimeoutMs' | 'onError'> = {}): Promise<HuddleSignalling> {
	const s = new HuddleSignalling({ node: peer.node, mayJoin: (ws, channel, peerId) => ws === workspaceId && mayHuddle({ authority: peer.authority, docs: peer.docs }, channel, peerId), ...more });
	await s.start();
	services.push(s);
	return s;
}

/** A side in the huddle of `channel` that answers every offer and records what it got. */
function inHuddle(s: HuddleSignalling, channel: string) {
	const calls: SignalCall[] = [];
	const received: SignalMessage[] = [];
	const errors: Error[] = [];
	s.setHandler((call) => {
		if (call.channelId !== channel) return false;
		calls.push(call);
		call
			.run(async (m) => {
				received.push(m);
				if (m.type === HuddleMessageType.offer) {
					await call.send({ type: HuddleMessageType.answer, sdp: `answer to ${m.sdp}` });
					await call.send({ type: HuddleMessageType.candidate, candidate: 'candidate:2 1 udp 1 10.0.0.2 2 typ host', sdpMid: '0', sdpMLineIndex: 0 });
				}
			})
			.catch((e: Error) => errors.push(e));
		return true;
	});
	return { calls, received, errors };
}

/** Reads what the other side sends on `call` into a list; `done` resolves when the call ends (with the error that ended it, if any). */
function collect(call: SignalCall) {
	const received: SignalMessage[] = [];
	const done = call.run((m) => void received.push(m)).then(
		() => undefined,
		(error: unknown) => error
	);
	return { received, done };
}

/** A client that skips its own check (dials whoever it is told to). */
async function modified(node: TeamPeer['node']): Promise<HuddleSignalling> {
	const s = new HuddleSignalling({ node, mayJoin: () => true });
	services.push(s);
	return s;
}

async function refusal(calling: Promise<unknown>): Promise<number> {
	const error = await calling.then(() => undefined, (e: unknown) => e);
	expect(error).toBeInstanceOf(HuddleDeniedError);
	return (error as HuddleDeniedError).reason;
}

describe('huddle signalling under the team', () => {
	it("a member's call is accepted and carries offer, answer and candidates; BYE ends it on both sides", async () => {
		const { ws, owner, bob } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const ownerSide = inHuddle(await signallingOf(owner, ws.id), channel);
		const bobs = await signallingOf(bob, ws.id);
		await waitFor(() => bob.docs.isListed(channel), 'bob gets the channel');

		const call = await bobs.call(owner.peerId, ws.id, channel);
		const bobSide = collect(call);
		await call.send({ type: HuddleMessageType.offer, sdp: 'v=0 offer' });
		await call.send({ type: HuddleMessageType.candidate, candidate: 'candidate:1 1 udp 1 10.0.0.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0 });
		await waitFor(() => bobSide.received.length === 2 && ownerSide.received.length === 2, 'both sides signalled');
		expect(bobSide.received[0]).toEqual({ type: HuddleMessageType.answer, sdp: 'answer to v=0 offer' });
		expect(bobSide.received[1]?.type).toBe(HuddleMessageType.candidate);
		expect(ownerSide.received.map((m) => m.type)).toEqual([HuddleMessageType.offer, HuddleMessageType.candidate]);
		expect(ownerSide.calls[0]?.peerId).toBe(bob.peerId);

		// Not in that huddle: refused with DENIED 2.
		const other = listedDoc(owner, ws.id);
		await waitFor(() => bob.docs.isListed(other), 'bob gets the other channel');
		expect(await refusal(bobs.call(owner.peerId, ws.id, other))).toBe(HuddleDenied.notInHuddle);

		call.close();
		await waitFor(() => ownerSide.calls[0]?.done === true, 'the owner sees the call end');
		expect(await bobSide.done).toBeUndefined();
		expect(ownerSide.errors).toEqual([]);
	}, 60_000);

	it("a stranger's JOIN is refused before anything else is read, and an oversized one ends the stream", async () => {
		const { ws, owner } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const ownerSide = inHuddle(await signallingOf(owner, ws.id), channel);
		const stranger = await startNode();
		await stranger.dial(addressOf(owner.node));

		const s = await modified(stranger);
		expect(await refusal(s.call(owner.peerId, ws.id, channel))).toBe(HuddleDenied.notAllowed);
		expect(ownerSide.calls).toEqual([]);

		// A frame over the 128-byte bound a stranger gets: the stream is reset, nothing is answered.
		const stream = await stranger.dialProtocol(owner.node.peerId, HUDDLE_PROTOCOL_ID);
		const frames = frameStream(stream);
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, HuddleMessageType.join);
		encoding.writeVarString(e, 'x'.repeat(MAX_JOIN_BYTES));
		await frames.write(encoding.toUint8Array(e));
		expect(await ended(stream, 5000)).not.toBe('open');
		expect(ownerSide.calls).toEqual([]);
	}, 60_000);

	it('a private channel: only its members get in, and a member removed from it loses the call', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId] });
		await waitFor(() => bob.authority.spaceAccess(space) !== undefined && mallory.authority.spaceAccess(space)?.local === true, 'the space reaches both');
		const ownerSide = inHuddle(await signallingOf(owner, ws.id), space);

		// Bob is a member of the workspace, not of the channel; his own client would not even dial.
		const bobs = await signallingOf(bob, ws.id);
		expect(await refusal(bobs.call(owner.peerId, ws.id, space))).toBe(HuddleDenied.notAllowed);
		expect(await refusal((await modified(bob.node)).call(owner.peerId, ws.id, space))).toBe(HuddleDenied.notAllowed);
		expect(ownerSide.calls).toEqual([]);

		const mallorys = await signallingOf(mallory, ws.id);
		const call = await mallorys.call(owner.peerId, ws.id, space);
		const side = collect(call);
		await call.send({ type: HuddleMessageType.offer, sdp: 'v=0' });
		await waitFor(() => side.received.length > 0, 'mallory gets an answer');

		await owner.authority.write({ t: 'space-members', space, add: [], remove: [mallory.peerId] });
		await waitFor(() => owner.authority.spaceAccess(space)?.reads(mallory.peerId) === false, 'the removal folded');
		services[0]!.revisit();
		await side.done;
		expect(call.done).toBe(true);
		expect(await refusal((await modified(mallory.node)).call(owner.peerId, ws.id, space))).toBe(HuddleDenied.notAllowed);
	}, 60_000);

	it('a member that floods candidates or sends out of order loses the call', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const ownerSide = inHuddle(await signallingOf(owner, ws.id), channel);
		const bobs = await signallingOf(bob, ws.id);
		await waitFor(() => bob.docs.isListed(channel), 'bob gets the channel');

		const flood = await bobs.call(owner.peerId, ws.id, channel);
		const flooding = collect(flood);
		for (let i = 0; i <= MAX_CANDIDATES; i++) {
			await flood.send({ type: HuddleMessageType.candidate, candidate: `candidate:${i} 1 udp 1 10.0.0.1 ${i} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
		}
		await waitFor(() => ownerSide.errors.length === 1, 'the owner ends the flood');
		expect(ownerSide.errors[0]?.name).toBe('HuddleProtocolError');
		expect(await flooding.done).toBeInstanceOf(Error);

		// The responder sends offers, not the opener's answers: an ANSWER from the opener is out of order.
		const wrong = await bobs.call(owner.peerId, ws.id, channel);
		void collect(wrong);
		await wrong.send({ type: HuddleMessageType.answer, sdp: 'v=0' });
		await waitFor(() => ownerSide.errors.length === 2, 'the owner ends the call');
		expect(ownerSide.errors[1]?.name).toBe('HuddleProtocolError');
	}, 60_000);

	it('a stranger’s stream that says nothing, sends half a JOIN or keeps its end open after DENIED is reset; what it holds counts in the unproven budget', async () => {
		const { ws, owner } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const budget = new UnprovenBudget();
		const errors: Error[] = [];
		inHuddle(await signallingOf(owner, ws.id, { unproven: budget, joinTimeoutMs: 300, onError: (e) => errors.push(e) }), channel);
		const stranger = await startNode();
		await stranger.dial(addressOf(owner.node));
		const open = () => huddleStreams(owner.node, stranger.peerId.toString());

		// Says nothing.
		await stranger.dialProtocol(owner.node.peerId, HUDDLE_PROTOCOL_ID);
		await waitFor(() => open().length === 1, 'the silent stream open');
		await waitFor(() => open().length === 0, 'the silent stream reset');

		// Half a JOIN: its bytes are held in the node's budget, then given back when it is reset.
		const half = await stranger.dialProtocol(owner.node.peerId, HUDDLE_PROTOCOL_ID);
		half.send(Uint8Array.from([...varint(100), ...new Uint8Array(50)]));
		await waitFor(() => budget.heldBytes > 0, 'the half JOIN counted in the budget');
		await waitFor(() => open().length === 0 && budget.heldBytes === 0, 'the half JOIN reset and its bytes given back');

		// A whole JOIN, refused, and the stranger keeps its end open.
		const s = await modified(stranger);
		expect(await refusal(s.call(owner.peerId, ws.id, channel))).toBe(HuddleDenied.notAllowed);
		const kept = await stranger.dialProtocol(owner.node.peerId, HUDDLE_PROTOCOL_ID);
		const frames = frameStream(kept);
		await frames.write(encodeJoin(ws.id, channel));
		expect(await frames.read()).not.toBeNull(); // DENIED
		await waitFor(() => open().length === 0, 'the refused stream reset once its grace passed');
		expect(errors.length).toBeGreaterThanOrEqual(2);
	}, 60_000);

	it('a call ended on either side is over although the other side keeps its end of the stream open: the stream is reset after the grace', async () => {
		const { ws, owner, mallory } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const owners = await signallingOf(owner, ws.id);
		inHuddle(owners, channel);
		await waitFor(() => mallory.docs.isListed(channel), 'mallory gets the channel');

		// The owner calls mallory's modified client, which accepts and then neither reads nor closes.
		await mallory.node.handle(
			HUDDLE_PROTOCOL_ID,
			async (stream) => {
				const frames = frameStream(stream);
				await frames.read(); // JOIN
				await frames.write(encodeHuddleMessage({ type: HuddleMessageType.accept }));
			},
			{ runOnLimitedConnection: true }
		);
		const call = await owners.call(mallory.peerId, ws.id, channel);
		void collect(call);
		await waitFor(() => huddleStreams(owner.node, mallory.peerId).length === 1, 'the call’s stream open');
		call.close();
		await waitFor(() => call.done && owners.active === 0, 'the call over here at once', 500);
		await waitFor(() => huddleStreams(owner.node, mallory.peerId).length === 0, 'the stream she keeps open reset', BYE_GRACE_MS + 3000);

		// Mallory calls the owner, says BYE, and keeps her end open.
		const stream = await mallory.node.dialProtocol(owner.node.peerId, HUDDLE_PROTOCOL_ID);
		const frames = frameStream(stream);
		await frames.write(encodeJoin(ws.id, channel));
		expect((await frames.read())?.[0]).toBe(HuddleMessageType.accept);
		await frames.write(encodeHuddleMessage({ type: HuddleMessageType.bye }));
		await waitFor(() => owners.active === 0, 'the call over on the owner');
		await waitFor(() => huddleStreams(owner.node, mallory.peerId).length === 0, 'the stream she keeps open after BYE reset', BYE_GRACE_MS + 3000);
	}, 60_000);

	it('a member’s second tab calls as its device does', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const tab = await startTeamPeer(ws, bob.key, 'bob-tab', [], true);
		await connect(tab, owner);
		const channel = listedDoc(owner, ws.id);
		const ownerSide = inHuddle(await signallingOf(owner, ws.id), channel);
		await waitFor(() => tab.docs.isListed(channel), 'the tab gets the channel');

		const call = await (await signallingOf(tab, ws.id)).call(owner.peerId, ws.id, channel);
		const side = collect(call);
		await call.send({ type: HuddleMessageType.offer, sdp: 'v=0 from a tab' });
		await waitFor(() => side.received.length > 0, 'the tab gets an answer');
		expect(ownerSide.calls[0]?.peerId).toBe(tab.node.peerId.toString());
		call.close();
	}, 60_000);
});

/** A JOIN, as a modified client would send it. */
function encodeJoin(workspaceId: string, channelId: string): Uint8Array {
	return encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId, channelId });
}
