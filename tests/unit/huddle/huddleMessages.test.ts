/** The `/outpost/huddle/1` codec: round trips, every bound on both sides of its limit, malformed input. */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import {
	decodeHuddleMessage,
	encodeHuddleMessage,
	HuddleDenied,
	HuddleMessageType,
	MalformedHuddleMessageError,
	MAX_CANDIDATE_BYTES,
	MAX_JOIN_BYTES,
	MAX_MID_BYTES,
	MAX_MLINE_INDEX,
	MAX_SDP_BYTES,
	MAX_SIGNAL_FRAME_BYTES,
	type HuddleMessage
} from '../../../src/lib/huddle/huddleMessages.js';
import { newId } from '../../../src/lib/doc/ids.js';

const ws = newId();
const channel = newId();

/** Hand-made bytes: a type, then fields written by `write`. */
function raw(type: number, write: (e: encoding.Encoder) => void = () => {}): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, type);
	write(e);
	return encoding.toUint8Array(e);
}

function malformed(bytes: Uint8Array): void {
	expect(() => decodeHuddleMessage(bytes)).toThrow(MalformedHuddleMessageError);
}

describe('huddle messages', () => {
	it('round-trips every message type', () => {
		const messages: HuddleMessage[] = [
			{ type: HuddleMessageType.join, workspaceId: ws, channelId: channel },
			{ type: HuddleMessageType.accept },
			{ type: HuddleMessageType.denied, reason: HuddleDenied.notAllowed },
			{ type: HuddleMessageType.denied, reason: HuddleDenied.notInHuddle },
			{ type: HuddleMessageType.denied, reason: HuddleDenied.full },
			{ type: HuddleMessageType.offer, sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
			{ type: HuddleMessageType.answer, sdp: 'v=0\r\n' },
			{ type: HuddleMessageType.candidate, candidate: 'candidate:1 1 udp 2122260223 10.77.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
			{ type: HuddleMessageType.candidate, candidate: '', sdpMid: '', sdpMLineIndex: MAX_MLINE_INDEX },
			{ type: HuddleMessageType.bye }
		];
		for (const m of messages) expect(decodeHuddleMessage(encodeHuddleMessage(m))).toEqual(m);
	});

	it('writes the wire format PROTOCOL.md gives', () => {
		expect([...encodeHuddleMessage({ type: HuddleMessageType.accept })]).toEqual([2]);
		expect([...encodeHuddleMessage({ type: HuddleMessageType.denied, reason: HuddleDenied.full })]).toEqual([3, 3]);
		expect([...encodeHuddleMessage({ type: HuddleMessageType.bye })]).toEqual([7]);
		const join = encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId: ws, channelId: channel });
		expect(join.length).toBe(1 + 27 + 27);
		expect(join.length).toBeLessThanOrEqual(MAX_JOIN_BYTES);
	});

	it('takes an SDP of exactly 64 KiB and refuses one byte more, on both sides', () => {
		const sdp = 'a'.repeat(MAX_SDP_BYTES);
		const bytes = encodeHuddleMessage({ type: HuddleMessageType.offer, sdp });
		expect(bytes.length).toBeLessThanOrEqual(MAX_SIGNAL_FRAME_BYTES);
		expect(decodeHuddleMessage(bytes)).toEqual({ type: HuddleMessageType.offer, sdp });
		expect(() => encodeHuddleMessage({ type: HuddleMessageType.answer, sdp: sdp + 'a' })).toThrow(MalformedHuddleMessageError);
		// Multi-byte characters count in bytes.
		expect(() => encodeHuddleMessage({ type: HuddleMessageType.offer, sdp: 'é'.repeat(MAX_SDP_BYTES / 2 + 1) })).toThrow(MalformedHuddleMessageError);
		malformed(raw(HuddleMessageType.offer, (e) => encoding.writeVarString(e, 'a'.repeat(MAX_SDP_BYTES + 1))));
		malformed(raw(HuddleMessageType.offer, (e) => encoding.writeVarString(e, '')));
	});

	it('bounds a candidate, its media id and its m-line index', () => {
		const ok = { type: HuddleMessageType.candidate, candidate: 'c'.repeat(MAX_CANDIDATE_BYTES), sdpMid: 'm'.repeat(MAX_MID_BYTES), sdpMLineIndex: MAX_MLINE_INDEX } as const;
		expect(decodeHuddleMessage(encodeHuddleMessage(ok))).toEqual(ok);
		expect(() => encodeHuddleMessage({ ...ok, candidate: ok.candidate + 'c' })).toThrow(MalformedHuddleMessageError);
		expect(() => encodeHuddleMessage({ ...ok, sdpMid: ok.sdpMid + 'm' })).toThrow(MalformedHuddleMessageError);
		expect(() => encodeHuddleMessage({ ...ok, sdpMLineIndex: MAX_MLINE_INDEX + 1 })).toThrow(MalformedHuddleMessageError);
		expect(() => encodeHuddleMessage({ ...ok, sdpMLineIndex: -1 })).toThrow(MalformedHuddleMessageError);
		const fields = (candidate: string, mid: string, index: number) => (e: encoding.Encoder) => {
			encoding.writeVarString(e, candidate);
			encoding.writeVarString(e, mid);
			encoding.writeVarUint(e, index);
		};
		malformed(raw(HuddleMessageType.candidate, fields('c'.repeat(MAX_CANDIDATE_BYTES + 1), '0', 0)));
		malformed(raw(HuddleMessageType.candidate, fields('c', 'm'.repeat(MAX_MID_BYTES + 1), 0)));
		malformed(raw(HuddleMessageType.candidate, fields('c', '0', MAX_MLINE_INDEX + 1)));
	});

	it('takes only well-formed ids in JOIN', () => {
		expect(() => encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId: 'not an id', channelId: channel })).toThrow(MalformedHuddleMessageError);
		const join = (a: string, b: string) => raw(HuddleMessageType.join, (e) => (encoding.writeVarString(e, a), encoding.writeVarString(e, b)));
		malformed(join(ws.toUpperCase(), channel));
		malformed(join(ws, channel + 'a'));
		malformed(join(ws, ''));
		// A long id is refused by its length before it is read.
		malformed(join('a'.repeat(1000), channel));
	});

	it('refuses unknown types and reasons, trailing bytes, truncation, bad UTF-8 and huge lengths', () => {
		malformed(new Uint8Array());
		malformed(raw(0));
		malformed(raw(8));
		malformed(raw(200));
		malformed(raw(HuddleMessageType.denied, (e) => encoding.writeVarUint(e, 0)));
		malformed(raw(HuddleMessageType.denied, (e) => encoding.writeVarUint(e, 4)));
		malformed(raw(HuddleMessageType.denied));
		malformed(raw(HuddleMessageType.accept, (e) => encoding.writeUint8(e, 0)));
		malformed(raw(HuddleMessageType.bye, (e) => encoding.writeUint8(e, 0)));
		const offer = encodeHuddleMessage({ type: HuddleMessageType.offer, sdp: 'v=0' });
		malformed(offer.subarray(0, offer.length - 1));
		malformed(raw(HuddleMessageType.offer, (e) => encoding.writeVarUint8Array(e, new Uint8Array([0xff, 0xfe]))));
		// A length that claims more than the frame holds (and more than 2^32).
		malformed(new Uint8Array([HuddleMessageType.offer, 0xff, 0xff, 0xff, 0xff, 0x0f]));
		malformed(new Uint8Array([HuddleMessageType.offer, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
		// An endless varint type.
		malformed(new Uint8Array(20).fill(0x81));
	});
});
