/**
 * The honest documents the fuzz run (layerFuzz.ts) mutates updates against, one per document
 * type: a writer's updates, the replica that takes the mutated ones, and what the honest
 * peers' view asks of that replica after the run. Ids and Yjs client ids are drawn from the
 * run's seed, so a seed gives the same bytes every time.
 */
import * as Y from 'yjs';
import { AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { base32 } from '../../src/lib/doc/ids.js';
import { AiRecordKind } from '../../src/lib/doc/schema.js';
import type { UpdateContext } from '../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { at, msg } from '../unit/doc/helpers.js';

/** A source of numbers in [0, 1) (the run's seeded generator). */
export type Random = () => number;

/** One document type's target and the honest updates mutated against it. */
export interface DocCase {
	docId: string;
	target: Y.Doc;
	context: UpdateContext;
	honest: Uint8Array[];
	/** Whether the honest content written before the run is still there. */
	intact: () => boolean;
	/**
	 * The honest writer's next record, sent as a sync session sends (all the target lacks by
	 * its state vector). Every mutated update of the run is written under the writer's client
	 * id, so one the target accepted took some of the writer's clocks with other content: the
	 * README lists this as a limit left as it is ("a modified client can write records under
	 * another writer's Yjs client id at that writer's next clocks"), and the target may then
	 * skip or refuse this record, or lose it with the item it was placed after.
	 */
	fromWriter: () => Uint8Array;
	/** The next record of another honest peer, synced with the target (its state, a client id new to it). */
	fromPeer: () => Uint8Array;
	/** Whether the target holds the last record `fromWriter` or `fromPeer` wrote. */
	holdsLast: () => boolean;
}

/** A client id `doc` holds nothing of, the first from `after + 1` on. */
function clientNewTo(doc: Y.Doc, after: number): number {
	let client = (after + 1) >>> 0;
	while (doc.store.clients.has(client)) client = (client + 1) >>> 0;
	return client;
}

/** An id shaped like `newId`'s, drawn from `random`. */
export function seededId(random: Random): string {
	return base32(Uint8Array.from({ length: 16 }, () => Math.floor(random() * 256)));
}

/** A document whose client id is drawn from `random` (Yjs draws its own from crypto). */
function seededDoc(random: Random): Y.Doc {
	const doc = new Y.Doc();
	doc.clientID = Math.floor(random() * 2 ** 32);
	return doc;
}

/** The documents of workspace `workspaceId`, by type: a channel, the root, an AI chat and a plain document. */
export function docCases(workspaceId: string, random: Random): Record<string, DocCase> {
	/** `holds`: whether a document holds the record `grow` wrote as its `n`th. */
	const make = (
		docId: string,
		context: UpdateContext,
		seed: (doc: Y.Doc) => void,
		grow: (doc: Y.Doc, n: number) => void,
		intact: (doc: Y.Doc) => boolean,
		holds: (doc: Y.Doc, n: number) => boolean
	): DocCase => {
		const source = seededDoc(random);
		seed(source);
		const target = seededDoc(random);
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
			fromWriter: () => {
				grow(source, n++);
				return Y.encodeStateAsUpdate(source, Y.encodeStateVector(target));
			},
			fromPeer: () => {
				const peer = new Y.Doc();
				peer.clientID = clientNewTo(target, source.clientID);
				Y.applyUpdate(peer, Y.encodeStateAsUpdate(target));
				const before = Y.encodeStateVector(peer);
				grow(peer, n++);
				return Y.encodeStateAsUpdate(peer, before);
			},
			holdsLast: () => holds(target, n - 1)
		};
	};
	return {
		channel: make(
			seededId(random),
			{ channel: true },
			(doc) => new ChannelDoc(doc).post(msg('m0', 'peer-a', at(1), 'the dose is 5 mg')),
			(doc, n) => {
				const channel = new ChannelDoc(doc);
				channel.post(msg(`m${n + 1}`, 'peer-b', at(10 + n, 'peer-b'), `reply ${n}`));
				channel.markReaction({ msg: 'm0', emoji: '👍', by: `peer-${n}`, hlc: at(20 + n), on: true, sig: 'sig' });
			},
			(doc) => new ChannelDoc(doc).messages.toArray().some((m) => m.id === 'm0' && m.text === 'the dose is 5 mg'),
			(doc, n) => new ChannelDoc(doc).messages.toArray().some((m) => m.id === `m${n + 1}`)
		),
		root: make(
			workspaceId,
			{},
			(doc) => new WorkspaceDoc(doc).createChannel({ id: 'general', name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'peer-a' }),
			(doc, n) => new WorkspaceDoc(doc).createChannel({ id: `c${n}`, name: `c${n}`, topic: '', private: false, readOnly: false, archived: false, createdAt: 2 + n, createdBy: 'peer-a' }),
			(doc) => new WorkspaceDoc(doc).channels.has('general'),
			(doc, n) => new WorkspaceDoc(doc).channels.has(`c${n}`)
		),
		aiThread: make(
			seededId(random),
			{ aiThread: true },
			(doc) => new AiThreadDoc(doc).records.push([{ kind: AiRecordKind.user, id: 'q0', author: 'peer-a', hlc: at(1), text: 'first question', sig: 'sig' }]),
			(doc, n) => new AiThreadDoc(doc).records.push([{ kind: AiRecordKind.user, id: `q${n + 1}`, author: 'peer-a', hlc: at(10 + n), text: `question ${n}`, sig: 'sig' }]),
			(doc) => new AiThreadDoc(doc).records.toArray().some((r) => r.id === 'q0'),
			(doc, n) => new AiThreadDoc(doc).records.toArray().some((r) => r.id === `q${n + 1}`)
		),
		plain: make(
			seededId(random),
			{},
			(doc) => doc.getText('t').insert(0, 'honest text'),
			(doc, n) => {
				doc.getText('t').insert(0, `${n} `);
				doc.getMap('m').set(`k${n}`, n);
				if (n % 3 === 2) doc.getText('t').delete(0, 2);
			},
			(doc) => doc.getText('t').toString().includes('honest text'),
			(doc, n) => doc.getMap('m').get(`k${n}`) === n
		)
	};
}
