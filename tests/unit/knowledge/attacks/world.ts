/**
 * A workspace as Alice's app holds it (real services on fake-indexeddb, a signed team): the
 * owner, Alice and Mallory are members; Alice and the owner share a private channel `secret`
 * that Mallory is not in; `general` is an open channel.
 */
import 'fake-indexeddb/auto';
import * as Y from 'yjs';
import { assembleServices, type Services } from '../../../../src/lib/app.js';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../../src/lib/doc/hlc.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { signChannelEntry, signMessage } from '../../../../src/lib/doc/signature.js';
import { addTeamOp } from '../../../../src/lib/doc/team/TeamDoc.js';
import type { TeamOp, TeamOpBody } from '../../../../src/lib/doc/team/ops.js';
import { newSpaceId, teamRosterId } from '../../../../src/lib/doc/team/teamId.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { WorkspaceState } from '../../../../src/lib/state/WorkspaceState.svelte.js';
import { DocStore, type DocHandle } from '../../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../../src/lib/store/db.js';
import type { WorkspaceRow } from '../../../../src/lib/store/db.js';
import { createWorkspace, newDevice, write, type Device } from '../../doc/team/teamKit.js';

export const T0 = Date.UTC(2025, 0, 6, 9, 0);
export const hlc = (i: number, node: string) => formatHlc({ wall: T0 + i * 60_000, counter: 0, node });

export async function post(doc: Y.Doc, author: Device, i: number, text: string, id = newId()): Promise<string> {
	const record = await signMessage(author.key, { id, author: author.peerId, hlc: hlc(i, author.peerId), text }, doc.guid);
	doc.transact(() => new ChannelDoc(doc).post(record));
	return record.id;
}

export interface World {
	services: Services;
	ws: string;
	rosterId: string;
	owner: Device;
	alice: Device;
	mallory: Device;
	general: string;
	secret: string;
	root: WorkspaceDoc;
	held: DocHandle[];
	hold(id: string): Promise<Y.Doc>;
	/** Opens Alice's WorkspaceState over the world. */
	open(): Promise<WorkspaceState>;
	/** Alice as an admin instead (set before open). */
	ops: TeamOp[];
	op(by: Device, body: TeamOpBody): Promise<void>;
}

export async function world(opts: { aliceRole?: 'member' | 'admin' } = {}): Promise<World> {
	const [owner, alice, mallory] = await Promise.all([newDevice(), newDevice(), newDevice()]);
	const { ws, create } = await createWorkspace(owner, 'Olga');
	const ops: TeamOp[] = [create];
	const op = async (by: Device, body: TeamOpBody) => void ops.push(await write(by, ws, ops, body, 1_000 + ops.length));
	await op(owner, { t: 'add', member: alice.peerId, role: opts.aliceRole ?? 'member', name: 'Alice' });
	await op(owner, { t: 'add', member: mallory.peerId, role: 'member', name: 'Mallory' });
	const { space: secret, nonce } = newSpaceId(ws, alice.peerId);
	await op(alice, { t: 'space', space: secret, nonce, kind: 'private', members: [alice.peerId, owner.peerId] });

	const services = assembleServices(new OutpostDb(`rk-${newId()}`), new DocStore(`rk-${newId()}:`), { privateKey: alice.key, peerId: alice.peerId, displayName: 'Alice' });
	services.docs.onError = () => undefined;
	const held: DocHandle[] = [];
	const hold = async (id: string) => {
		const handle = services.docs.open(id);
		await handle.ready;
		held.push(handle);
		return handle.doc;
	};
	const rosterId = teamRosterId(ws);
	const roster = await hold(rosterId);
	for (const o of ops) addTeamOp(roster, o);
	const rootDoc = await hold(ws);
	const root = new WorkspaceDoc(rootDoc);
	root.init({ name: 'Harbour', color: '#1f6f5c', createdBy: owner.peerId, createdAt: T0, rosterId });
	const general = newId();
	root.createChannel(await signChannelEntry(owner.key, { id: general, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: T0, createdBy: owner.peerId }));
	const secretDoc = await hold(secret);
	new ChannelDoc(secretDoc).setSpaceInfo({ name: 'board-only', topic: '' });
	const row: WorkspaceRow = { id: ws, name: 'Harbour', color: '#1f6f5c', rosterId, secret: new Uint8Array(32).fill(120), createdAt: T0, lastOpenedAt: T0 };
	await services.db.workspaces.put(row);
	const w: World = {
		services, ws, rosterId, owner, alice, mallory, general, secret, root, held, hold, ops,
		op: async (by, body) => {
			await op(by, body);
			addTeamOp(roster, ops[ops.length - 1]!);
		},
		open: async () => WorkspaceState.open(services, row)
	};
	return w;
}

/** What Alice's AI chat would send and show for `question` with "Use workspace knowledge". */
export async function knowledgeFor(state: WorkspaceState, question: string): Promise<{ prompt: string; sources: { docId: string; itemId?: string; title: string }[] }> {
	const { message, sources } = await (state as unknown as { knowledgeFor(q: string): Promise<{ message: { content: string }; sources: { docId: string; itemId?: string; title: string }[] }> }).knowledgeFor(question);
	return { prompt: message.content, sources };
}
