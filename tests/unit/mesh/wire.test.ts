/** Wire messages: every type round-trips; limits, ids and exact lengths are enforced with named errors. */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { DEFAULT_LIMITS, DeniedReason, MessageType } from '../../../src/lib/mesh/constants';
import { MalformedMessageError, MessageTooLargeError } from '../../../src/lib/mesh/errors';
import { decodeMessage, encodeMessage, type Message } from '../../../src/lib/mesh/wire';

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe('wire messages', () => {
	const docId = newId();
	const samples: Message[] = [
		{ type: MessageType.hello, version: 2, workspaceId: newId(), nonce: bytes(32), admission: bytes(120) },
		{ type: MessageType.challenge, nonce: bytes(32, 1), proof: bytes(32, 2) },
		{ type: MessageType.proof, proof: bytes(32, 3) },
		{ type: MessageType.ok },
		{ type: MessageType.denied, reason: DeniedReason.badProof },
		{ type: MessageType.digest, more: false, entries: [{ docId, digest: bytes(32, 4) }, { docId: newId(), digest: bytes(32, 5) }] },
		{ type: MessageType.digest, more: true, entries: [] },
		{ type: MessageType.syncStep1, docId, stateVector: new Uint8Array([0]) },
		{ type: MessageType.syncStep2, docId, update: bytes(1000) },
		{ type: MessageType.update, docId, update: new Uint8Array([0, 0]) },
		{ type: MessageType.done, received: 12 }
	];

	it('round-trip', () => {
		for (const m of samples) expect(decodeMessage(encodeMessage(m), DEFAULT_LIMITS)).toEqual(m);
	});

	it('start with the numeric type written in PROTOCOL.md', () => {
		expect([...encodeMessage({ type: MessageType.ok })]).toEqual([4]);
		expect([...encodeMessage({ type: MessageType.done, received: 3 })]).toEqual([20, 3]);
		const step1 = encodeMessage({ type: MessageType.syncStep1, docId, stateVector: new Uint8Array([0]) });
		expect([...step1]).toEqual([17, 26, ...new TextEncoder().encode(docId), 1, 0]);
	});

	it('refuse trailing bytes, unknown types, bad ids and wrong fixed lengths', () => {
		const bad = [
			new Uint8Array([]),
			new Uint8Array([4, 0]),
			new Uint8Array([99]),
			new Uint8Array([0x80]),
			new Uint8Array([5, 99]),
			encodeMessage({ type: MessageType.syncStep1, docId: 'A'.repeat(26), stateVector: new Uint8Array([0]) }),
			encodeMessage({ type: MessageType.proof, proof: bytes(31) }),
			encodeMessage({ type: MessageType.hello, version: 1, workspaceId: newId(), nonce: bytes(33), admission: bytes(0) }),
			encodeMessage({ type: MessageType.digest, more: false, entries: [{ docId, digest: bytes(16) }] })
		];
		for (const b of bad) expect(() => decodeMessage(b, DEFAULT_LIMITS)).toThrow(MalformedMessageError);
	});

	it('enforce size limits per type before decoding, and count limits', () => {
		const limits = { ...DEFAULT_LIMITS, maxControlBytes: 100, maxUpdateBytes: 200, maxStep2Bytes: 400, maxDigestEntries: 2 };
		const big = (type: 18 | 19, n: number) => encodeMessage({ type, docId, update: bytes(n) } as Message);
		expect(() => decodeMessage(big(MessageType.update, 300), limits)).toThrow(MessageTooLargeError);
		expect(decodeMessage(big(MessageType.syncStep2, 300), limits).type).toBe(MessageType.syncStep2);
		expect(() => decodeMessage(big(MessageType.syncStep2, 500), limits)).toThrow(MessageTooLargeError);
		const sv = encodeMessage({ type: MessageType.syncStep1, docId, stateVector: bytes(150) });
		expect(() => decodeMessage(sv, limits)).toThrow(MessageTooLargeError);
		const digest = encodeMessage({ type: MessageType.digest, more: false, entries: [] });
		digest[2] = 3; // count 3 > maxDigestEntries
		expect(() => decodeMessage(digest, limits)).toThrow(MalformedMessageError);
		// a length field far beyond the message
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, MessageType.update);
		encoding.writeVarString(e, docId);
		encoding.writeVarUint(e, 2 ** 50);
		expect(() => decodeMessage(encoding.toUint8Array(e), DEFAULT_LIMITS)).toThrow(MalformedMessageError);
	});
});
