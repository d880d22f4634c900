/**
 * The model finds a channel by the name the user sees. Channel names are shown cleaned
 * (shownNames.ts: one line, no bidi controls or invisible characters, at most 80 characters)
 * while the documents keep what was written; the tools list and look up channels by that shown
 * name, and by id as before. Over the app's real services (fake-indexeddb) and a signed roster.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseArguments } from '../../../src/lib/ai/tools/toolArgs.js';
import type { RunnableTool } from '../../../src/lib/ai/tools/toolLoop.js';
import type { ToolResult } from '../../../src/lib/ai/tools/types.js';
import { workspaceToolContext } from '../../../src/lib/ai/tools/workspaceToolContext.js';
import { createWorkspaceTools } from '../../../src/lib/ai/tools/workspaceTools.js';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signChannelEntry, signMessage } from '../../../src/lib/doc/signature.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import type { TeamOp, TeamOpBody } from '../../../src/lib/doc/team/ops.js';
import { newSpaceId, teamRosterId } from '../../../src/lib/doc/team/teamId.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { DocStore, type DocHandle } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { createWorkspace, newDevice, write, type Device } from '../doc/team/teamKit.js';

const T0 = Date.UTC(2025, 0, 6, 9, 0);
/** "re·leases" with a zero-width space inside and a right-to-left override after it. */
const RAW_RELEASES = 're\u200Bleases\u202E';
/** A private channel's name written on two lines inside bidi isolates. */
const RAW_CREW = '\u2066crew\n  plans\u2069';

let services: Services;
let ws: string;
let tools: RunnableTool[];
let releases: string;
let crew: string;
const held: DocHandle[] = [];

async function hold(id: string): Promise<Y.Doc> {
	const handle = services.docs.open(id);
	await handle.ready;
	held.push(handle);
	return handle.doc;
}

async function post(doc: Y.Doc, author: Device, i: number, text: string): Promise<void> {
	const record = await signMessage(author.key, { id: newId(), author: author.peerId, hlc: formatHlc({ wall: T0 + i * 60_000, counter: 0, node: author.peerId }), text });
	doc.transact(() => new ChannelDoc(doc).post(record));
}

beforeAll(async () => {
	const [owner, ann] = await Promise.all([newDevice(), newDevice()]);
	const created = await createWorkspace(owner, 'Olga');
	ws = created.ws;
	const ops: TeamOp[] = [created.create];
	const op = async (by: Device, body: TeamOpBody) => void ops.push(await write(by, ws, ops, body, 1_000 + ops.length));
	await op(owner, { t: 'add', member: ann.peerId, role: 'member', name: 'Ann' });
	const space = newSpaceId(ws, ann.peerId);
	crew = space.space;
	await op(ann, { t: 'space', space: crew, nonce: space.nonce, kind: 'private', members: [ann.peerId, owner.peerId] });

	services = assembleServices(new OutpostDb(`names-${newId()}`), new DocStore(`names-${newId()}:`), { privateKey: ann.key, peerId: ann.peerId, displayName: 'Ann' });
	services.docs.onError = () => undefined;
	const rosterId = teamRosterId(ws);
	const roster = await hold(rosterId);
	for (const o of ops) addTeamOp(roster, o);
	const root = new WorkspaceDoc(await hold(ws));
	root.init({ name: 'Harbour', color: '#1f6f5c', createdBy: owner.peerId, createdAt: T0, rosterId });
	releases = newId();
	root.createChannel(await signChannelEntry(owner.key, { id: releases, name: RAW_RELEASES, topic: '', private: false, readOnly: false, archived: false, createdAt: T0, createdBy: owner.peerId }));
	await post(await hold(releases), owner, 1, 'Release on Friday');
	const crewDoc = await hold(crew);
	new ChannelDoc(crewDoc).setSpaceInfo({ name: RAW_CREW, topic: '' });
	await post(crewDoc, owner, 2, 'Crew meets at the pier');
	await services.core.open({ id: ws });
	tools = createWorkspaceTools(workspaceToolContext(services, ws, { origin: 'outpost:local' }));
});

afterAll(async () => {
	for (const handle of held.splice(0)) services.docs.release(handle);
	await services.core.release(ws);
});

async function listMessages(channel: string): Promise<ToolResult> {
	const tool = tools.find((t) => t.spec.name === 'list_messages')!;
	const parsed = parseArguments(JSON.stringify({ channel, limit: 5 }), tool.spec.parameters);
	if (!parsed.ok) throw new Error(parsed.error);
	return tool.run(parsed.value, new AbortController().signal);
}

describe("the tools' channel lookup", () => {
	it('finds a channel whose written name has invisible characters by the name the user sees', async () => {
		for (const ref of ['releases', '#releases', 'Releases']) {
			const result = await listMessages(ref);
			expect(result.isError).not.toBe(true);
			expect(result.content).toContain('Release on Friday');
			expect(result.content).toContain(`#releases (channel id ${releases})`);
		}
		expect((await listMessages(RAW_RELEASES)).content).toContain('Release on Friday');
		expect((await listMessages(releases)).content).toContain('Release on Friday');
	});

	it('finds a private channel named on two lines by its one-line name, and names channels to the model as shown', async () => {
		expect((await listMessages('#crew plans')).content).toContain('Crew meets at the pier');
		expect((await listMessages(crew)).content).toContain('Crew meets at the pier');
		const unknown = await listMessages('random');
		expect(unknown.isError).toBe(true);
		expect(unknown.content).toBe('There is no channel "random" you can read. Channels: #releases, #crew plans.');
	});
});
