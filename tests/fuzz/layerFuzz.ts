/**
 * The fuzz run shared by `npm test` (100,000 cases) and `npm run bench:fuzz` (1,000,000):
 * honest inputs of every protocol stage and document type, mutated (random bytes, cut short,
 * bits flipped, a length field blown up, two inputs spliced), each fed to the layer that
 * takes it from a peer:
 *
 * - `wire`: every message type of the sync protocol (membership and sync stages) through
 *   `decodeMessage`, which may refuse only with the protocol's named errors;
 * - `update:<type>`: updates to a channel, a workspace root, a note, an AI chat and a plain
 *   document through the update check (`applicablePart`), the document's write policy
 *   (`checkRemoteUpdate`) and, when both accept, `Y.applyUpdate` on the real document, which
 *   must then not throw (the dry run's promise);
 * - `envelope`: sealed gossip envelopes through `openEnvelope` (named `EnvelopeError` only).
 *
 * A crash is any other exception; a hang, a case over 1 s. After the run each document
 * still takes an honest update and still holds what was honestly written before it (the
 * honest peers' view). Deterministic from its seed (mulberry32).
 */
import * as Y from 'yjs';
import { AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { AiRecordKind } from '../../src/lib/doc/schema.js';
import { newId } from '../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { checkRemoteUpdate, type UpdateContext } from '../../src/lib/doc/team/writePolicy.js';
import { MessageType, PROTOCOL_VERSION, DEFAULT_LIMITS } from '../../src/lib/mesh/constants.js';
import { openEnvelope, sealEnvelope } from '../../src/lib/mesh/gossipEnvelope.js';
import { applicablePart } from '../../src/lib/mesh/updateCheck.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/lib/mesh/wire.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { mulberry32 } from '../fixtures/random.js';
import { at, msg } from '../unit/doc/helpers.js';

/** Errors a layer may refuse hostile input with. */
const NAMED = new Set(['MalformedMessageError', 'MessageTooLargeError', 'UnexpectedMessageError', 'ProtocolVersionError', 'EnvelopeError']);

/** What a run found. */
export interface FuzzFigures {
	cases: number;
	/** Cases per layer. */
	byLayer: Record<string, number>;
	/** Mutated inputs a layer accepted (well-formed after all) per layer. */
	accepted: Record<string, number>;
	/** Exceptions that were not a named refusal, with their layer. */
	crashes: string[];
	/** Cases that took over 1 s. */
	hangs: number;
	slowest: { layer: string; ms: number };
	seconds: number;
	/** Whether every document still took an honest update and held its honest content afterwards. */
	honestIntact: boolean;
}

type Random = () => number;

/** A mutation of `bytes` that differs from it (and from `other`: a splice could give either back whole). */
function mutate(bytes: Uint8Array, random: Random, other: Uint8Array): Uint8Array {
	const out = mutation(bytes, random, other);
	if (!same(out, bytes) && !same(out, other)) return out;
	const flipped = out.length > 0 ? out.slice() : Uint8Array.of(0);
	flipped[Math.floor(random() * flipped.length)]! ^= 1 << Math.floor(random() * 8);
	return flipped;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}

function mutation(bytes: Uint8Array, random: Random, other: Uint8Array): Uint8Array {
	const kind = Math.floor(random() * 5);
	if (kind === 0) return Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
	if (kind === 1) return bytes.slice(0, Math.floor(random() * bytes.length));
	if (kind === 2) {
		const out = bytes.slice();
		for (let i = 1 + Math.floor(random() * 4); i > 0 && out.length > 0; i--) out[Math.floor(random() * out.length)]! ^= 1 << Math.floor(random() * 8);
		return out;
	}
	if (kind === 3) {
		// A varint blown up at a random place: a huge length or count where a small one was.
		const atByte = Math.floor(random() * (bytes.length + 1));
		const huge = [0xff, 0xff, 0xff, 0xff, 0x0f].slice(0, 1 + Math.floor(random() * 5));
		return Uint8Array.from([...bytes.subarray(0, atByte), ...huge, ...bytes.subarray(atByte + 1)]);
	}
	const cut = Math.floor(random() * bytes.length);
	return Uint8Array.from([...bytes.subarray(0, cut), ...other.subarray(Math.floor(random() * other.length))]);
}

/** One document type's target and the honest updates mutated against it. */
interface DocCase {
	docId: string;
	target: Y.Doc;
	context: UpdateContext;
	honest: Uint8Array[];
	/** Whether the honest content is still there. */
	intact: () => boolean;
	/** A fresh honest update for the target (after the run). */
	next: () => Uint8Array;
}

function docCases(workspaceId: string): Record<string, DocCase> {
	const make = (docId: string, context: UpdateContext, seed: (doc: Y.Doc) => void, grow: (doc: Y.Doc, n: number) => void, intact: (doc: Y.Doc) => boolean): DocCase => {
		const source = new Y.Doc();
		seed(source);
		const target = new Y.Doc();
		Y.applyUpdate(target, Y.encodeStateAsUpdate(source));
		const honest: Uint8Array[] = [];
		for (let n = 0; n < 8; n++) {
			const before = Y.encodeStateVector(source);
			grow(source, n);
			honest.push(Y.encodeStateAsUpdate(source, before), Y.encodeStateAsUpdate(source));
		}
		let n = 100;
		return {
			docId,
			target,
			context,
			honest,
			intact: () => intact(target),
			next: () => {
				const before = Y.encodeStateVector(source);
				grow(source, n++);
				return Y.encodeStateAsUpdate(source, before);
			}
		};
	};
	return {
		channel: make(
			newId(),
			{ channel: true },
			(doc) => new ChannelDoc(doc).post(msg('m0', 'peer-a', at(1), 'the dose is 5 mg')),
			(doc, n) => {
				const channel = new ChannelDoc(doc);
				channel.post(msg(`m${n + 1}`, 'peer-b', at(10 + n, 'peer-b'), `reply ${n}`));
				channel.markReaction({ msg: 'm0', emoji: '👍', by: `peer-${n}`, hlc: at(20 + n), on: true, sig: 'sig' });
			},
			(doc) => new ChannelDoc(doc).messages.toArray().some((m) => m.id === 'm0' && m.text === 'the dose is 5 mg')
		),
		root: make(
			workspaceId,
			{},
			(doc) => new WorkspaceDoc(doc).createChannel({ id: 'general', name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'peer-a' }),
			(doc, n) => new WorkspaceDoc(doc).createChannel({ id: `c${n}`, name: `c${n}`, topic: '', private: false, readOnly: false, archived: false, createdAt: 2 + n, createdBy: 'peer-a' }),
			(doc) => new WorkspaceDoc(doc).channels.has('general')
		),
		aiThread: make(
			newId(),
			{ aiThread: true },
			(doc) => new AiThreadDoc(doc).records.push([{ kind: AiRecordKind.user, id: 'q0', author: 'peer-a', hlc: at(1), text: 'first question', sig: 'sig' }]),
			(doc, n) => new AiThreadDoc(doc).records.push([{ kind: AiRecordKind.user, id: `q${n + 1}`, author: 'peer-a', hlc: at(10 + n), text: `question ${n}`, sig: 'sig' }]),
			(doc) => new AiThreadDoc(doc).records.toArray().some((r) => r.id === 'q0')
		),
		plain: make(
			newId(),
			{},
			(doc) => doc.getText('t').insert(0, 'honest text'),
			(doc, n) => {
				doc.getText('t').insert(0, `${n} `);
				doc.getMap('m').set(`k${n}`, n);
				if (n % 3 === 2) doc.getText('t').delete(0, 2);
			},
			(doc) => doc.getText('t').toString().includes('honest text')
		)
	};
}

/** Honest messages of every type of the sync protocol. */
function wireMessages(workspaceId: string, update: Uint8Array): Uint8Array[] {
	const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
	const messages: Message[] = [
		{ type: MessageType.hello, version: PROTOCOL_VERSION, workspaceId, nonce: bytes(32), admission: bytes(200) },
		{ type: MessageType.challenge, nonce: bytes(32), proof: bytes(32) },
		{ type: MessageType.proof, proof: bytes(32) },
		{ type: MessageType.ok },
		{ type: MessageType.denied, reason: 3 },
		{ type: MessageType.digest, more: false, entries: [newId(), newId(), newId()].map((docId) => ({ docId, digest: bytes(32) })) },
		{ type: MessageType.syncStep1, docId: newId(), stateVector: Y.encodeStateVector(new Y.Doc()) },
		{ type: MessageType.syncStep2, docId: newId(), update },
		{ type: MessageType.update, docId: newId(), update },
		{ type: MessageType.done, received: 3 }
	] as Message[];
	return messages.map(encodeMessage);
}

/** Runs `count` cases from `seed`; see the module comment. */
export async function fuzzLayers(count: number, seed = 1): Promise<FuzzFigures> {
	const random = mulberry32(seed);
	const workspaceId = newId();
	const keys = await deriveWorkspaceKeys(workspaceId, Uint8Array.from({ length: 32 }, (_, i) => i));
	const docs = docCases(workspaceId);
	const docNames = Object.keys(docs);
	const wire = wireMessages(workspaceId, docs.channel!.honest[1]!);
	const envelopes = await Promise.all(docs.plain!.honest.slice(0, 4).map((u) => sealEnvelope(keys, docs.plain!.docId, u)));
	const figures: FuzzFigures = { cases: 0, byLayer: {}, accepted: {}, crashes: [], hangs: 0, slowest: { layer: '', ms: 0 }, seconds: 0, honestIntact: false };
	const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
	const started = performance.now();

	for (let i = 0; i < count; i++) {
		const roll = random();
		const layer = roll < 0.45 ? 'wire' : roll < 0.98 ? `update:${pick(docNames)}` : 'envelope';
		const t0 = performance.now();
		let accepted = false;
		try {
			if (layer === 'wire') {
				const bad = mutate(pick(wire), random, pick(wire));
				try {
					decodeMessage(bad, DEFAULT_LIMITS);
					accepted = true;
				} catch (error) {
					if (!(error instanceof Error) || !NAMED.has(error.name)) throw error;
				}
			} else if (layer === 'envelope') {
				const bad = mutate(pick(envelopes), random, pick(envelopes));
				try {
					await openEnvelope(keys, bad);
					accepted = true;
				} catch (error) {
					if (!(error instanceof Error) || !NAMED.has(error.name)) throw error;
				}
			} else {
				const doc = docs[layer.slice('update:'.length)]!;
				const bad = mutate(pick(doc.honest), random, pick(doc.honest));
				const part = applicablePart(bad, Y.encodeStateVector(doc.target));
				if (part !== undefined && checkRemoteUpdate(workspaceId, doc.docId, doc.target, part, doc.context) === undefined) {
					Y.applyUpdate(doc.target, part); // must not throw: the check passed
					accepted = true;
				}
			}
		} catch (error) {
			figures.crashes.push(`${layer}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
		}
		const ms = performance.now() - t0;
		if (ms > figures.slowest.ms) figures.slowest = { layer, ms };
		if (ms > 1000) figures.hangs++;
		figures.cases++;
		figures.byLayer[layer] = (figures.byLayer[layer] ?? 0) + 1;
		if (accepted) figures.accepted[layer] = (figures.accepted[layer] ?? 0) + 1;
	}
	figures.seconds = (performance.now() - started) / 1000;
	figures.honestIntact = Object.values(docs).every((doc) => {
		const update = doc.next();
		const part = applicablePart(update, Y.encodeStateVector(doc.target));
		if (part === undefined || checkRemoteUpdate(workspaceId, doc.docId, doc.target, part, doc.context) !== undefined) return false;
		Y.applyUpdate(doc.target, part);
		return doc.intact();
	});
	return figures;
}

/** One line of figures. */
export function fuzzReport(f: FuzzFigures): string {
	const layers = Object.entries(f.byLayer)
		.sort()
		.map(([layer, n]) => `${layer} ${n} (${f.accepted[layer] ?? 0} accepted)`)
		.join(', ');
	return (
		`fuzz: ${f.cases} mutated inputs in ${f.seconds.toFixed(1)} s (${Math.round(f.cases / f.seconds)}/s); ` +
		`${f.crashes.length} crashes, ${f.hangs} over 1 s, slowest ${f.slowest.ms.toFixed(1)} ms (${f.slowest.layer}); ` +
		`honest documents intact: ${f.honestIntact ? 'yes' : 'NO'}; ${layers}`
	);
}
