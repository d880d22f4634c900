/**
 * Membership: the right secret is proven both ways; a wrong secret on either side, a
 * replayed or reflected proof, swapped peer ids, a wrong version or workspace are denied,
 * and no document byte reaches a peer that is not proven.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { DEFAULT_LIMITS, DeniedReason, MessageType, PROTOCOL_VERSION } from '../../../src/lib/mesh/constants';
import { MembershipDeniedError, ProtocolVersionError } from '../../../src/lib/mesh/errors';
import { createProof, newNonce, ProofRole, transcriptBytes, verifyProof, type Transcript } from '../../../src/lib/mesh/membership';
import { SyncSession } from '../../../src/lib/mesh/SyncSession';
import { decodeMessage, encodeMessage, type Message } from '../../../src/lib/mesh/wire';
import { pair, settle, syncBoth, workspace, type Side } from './helpers';
import { MemoryDocs } from './memoryDocs';

const SYNC_TYPES = new Set<number>([MessageType.digest, MessageType.syncStep1, MessageType.syncStep2, MessageType.update, MessageType.done]);

function decodedInbox(side: Side): Message[] {
	return side.inbox.map((bytes) => decodeMessage(bytes, DEFAULT_LIMITS));
}

function docsWithText(text: string): MemoryDocs {
	const docs = new MemoryDocs();
	docs.get(newId()).getText('t').insert(0, text);
	return docs;
}

/** Asserts that `side` was sent no sync message and no byte of `secretText`. */
function assertLearnedNothing(side: Side, secretText: string): void {
	for (const m of decodedInbox(side)) expect(SYNC_TYPES.has(m.type)).toBe(false);
	const needle = new TextEncoder().encode(secretText);
	for (const bytes of side.inbox) expect(Buffer.from(bytes).includes(Buffer.from(needle))).toBe(false);
}

describe('membership proofs', () => {
	const t = (): Transcript => ({ workspaceId: newId(), openerPeerId: 'a', responderPeerId: 'b', nonceA: newNonce(), nonceB: newNonce() });

	it('verify for the same role and transcript only', async () => {
		const keys = await workspace();
		const transcript = t();
		const proof = await createProof(keys.membership, ProofRole.opener, transcript);
		expect(await verifyProof(keys.membership, ProofRole.opener, transcript, proof)).toBe(true);
		// reflected: the opener's proof presented as the responder's
		expect(await verifyProof(keys.membership, ProofRole.responder, transcript, proof)).toBe(false);
		// swapped peer ids
		const swapped = { ...transcript, openerPeerId: 'b', responderPeerId: 'a' };
		expect(await verifyProof(keys.membership, ProofRole.opener, swapped, proof)).toBe(false);
		// replayed into a session with fresh nonces
		expect(await verifyProof(keys.membership, ProofRole.opener, { ...transcript, nonceB: newNonce() }, proof)).toBe(false);
		expect(await verifyProof(keys.membership, ProofRole.opener, { ...transcript, nonceA: newNonce() }, proof)).toBe(false);
		// another secret
		const other = await workspace(transcript.workspaceId);
		expect(await verifyProof(other.membership, ProofRole.opener, transcript, proof)).toBe(false);
	});

	it('cover the transcript bytes written in PROTOCOL.md', () => {
		const transcript = t();
		const e = encoding.createEncoder();
		encoding.writeVarString(e, 'outpost/membership-proof/1');
		encoding.writeVarUint(e, 2);
		encoding.writeVarString(e, transcript.workspaceId);
		encoding.writeVarString(e, 'a');
		encoding.writeVarString(e, 'b');
		encoding.writeVarUint8Array(e, transcript.nonceA);
		encoding.writeVarUint8Array(e, transcript.nonceB);
		expect(transcriptBytes(ProofRole.opener, transcript)).toEqual(encoding.toUint8Array(e));
	});
});

describe('membership exchange', () => {
	it('succeeds with the right secret on both sides', async () => {
		const p = await pair();
		await syncBoth(p);
		expect(p.opener.session.state).toBe('live');
		expect(p.responder.session.state).toBe('live');
		const types = decodedInbox(p.responder).map((m) => m.type);
		expect(types.slice(0, 2)).toEqual([MessageType.hello, MessageType.proof]);
		expect(decodedInbox(p.opener).slice(0, 2).map((m) => m.type)).toEqual([MessageType.challenge, MessageType.ok]);
	});

	for (const wrong of ['opener', 'responder'] as const) {
		it(`denies a ${wrong} with a wrong secret; neither side receives document bytes`, async () => {
			const id = newId();
			const good = await workspace(id);
			const bad = await workspace(id);
			const secretText = 'private text of the workspace';
			const p = await pair({
				openerKeys: wrong === 'opener' ? bad : good,
				responderKeys: wrong === 'opener' ? good : bad,
				openerDocs: docsWithText(secretText),
				responderDocs: docsWithText(secretText)
			});
			p.start();
			await Promise.all([p.opener.closed, p.responder.closed]);
			for (const side of [p.opener, p.responder]) {
				expect(side.errors[0]).toBeInstanceOf(MembershipDeniedError);
				assertLearnedNothing(side, secretText);
				expect(side.docs.applied).toBe(0);
			}
			const denied = [...decodedInbox(p.opener), ...decodedInbox(p.responder)].find((m) => m.type === MessageType.denied);
			expect(denied).toEqual({ type: MessageType.denied, reason: DeniedReason.badProof });
			// the wrong responder never gets the opener's proof
			if (wrong === 'responder') expect(decodedInbox(p.responder).some((m) => m.type === MessageType.proof)).toBe(false);
		});
	}

	it('denies a HELLO for another workspace or another protocol version', async () => {
		for (const variant of ['workspace', 'version'] as const) {
			const keys = await workspace();
			const sent: Message[] = [];
			const errors: Error[] = [];
			const session = new SyncSession({
				role: 'responder',
				workspace: { id: keys.workspaceId, keys },
				localPeerId: 'b',
				remotePeerId: 'a',
				docs: docsWithText('x'),
				send: (bytes) => sent.push(decodeMessage(bytes, DEFAULT_LIMITS))
			});
			session.on('error', (e) => errors.push(e));
			session.start();
			const hello = encodeMessage({
				type: MessageType.hello,
				version: variant === 'version' ? PROTOCOL_VERSION + 1 : PROTOCOL_VERSION,
				workspaceId: variant === 'workspace' ? newId() : keys.workspaceId,
				nonce: newNonce(),
				admission: new Uint8Array(0)
			});
			await session.receive(hello);
			expect(session.state).toBe('closed');
			const reason = variant === 'version' ? DeniedReason.version : DeniedReason.unknownWorkspace;
			expect(sent).toEqual([{ type: MessageType.denied, reason }]);
			expect(errors[0]).toBeInstanceOf(variant === 'version' ? ProtocolVersionError : MembershipDeniedError);
		}
	});

	it('refuses a proof replayed from an earlier session and a reflected challenge proof', async () => {
		const keys = await workspace();
		// Record an honest session between a and b.
		const honest = await pair({ openerKeys: keys });
		await syncBoth(honest);
		const recorded = decodedInbox(honest.responder);
		const hello = recorded.find((m) => m.type === MessageType.hello)!;
		const proof = recorded.find((m) => m.type === MessageType.proof)!;

		// Replay: an attacker (without the secret) replays HELLO and PROOF to a fresh responder.
		const attempt = async (proofFor: (challenge: Message) => Message): Promise<{ sent: Message[]; errors: Error[] }> => {
			const sent: Message[] = [];
			const errors: Error[] = [];
			const docs = docsWithText('secret');
			const session = new SyncSession({
				role: 'responder',
				workspace: { id: keys.workspaceId, keys },
				localPeerId: 'peer-b',
				remotePeerId: 'peer-a',
				docs,
				send: (bytes) => sent.push(decodeMessage(bytes, DEFAULT_LIMITS))
			});
			session.on('error', (e) => errors.push(e));
			session.start();
			await session.receive(encodeMessage(hello));
			await session.receive(encodeMessage(proofFor(sent[0])));
			expect(session.state).toBe('closed');
			expect(sent.map((m) => m.type)).toEqual([MessageType.challenge, MessageType.denied]);
			return { sent, errors };
		};
		const replay = await attempt(() => proof);
		expect(replay.errors[0]).toBeInstanceOf(MembershipDeniedError);
		// Reflection: send the responder's own challenge proof back as the opener's proof.
		const reflect = await attempt((challenge) => {
			if (challenge.type !== MessageType.challenge) throw new Error('expected a challenge');
			return { type: MessageType.proof, proof: challenge.proof };
		});
		expect(reflect.errors[0]).toBeInstanceOf(MembershipDeniedError);
	});

	it('applies nothing from a peer that skips membership and sends document messages', async () => {
		const keys = await workspace();
		const victimDocs = docsWithText('victim');
		const before = victimDocs.snapshot();
		const forged = new Y.Doc();
		forged.getText('t').insert(0, 'forged');
		const update = Y.encodeStateAsUpdate(forged);
		const docId = victimDocs.list()[0];
		const attacks: Message[][] = [
			[{ type: MessageType.update, docId, update }],
			[{ type: MessageType.hello, version: PROTOCOL_VERSION, workspaceId: keys.workspaceId, nonce: newNonce(), admission: new Uint8Array(0) }, { type: MessageType.syncStep2, docId, update }],
			[{ type: MessageType.hello, version: PROTOCOL_VERSION, workspaceId: keys.workspaceId, nonce: newNonce(), admission: new Uint8Array(0) }, { type: MessageType.ok }, { type: MessageType.update, docId, update }]
		];
		for (const attack of attacks) {
			const sent: Message[] = [];
			const session = new SyncSession({
				role: 'responder',
				workspace: { id: keys.workspaceId, keys },
				localPeerId: 'b',
				remotePeerId: 'a',
				docs: victimDocs,
				send: (bytes) => sent.push(decodeMessage(bytes, DEFAULT_LIMITS))
			});
			session.start();
			for (const m of attack) await session.receive(encodeMessage(m));
			expect(session.state).toBe('closed');
			expect(session.error?.name).toBe('UnexpectedMessageError');
			expect(sent.at(-1)).toEqual({ type: MessageType.denied, reason: DeniedReason.malformed });
			expect(sent.some((m) => SYNC_TYPES.has(m.type))).toBe(false);
		}
		expect(victimDocs.applied).toBe(0);
		expect(victimDocs.snapshot()).toEqual(before);
	});

	it('denies when the peers disagree on who is who (swapped or wrong peer ids)', async () => {
		const p = await pair({ opener: { localPeerId: 'peer-b', remotePeerId: 'peer-a' } });
		p.start();
		await Promise.all([p.opener.closed, p.responder.closed]);
		expect(p.opener.errors[0]).toBeInstanceOf(MembershipDeniedError);
		expect(decodedInbox(p.opener).some((m) => SYNC_TYPES.has(m.type))).toBe(false);
	});

	it('denies a revoked peer after its proof', async () => {
		const p = await pair({ responder: { isAllowed: (peer) => peer !== 'peer-a' }, openerDocs: docsWithText('x') });
		p.start();
		await Promise.all([p.opener.closed, p.responder.closed]);
		expect(p.opener.errors[0]).toMatchObject({ name: 'MembershipDeniedError', reason: DeniedReason.revoked, byRemote: true });
		expect(decodedInbox(p.opener).some((m) => SYNC_TYPES.has(m.type))).toBe(false);
	});

	it('denies a responder removed between its challenge and its OK, before the opener sends any document', async () => {
		// The responder holds its OK back until the opener has folded its removal: the opener
		// checked it at CHALLENGE, and asks again when the OK comes.
		let removed = false;
		const p = await pair({
			opener: { isAllowed: () => !removed },
			openerDocs: docsWithText('written after the removal'),
			deliver: async (to, _index, bytes) => {
				if (to === p.opener && bytes[0] === MessageType.ok) removed = true;
				await to.session.receive(bytes);
			}
		});
		p.start();
		await Promise.race([p.opener.closed, p.opener.synced]);
		expect(removed).toBe(true);
		expect(p.opener.errors[0]).toMatchObject({ name: 'MembershipDeniedError', reason: DeniedReason.revoked, byRemote: false });
		assertLearnedNothing(p.responder, 'written after the removal');
	});

	it('gives up when membership is not proven in time', async () => {
		const keys = await workspace();
		const session = new SyncSession({
			role: 'responder',
			workspace: { id: keys.workspaceId, keys },
			localPeerId: 'b',
			remotePeerId: 'a',
			docs: new MemoryDocs(),
			send: () => undefined,
			limits: { membershipTimeoutMs: 20 }
		});
		const errors: Error[] = [];
		session.on('error', (e) => errors.push(e));
		session.start();
		await settle();
		await new Promise((r) => setTimeout(r, 40));
		expect(errors[0]?.name).toBe('MembershipTimeoutError');
		expect(session.state).toBe('closed');
	});

	it('stops when aborted', async () => {
		const controller = new AbortController();
		const p = await pair({ opener: { signal: controller.signal } });
		controller.abort();
		p.start();
		await p.opener.closed;
		expect(p.opener.errors[0]?.name).toBe('SessionAbortedError');
		p.responder.session.close();
	});
});
