/**
 * The messages of `/outpost/huddle/1` (PROTOCOL.md "Huddles"): the signalling of one audio call
 * between two browsers in a channel's huddle. Numeric types, `encode`/`decode` over lib0
 * encoding, every length and count bounded before anything is allocated. One call per stream:
 * the opener sends JOIN; the responder answers ACCEPT or DENIED; then the opener sends OFFER,
 * the responder ANSWER, both send CANDIDATEs, and either may send BYE.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { isId } from '../doc/ids.js';

export const HUDDLE_PROTOCOL_ID = '/outpost/huddle/1';

export const HuddleMessageType = { join: 1, accept: 2, denied: 3, offer: 4, answer: 5, candidate: 6, bye: 7 } as const;
export type HuddleMessageType = (typeof HuddleMessageType)[keyof typeof HuddleMessageType];

/** Why a responder refused a JOIN. */
export const HuddleDenied = { notAllowed: 1, notInHuddle: 2, full: 3 } as const;
export type HuddleDenied = (typeof HuddleDenied)[keyof typeof HuddleDenied];

/** Most people in one huddle (a full mesh: each sends its audio to every other). */
export const MAX_HUDDLE_PEOPLE = 6;
/** Largest session description (SDP), in UTF-8 bytes. */
export const MAX_SDP_BYTES = 64 * 1024;
/** Largest ICE candidate line. */
export const MAX_CANDIDATE_BYTES = 1024;
/** Largest media id (`sdpMid`). */
export const MAX_MID_BYTES = 32;
/** Largest m-line index. */
export const MAX_MLINE_INDEX = 15;
/** Largest JOIN frame: what a peer may send before the responder knows who it is. */
export const MAX_JOIN_BYTES = 128;
/** Largest frame of a call (an OFFER or ANSWER and its header). */
export const MAX_SIGNAL_FRAME_BYTES = MAX_SDP_BYTES + 16;

export type HuddleMessage =
	| { type: typeof HuddleMessageType.join; workspaceId: string; channelId: string }
	| { type: typeof HuddleMessageType.accept }
	| { type: typeof HuddleMessageType.denied; reason: HuddleDenied }
	| { type: typeof HuddleMessageType.offer; sdp: string }
	| { type: typeof HuddleMessageType.answer; sdp: string }
	/** An ICE candidate; `candidate` empty: the sender gathered all of them. */
	| { type: typeof HuddleMessageType.candidate; candidate: string; sdpMid: string; sdpMLineIndex: number }
	| { type: typeof HuddleMessageType.bye };

/** A huddle message did not decode (or would not be valid to send). */
export class MalformedHuddleMessageError extends Error {
	override name = 'MalformedHuddleMessageError';
}

const utf8 = new TextEncoder();

function writeBounded(e: encoding.Encoder, text: string, max: number, what: string): void {
	const bytes = utf8.encode(text);
	if (bytes.length > max) throw new MalformedHuddleMessageError(`${what}: ${bytes.length} bytes, the limit is ${max}`);
	encoding.writeVarUint8Array(e, bytes);
}

/** @throws {MalformedHuddleMessageError} when a field is over its bound (nothing is sent then). */
export function encodeHuddleMessage(m: HuddleMessage): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, m.type);
	switch (m.type) {
		case HuddleMessageType.join:
			if (!isId(m.workspaceId) || !isId(m.channelId)) throw new MalformedHuddleMessageError('JOIN: a bad id');
			encoding.writeVarString(e, m.workspaceId);
			encoding.writeVarString(e, m.channelId);
			break;
		case HuddleMessageType.denied:
			encoding.writeVarUint(e, m.reason);
			break;
		case HuddleMessageType.offer:
		case HuddleMessageType.answer:
			writeBounded(e, m.sdp, MAX_SDP_BYTES, 'SDP');
			break;
		case HuddleMessageType.candidate:
			writeBounded(e, m.candidate, MAX_CANDIDATE_BYTES, 'candidate');
			writeBounded(e, m.sdpMid, MAX_MID_BYTES, 'sdpMid');
			if (!Number.isInteger(m.sdpMLineIndex) || m.sdpMLineIndex < 0 || m.sdpMLineIndex > MAX_MLINE_INDEX) {
				throw new MalformedHuddleMessageError(`candidate: m-line ${m.sdpMLineIndex}`);
			}
			encoding.writeVarUint(e, m.sdpMLineIndex);
			break;
		case HuddleMessageType.accept:
		case HuddleMessageType.bye:
			break;
	}
	return encoding.toUint8Array(e);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a varstring of at most `max` UTF-8 bytes (the length is checked before any copy). */
function readBounded(d: decoding.Decoder, max: number, what: string): string {
	const length = decoding.readVarUint(d);
	if (length > max || length > d.arr.length - d.pos) throw new MalformedHuddleMessageError(`${what}: ${length} bytes`);
	return strictUtf8.decode(decoding.readUint8Array(d, length));
}

/** Reads a varuint no larger than `max` (a longer encoding than 8 bytes is refused). */
function readSmall(d: decoding.Decoder, max: number, what: string): number {
	const start = d.pos;
	const value = decoding.readVarUint(d);
	if (d.pos - start > 8 || value > max) throw new MalformedHuddleMessageError(`${what}: ${value}`);
	return value;
}

/** @throws {MalformedHuddleMessageError} for anything but one whole, well-formed message. */
export function decodeHuddleMessage(bytes: Uint8Array): HuddleMessage {
	try {
		const d = decoding.createDecoder(bytes);
		const type = readSmall(d, 127, 'type');
		let m: HuddleMessage;
		switch (type) {
			case HuddleMessageType.join: {
				const workspaceId = readBounded(d, 26, 'workspace id');
				const channelId = readBounded(d, 26, 'channel id');
				if (!isId(workspaceId) || !isId(channelId)) throw new MalformedHuddleMessageError('JOIN: a bad id');
				m = { type, workspaceId, channelId };
				break;
			}
			case HuddleMessageType.denied: {
				const reason = readSmall(d, 127, 'DENIED reason');
				if (!Object.values(HuddleDenied).includes(reason as HuddleDenied)) throw new MalformedHuddleMessageError(`DENIED: reason ${reason}`);
				m = { type, reason: reason as HuddleDenied };
				break;
			}
			case HuddleMessageType.offer:
			case HuddleMessageType.answer: {
				const sdp = readBounded(d, MAX_SDP_BYTES, 'SDP');
				if (sdp.length === 0) throw new MalformedHuddleMessageError('an empty SDP');
				m = { type, sdp };
				break;
			}
			case HuddleMessageType.candidate: {
				const candidate = readBounded(d, MAX_CANDIDATE_BYTES, 'candidate');
				const sdpMid = readBounded(d, MAX_MID_BYTES, 'sdpMid');
				const sdpMLineIndex = readSmall(d, MAX_MLINE_INDEX, 'm-line index');
				m = { type, candidate, sdpMid, sdpMLineIndex };
				break;
			}
			case HuddleMessageType.accept:
			case HuddleMessageType.bye:
				m = { type };
				break;
			default:
				throw new MalformedHuddleMessageError(`unknown type ${type}`);
		}
		if (d.pos !== bytes.length) throw new MalformedHuddleMessageError('trailing bytes');
		return m;
	} catch (error) {
		throw error instanceof MalformedHuddleMessageError ? error : new MalformedHuddleMessageError(String(error));
	}
}
