/**
 * Hostile input at every protocol stage: each message of an honest session is in turn
 * replaced by random bytes, truncated, given a blown-up length or count field, or bit-flipped.
 * receive() never throws; a message that does not decode ends the session with a named
 * error and applies nothing; a bit flip that still decodes as a valid message may be taken,
 * but never throws either. Many seeds (mulberry32).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { DEFAULT_LIMITS, MessageType } from '../../../src/lib/mesh/constants';
import { decodeMessage } from '../../../src/lib/mesh/wire';
import { mulberry32 } from '../../fixtures/random';
import { pair, settle, workspace, type Side } from './helpers';
import { MemoryDocs } from './memoryDocs';

const NAMED = new Set([
	'MalformedMessageError',
	'MessageTooLargeError',
	'UnexpectedMessageError',
	'ProtocolVersionError',
	'MembershipDeniedError',
	'UpdateRejectedError'
]);

type Mutation = 'random' | 'truncate' | 'blow-up' | 'bit-flip' | 'payload-flip';

/** Two workspaces' worth of documents that differ both ways, from a seed. */
function docsFor(seed: number): [MemoryDocs, MemoryDocs] {
	const random = mulberry32(seed);
	const a = new MemoryDocs();
	const b = new MemoryDocs();
	const ids = [newId(), newId(), newId()];
	a.get(ids[0]).getText('t').insert(0, 'alpha '.repeat(1 + Math.floor(random() * 5)));
	b.get(ids[0]).getMap('m').set('k', random());
	a.get(ids[1]).getText('t').insert(0, 'only a');
	b.get(ids[2]).getMap('m').set('only', 'b');
	return [a, b];
}

/** Offsets of the varuint length/count fields of a message, from its layout in PROTOCOL.md. */
function lengthFields(bytes: Uint8Array): number[] {
	const d = decoding.createDecoder(bytes);
	const type = decoding.readVarUint(d);
	const offsets: number[] = [];
	const field = () => {
		offsets.push(d.pos);
		const length = decoding.readVarUint(d);
		d.pos += length;
	};
	if (type === MessageType.hello) decoding.readVarUint(d);
	if (type === MessageType.digest) {
		decoding.readVarUint(d);
		offsets.push(d.pos);
		const count = decoding.readVarUint(d);
		for (let i = 0; i < count; i++) field(), field();
		return offsets;
	}
	if ([MessageType.hello, MessageType.syncStep1, MessageType.syncStep2, MessageType.update].includes(type as 1)) field();
	if ([MessageType.hello, MessageType.challenge, MessageType.proof, MessageType.syncStep1, MessageType.syncStep2, MessageType.update].includes(type as 1)) field();
	if (type === MessageType.challenge || type === MessageType.hello) field();
	return offsets;
}

function mutate(bytes: Uint8Array, kind: Mutation, random: () => number): Uint8Array {
	if (kind === 'random') return Uint8Array.from({ length: 3 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
	if (kind === 'truncate') return bytes.slice(0, Math.floor(random() * bytes.length));
	if (kind === 'bit-flip' || kind === 'payload-flip') {
		// payload-flip: only inside the Yjs update of SYNC_STEP2 / UPDATE (other messages pass unchanged)
		const payloadTypes: number[] = [MessageType.syncStep2, MessageType.update];
		const from = kind === 'bit-flip' ? 0 : payloadTypes.includes(bytes[0]) ? lengthFields(bytes)[1] + 1 : bytes.length;
		const out = bytes.slice();
		if (from >= out.length) return out;
		for (let i = 1 + Math.floor(random() * 3); i > 0; i--) {
			out[from + Math.floor(random() * (out.length - from))] ^= 1 << Math.floor(random() * 8);
		}
		return out;
	}
	const offsets = lengthFields(bytes);
	if (offsets.length === 0) return mutate(bytes, 'truncate', random);
	const at = offsets[Math.floor(random() * offsets.length)];
	const d = decoding.createDecoder(bytes);
	d.pos = at;
	const old = decoding.readVarUint(d);
	const e = encoding.createEncoder();
	encoding.writeUint8Array(e, bytes.subarray(0, at));
	encoding.writeVarUint(e, [old + 1 + Math.floor(random() * 1000), 2 ** 31, 2 ** 53 - 1][Math.floor(random() * 3)]);
	encoding.writeUint8Array(e, bytes.subarray(d.pos));
	return encoding.toUint8Array(e);
}

function decodes(bytes: Uint8Array): boolean {
	try {
		decodeMessage(bytes, DEFAULT_LIMITS);
		return true;
	} catch {
		return false;
	}
}

interface Outcome {
	errored: boolean;
	named: boolean;
	appliedNothing: boolean;
	decodes: boolean;
	/** Remote updates applied by the victim after it had ended the session (must be 0). */
	appliedAfter: number;
}

/** Runs a session pair, replacing the `index`th message to `target` by a mutation of it. */
async function run(seed: number, target: 'opener' | 'responder', index: number, kind: Mutation): Promise<Outcome | undefined> {
	const random = mulberry32(seed * 7919 + index);
	const [a, b] = docsFor(seed);
	const keys = await workspace();
	let outcome: Outcome | undefined;
	let measured: Promise<void> | undefined;
	let appliedAtEnd = 0;
	let victim: Side | undefined;
	const p = await pair({
		openerKeys: keys,
		openerDocs: a,
		responderDocs: b,
		deliver: async (to: Side, i, bytes) => {
			if (to !== (target === 'opener' ? p.opener : p.responder) || i !== index) return to.session.receive(bytes);
			const bad = mutate(bytes, kind, random);
			if (bad.length === bytes.length && bad.every((x, j) => x === bytes[j])) return to.session.receive(bytes); // unchanged: not counted
			let finish = () => undefined as void;
			measured = new Promise((resolve) => (finish = resolve));
			const before = { applied: to.docs.applied, snapshot: JSON.stringify(to.docs.snapshot()), vectors: vectors(to.docs) };
			await expect(to.session.receive(bad)).resolves.toBeUndefined();
			const error = to.session.error;
			outcome = {
				errored: error !== undefined,
				named: error !== undefined && NAMED.has(error.name),
				appliedNothing:
					to.docs.applied === before.applied &&
					JSON.stringify(to.docs.snapshot()) === before.snapshot &&
					vectors(to.docs) === before.vectors,
				decodes: decodes(bad),
				appliedAfter: 0
			};
			appliedAtEnd = to.docs.applied;
			victim = to;
			finish();
		}
	});
	p.start();
	await Promise.race([Promise.all([p.opener.synced, p.responder.synced]), p.opener.closed, p.responder.closed]);
	await settle(2);
	await measured;
	// live stage: one edit on each side
	for (const docs of [a, b]) docs.get([...docs.docs.keys()][0]).getText('t').insert(0, 'live ');
	await settle(5);
	p.opener.session.close();
	p.responder.session.close();
	if (outcome?.errored && victim) outcome.appliedAfter = victim.docs.applied - appliedAtEnd;
	return outcome;
}

function vectors(docs: MemoryDocs): string {
	return JSON.stringify([...docs.docs].map(([id, doc]) => [id, [...Y.encodeStateVector(doc)]]));
}

/** How many messages each side receives in an honest run of a seed. */
async function honestCounts(seed: number): Promise<{ opener: number; responder: number }> {
	const [a, b] = docsFor(seed);
	const p = await pair({ openerDocs: a, responderDocs: b });
	p.start();
	await Promise.all([p.opener.synced, p.responder.synced]);
	for (const docs of [a, b]) docs.get([...docs.docs.keys()][0]).getText('t').insert(0, 'live ');
	await settle(5);
	p.opener.session.close();
	p.responder.session.close();
	return { opener: p.opener.inbox.length, responder: p.responder.inbox.length };
}

describe('hostile input at every stage', () => {
	const seeds = Array.from({ length: 6 }, (_, i) => i + 1);
	const kinds: Mutation[] = ['random', 'truncate', 'blow-up', 'bit-flip', 'payload-flip'];

	for (const kind of kinds) {
		it(`${kind}: never throws, and undecodable input ends the session with a named error, applying nothing`, async () => {
			let runs = 0;
			let errored = 0;
			for (const seed of seeds) {
				const counts = await honestCounts(seed);
				for (const target of ['opener', 'responder'] as const) {
					for (let index = 0; index < counts[target]; index++) {
						for (let rep = 0; rep < 3; rep++) {
							const outcome = await run(seed * 10 + rep, target, index, kind);
							if (!outcome) continue; // that message was not sent this time (the session differs per seed)
							runs++;
							if (outcome.errored) {
								errored++;
								expect(outcome.named).toBe(true);
								expect(outcome.appliedNothing).toBe(true);
								expect(outcome.appliedAfter).toBe(0);
							} else {
								// only a mutation that is still a well-formed message can be accepted
								expect(['bit-flip', 'payload-flip']).toContain(kind);
								expect(outcome.decodes).toBe(true);
							}
							if (!outcome.decodes) expect(outcome.errored).toBe(true);
						}
					}
				}
			}
			console.info(`${kind}: ${runs} hostile messages, ${errored} ended the session`);
			expect(runs).toBeGreaterThan(kind === 'payload-flip' ? 30 : 100);
		});
	}
});
