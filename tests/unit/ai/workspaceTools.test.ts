/**
 * The built-in workspace tools over the app's real services (document store and search index
 * on fake-indexeddb, the core's team authority over a roster of signed operations): what a
 * model acting for Ann, a plain member, finds, reads and writes. Writes are checked the way
 * another replica checks them: the update each tool makes goes through the write policy
 * (writePolicy.ts) onto a second copy, and the channel view there shows it.
 */
import { newSpaceId } from '../../../src/lib/doc/team/teamId.js';
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseArguments } from '../../../src/lib/ai/tools/toolArgs.js';
import type { RunnableTool } from '../../../src/lib/ai/tools/toolLoop.js';
import { TOOL_NAME, type ToolResult } from '../../../src/lib/ai/tools/types.js';
import { workspaceToolContext } from '../../../src/lib/ai/tools/workspaceToolContext.js';
import { createWorkspaceTools, type WorkspaceToolContext } from '../../../src/lib/ai/tools/workspaceTools.js';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import type { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { postShows, readOnlySpans } from '../../../src/lib/doc/channelRights.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc.js';
import type { ClientBinding } from '../../../src/lib/doc/schema.js';
import { signChannelEntry, signDeletionMark, signMessage, signModerationMark, verifyMessage } from '../../../src/lib/doc/signature.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import type { TeamOp, TeamOpBody } from '../../../src/lib/doc/team/ops.js';
import { teamRosterId } from '../../../src/lib/doc/team/teamId.js';
import { checkRemoteUpdate, updateContext } from '../../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { bindWriter } from '../../../src/lib/state/noteBinding.js';
import { DocStore, type DocHandle } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { SearchIndex } from '../../../src/lib/store/search/SearchIndex.js';
import { SearchIndexer } from '../../../src/lib/store/search/SearchIndexer.js';
import { createWorkspace, newDevice, write, type Device } from '../doc/team/teamKit.js';

const ORIGIN = 'outpost:local';
const T0 = Date.UTC(2025, 0, 6, 9, 0);

interface World {
	services: Services;
	ws: string;
	authority: TeamAuthority;
	ctx: WorkspaceToolContext;
	tools: RunnableTool[];
	root: DocHandle;
	/** Channel and note ids. */
	general: string;
	announcements: string;
	secret: string;
	crew: string;
	note: string;
	/** Ids of the messages that must never show. */
	deleted: string;
	hidden: string;
	owner: Device;
	ann: Device;
	gus: Device;
}

let w: World;
const held: DocHandle[] = [];

/** The clock of the `i`th event of the story, by `node`. */
const hlc = (i: number, node: string) => formatHlc({ wall: T0 + i * 60_000, counter: 0, node });

async function post(doc: Y.Doc, author: Device, i: number, text: string): Promise<string> {
	const record = await signMessage(author.key, { id: newId(), author: author.peerId, hlc: hlc(i, author.peerId), text });
	doc.transact(() => new ChannelDoc(doc).post(record));
	return record.id;
}

/** A document of Ann's store, held for the whole test (the tools share it). */
async function hold(services: Services, id: string): Promise<Y.Doc> {
	const handle = services.docs.open(id);
	await handle.ready;
	held.push(handle);
	return handle.doc;
}

beforeAll(async () => {
	const [owner, ann, bob, gus] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice()]);
	const { ws, create } = await createWorkspace(owner, 'Olga');
	const ops: TeamOp[] = [create];
	const op = async (by: Device, body: TeamOpBody) => void ops.push(await write(by, ws, ops, body, 1_000 + ops.length));
	await op(owner, { t: 'add', member: ann.peerId, role: 'member', name: 'Ann' });
	await op(owner, { t: 'add', member: bob.peerId, role: 'member', name: 'Bob' });
	await op(owner, { t: 'add', member: gus.peerId, role: 'guest', name: 'Gus' });
	const { space: secret, nonce: secretNonce } = newSpaceId(ws, bob.peerId);
	const { space: crew, nonce: crewNonce } = newSpaceId(ws, ann.peerId);
	await op(bob, { t: 'space', space: secret, nonce: secretNonce, kind: 'private', members: [bob.peerId, owner.peerId] });
	await op(ann, { t: 'space', space: crew, nonce: crewNonce, kind: 'private', members: [ann.peerId, bob.peerId] });

	const services = assembleServices(new OutpostDb(`tools-${newId()}`), new DocStore(`tools-${newId()}:`), { privateKey: ann.key, peerId: ann.peerId, displayName: 'Ann' });
	services.docs.onError = () => undefined;
	const rosterId = teamRosterId(ws);
	const roster = await hold(services, rosterId);
	for (const o of ops) addTeamOp(roster, o);

	// The root: two channels by the owner (one read-only), a note; and the channels' messages.
	const rootDoc = await hold(services, ws);
	const root = new WorkspaceDoc(rootDoc);
	root.init({ name: 'Harbour', color: '#1f6f5c', createdBy: owner.peerId, createdAt: T0, rosterId });
	const general = newId();
	const announcements = newId();
	for (const [id, name, readOnly, createdAt] of [[general, 'general', false, T0], [announcements, 'announcements', true, T0 + 1]] as const) {
		const entry = await signChannelEntry(owner.key, { id, name, topic: '', private: false, readOnly, archived: false, createdAt, createdBy: owner.peerId });
		root.createChannel(entry);
	}
	const generalDoc = await hold(services, general);
	await post(generalDoc, owner, 1, 'Welcome to the harbour project');
	await post(generalDoc, bob, 2, 'The boat leaves at nine');
	const deleted = await post(generalDoc, bob, 3, 'Delete me: the wrong harbour');
	const hidden = await post(generalDoc, bob, 4, 'Cheap harbour watches, click here');
	const channel = new ChannelDoc(generalDoc);
	const mark = await signDeletionMark(bob.key, { msg: deleted, by: bob.peerId, hlc: hlc(5, bob.peerId), deleted: true });
	const hide = await signModerationMark(owner.key, { msg: hidden, by: owner.peerId, hlc: hlc(5, owner.peerId), hidden: true });
	generalDoc.transact(() => {
		channel.markDeletion(mark);
		channel.markModeration(hide);
	});
	// A message in Bob's name that Gus signed: a forgery no view shows.
	const forged = await signMessage(gus.key, { id: newId(), author: bob.peerId, hlc: hlc(5, bob.peerId), text: 'Forged harbour fees are due' });
	generalDoc.transact(() => channel.post(forged));
	await post(await hold(services, announcements), owner, 6, 'Release on Friday');

	// Bob's private channel with the owner (Ann is not in it), though its document is on this device.
	const secretDoc = await hold(services, secret);
	new ChannelDoc(secretDoc).setSpaceInfo({ name: 'secret-plans', topic: '' });
	await post(secretDoc, bob, 7, 'The secret harbour plan');
	const crewDoc = await hold(services, crew);
	new ChannelDoc(crewDoc).setSpaceInfo({ name: 'crew', topic: 'Ann and Bob' });
	await post(crewDoc, bob, 8, 'Crew meets at the pier');

	// A note the owner wrote in the editor on its own device (bound, so the note write policy applies to it).
	const note = newId();
	root.createNote({ id: note, title: 'Harbour guide', createdAt: T0, updatedAt: T0 });
	const ownersCopy = new Y.Doc();
	const unbind = bindWriter(ownersCopy, note, owner.key, owner.peerId);
	ownersCopy.transact(() => {
		const n = new NoteDoc(ownersCopy);
		n.title = 'Harbour guide';
		n.body.insert(0, '# Harbour guide\n\nBoats dock at pier 4.');
	});
	unbind();
	Y.applyUpdate(await hold(services, note), Y.encodeStateAsUpdate(ownersCopy), 'mesh');

	const { authority } = await services.core.open({ id: ws });
	// The workspace's search index, built by the app's indexer; it also indexes the secret channel.
	const index = await SearchIndex.open({ db: services.db, workspaceId: ws, snapshotDelayMs: 10 });
	const indexer = new SearchIndexer({ docs: services.docs, root, index, spaces: () => new Set([secret, crew]) });
	await indexer.start();
	await indexer.stop();
	await index.close();

	const ctx = workspaceToolContext(services, ws, { origin: ORIGIN });
	const rootHandle = held.find((h) => h.id === ws)!;
	w = { services, ws, authority, ctx, tools: createWorkspaceTools(ctx), root: rootHandle, general, announcements, secret, crew, note, deleted, hidden, owner, ann, gus };
});

afterAll(async () => {
	for (const handle of held.splice(0)) w.services.docs.release(handle);
	await w.services.core.release(w.ws);
});

/** Runs a tool as the loop does: the arguments checked against its schema first. */
async function call(name: string, args: Record<string, unknown>, tools = w.tools): Promise<ToolResult> {
	const tool = tools.find((t) => t.spec.name === name);
	if (tool === undefined) throw new Error(`no tool ${name}`);
	const parsed = parseArguments(JSON.stringify(args), tool.spec.parameters);
	if (!parsed.ok) throw new Error(parsed.error);
	const result = await tool.run(parsed.value, new AbortController().signal);
	expect(new TextEncoder().encode(result.content).byteLength).toBeLessThanOrEqual(8192);
	return result;
}

/** What a tool run changes in document `doc`, as one update. */
async function changeOf(doc: Y.Doc, run: () => Promise<ToolResult>): Promise<{ result: ToolResult; before: Y.Doc; update: Uint8Array }> {
	const before = new Y.Doc();
	Y.applyUpdate(before, Y.encodeStateAsUpdate(doc));
	const sv = Y.encodeStateVector(doc);
	const result = await run();
	return { result, before, update: Y.encodeStateAsUpdate(doc, sv) };
}

/** The store's context for an update of `docId`, as Ann's replica's store builds it. */
function policy(docId: string) {
	return updateContext(w.root.doc, docId, { spaces: () => w.authority.mySpaces(), isWriter: (device) => w.authority.isWriter(device), carries: (peerId) => w.authority.carries(peerId) });
}

const docOf = (id: string) => held.find((h) => h.id === id)!.doc;

/** The tools as Gus, the guest, would have them. */
const asGuest = () => createWorkspaceTools({ ...w.ctx, device: { peerId: w.gus.peerId, privateKey: w.gus.key } });

describe('workspace tools', () => {
	it('have valid names, tight schemas, and flag exactly the writes as mutating', () => {
		const flags = Object.fromEntries(w.tools.map((t) => [t.spec.name, t.mutates]));
		expect(flags).toEqual({ search: false, read_note: false, list_messages: false, append_to_note: true, create_note: true, post_message: true });
		for (const { spec } of w.tools) {
			expect(spec.name).toMatch(TOOL_NAME);
			expect(spec.description.length).toBeLessThan(60);
			for (const property of Object.values(spec.parameters.properties ?? {})) {
				if (property.type === 'string') expect(property.maxLength).toBeGreaterThan(0);
				if (property.type === 'integer') expect([property.minimum, property.maximum]).not.toContain(undefined);
			}
		}
	});

	it('search finds a message and a note the member may read, and nothing deleted, hidden, forged or private', async () => {
		const index = await SearchIndex.open({ db: w.services.db, workspaceId: w.ws });
		const raw = await index.search('harbour', 50).finally(() => index.close());
		// The index holds a hidden message and a private channel's: the tool must leave them out.
		// (A forged record it no longer takes at all: only signed records are indexed.)
		expect(raw.map((h) => h.itemId)).toContain(w.hidden);
		expect(raw.some((h) => h.text.startsWith('Forged'))).toBe(false);
		expect(raw.some((h) => h.docId === w.secret)).toBe(true);
		// The search over the stored index leaves them out already (workspaceToolContext.ts), as the live one does.
		const found = await w.ctx.search('harbour', 50);
		expect(found.map((h) => h.itemId)).not.toContain(w.hidden);
		expect(found.some((h) => h.docId === w.secret)).toBe(false);
		const result = await call('search', { query: 'harbour', limit: 10 });
		expect(result.isError).toBeUndefined();
		expect(result.content).toContain('Welcome to the harbour project');
		expect(result.content).toContain(`message in #general by Olga, 2025-01-06 09:01 UTC (channel id ${w.general})`);
		expect(result.content).toContain(`note "Harbour guide" (note id ${w.note})`);
		expect(result.content).not.toMatch(/wrong harbour|watches|forged|secret/i);
		expect((await call('search', { query: 'pier', limit: 5 })).content).toContain('Crew meets at the pier');
		expect((await call('search', { query: 'secret plan', limit: 5 })).content).toBe('Nothing in the workspace matches "secret plan".');
	});

	it('read_note returns the markdown, by title or id, cut at 8 KiB with a note saying so', async () => {
		const byTitle = await call('read_note', { note: 'harbour GUIDE' });
		expect(byTitle.content).toBe(`Note "Harbour guide" (note id ${w.note}):\n\n# Harbour guide\n\nBoats dock at pier 4.`);
		expect((await call('read_note', { note: w.note })).content).toBe(byTitle.content);
		const missing = await call('read_note', { note: 'Tide tables' });
		expect(missing).toEqual({ content: 'There is no note "Tide tables". Notes: "Harbour guide".', isError: true });

		const long = newId();
		new WorkspaceDoc(w.root.doc).createNote({ id: long, title: 'Logbook', createdAt: T0, updatedAt: T0 + 1 });
		const doc = await hold(w.services, long);
		new NoteDoc(doc).body.insert(0, '港口日志。'.repeat(4000));
		const cut = await call('read_note', { note: 'Logbook' });
		expect(cut.content).toMatch(/\n\n\[Cut here: \d+ more characters not shown\.\]$/);
	});

	it("list_messages shows a channel's recent messages as its view does: not deleted, hidden or forged", async () => {
		const result = await call('list_messages', { channel: '#general', limit: 10 });
		expect(result.content).toBe(
			[
				`The 2 most recent messages in #general (channel id ${w.general}), oldest first.`,
				'[2025-01-06 09:01 UTC] Olga: Welcome to the harbour project',
				'[2025-01-06 09:02 UTC] Bob: The boat leaves at nine'
			].join('\n')
		);
		const one = await call('list_messages', { channel: w.general, limit: 1 });
		expect(one.content).toContain('The 1 most recent messages');
		expect(one.content).toContain('The boat leaves at nine');
		expect(one.content).not.toContain('Welcome');
		expect((await call('list_messages', { channel: 'crew', limit: 5 })).content).toContain('Bob: Crew meets at the pier');
		const unknown = await call('list_messages', { channel: 'random', limit: 5 });
		expect(unknown.isError).toBe(true);
		expect(unknown.content).toBe('There is no channel "random" you can read. Channels: #general, #announcements, #crew.');
	});

	it('a private channel the member is not in is invisible to every tool', async () => {
		for (const ref of [w.secret, 'secret-plans', '#secret-plans']) {
			const listed = await call('list_messages', { channel: ref, limit: 5 });
			expect(listed.isError).toBe(true);
			expect(listed.content).toMatch(/^There is no channel .* Channels: #general, #announcements, #crew\.$/);
			const { result, update } = await changeOf(docOf(w.secret), () => call('post_message', { channel: ref, text: 'Let me in' }));
			expect(result.isError).toBe(true);
			expect(Y.decodeUpdate(update).structs).toHaveLength(0);
		}
	});

	it('for @model in a channel, the tools read only what everyone in that channel may read', async () => {
		// Answering in #general (every member reads it): Ann's private #crew is out of reach.
		const inGeneral = createWorkspaceTools({ ...w.ctx, audience: w.general });
		const listed = await call('list_messages', { channel: 'crew', limit: 5 }, inGeneral);
		expect(listed.isError).toBe(true);
		expect(listed.content).toBe('There is no channel "crew" you can read. Channels: #general, #announcements.');
		const found = (await call('search', { query: 'crew meets', limit: 5 }, inGeneral)).content;
		expect(found).not.toContain('Crew meets');
		expect((await call('search', { query: 'crew meets', limit: 5 })).content).toContain('Crew meets at the pier'); // Ann's own chat finds it
		const { result, update } = await changeOf(docOf(w.crew), () => call('post_message', { channel: 'crew', text: 'From #general' }, inGeneral));
		expect(result.isError).toBe(true);
		expect(Y.decodeUpdate(update).structs).toHaveLength(0);
		// Open channels and notes stay readable.
		expect((await call('list_messages', { channel: 'announcements', limit: 5 }, inGeneral)).content).toContain('Release on Friday');
		expect((await call('search', { query: 'harbour', limit: 10 }, inGeneral)).content).toContain('note "Harbour guide"');
		// Answering in #crew itself: its own history is there (Ann and Bob both read it).
		const inCrew = createWorkspaceTools({ ...w.ctx, audience: w.crew });
		expect((await call('list_messages', { channel: 'crew', limit: 5 }, inCrew)).content).toContain('Bob: Crew meets at the pier');
		expect((await call('search', { query: 'crew meets', limit: 5 }, inCrew)).content).toContain('Crew meets at the pier');
	});

	it('post_message writes a signed message that another replica takes and shows', async () => {
		const doc = docOf(w.general);
		const { result, before, update } = await changeOf(doc, () => call('post_message', { channel: 'general', text: '  The tide is high at noon.  ' }));
		expect(result.isError).toBeUndefined();
		expect(result.content).toMatch(/^Posted in #general \(message id [a-z2-7]{26}\)\.$/);
		// Bob's replica: the channel write policy takes the update, and its view shows the message.
		expect(checkRemoteUpdate(w.ws, w.general, before, update, policy(w.general))).toBeUndefined();
		Y.applyUpdate(before, update);
		const view = new ChannelView(new ChannelDoc(before));
		const record = view.top.at(-1)!;
		expect(record).toMatchObject({ author: w.ann.peerId, text: 'The tide is high at noon.' });
		// Signed as written in #general: it verifies there, and nowhere else.
		expect(await verifyMessage(record, w.general)).toBe(true);
		expect(await verifyMessage(record)).toBe(false);
		const roleOf = (peerId: string) => w.authority.roleOf(peerId);
		expect(postShows(record, { roleOf, readOnly: readOnlySpans(new WorkspaceDoc(w.root.doc), w.general, roleOf) })).toBe(true);
		view.destroy();
		expect((await call('list_messages', { channel: 'general', limit: 1 })).content).toContain('Ann: The tide is high at noon.');
	});

	it('post_message is refused in a read-only channel for a member, and everywhere for a guest', async () => {
		const { result, update } = await changeOf(docOf(w.announcements), () => call('post_message', { channel: 'announcements', text: 'Me too' }));
		expect(result).toEqual({ content: 'You may not post in #announcements: only admins post there.', isError: true });
		expect(Y.decodeUpdate(update).structs).toHaveLength(0);
		const guest = await call('post_message', { channel: 'general', text: 'Hello' }, asGuest());
		expect(guest).toEqual({ content: 'You may not post in #general: guests do not post.', isError: true });
	});

	it("append_to_note's update carries this device's binding and passes the note write policy elsewhere", async () => {
		const doc = docOf(w.note);
		const { result, before, update } = await changeOf(doc, () => call('append_to_note', { note: 'Harbour guide', text: '- Fuel at pier 2.' }));
		expect(result.content).toBe(`Appended 17 characters to the note "Harbour guide" (note id ${w.note}).`);
		expect(checkRemoteUpdate(w.ws, w.note, before, update, policy(w.note))).toBeUndefined();
		Y.applyUpdate(before, update);
		expect(new NoteDoc(before).body.toString()).toBe('# Harbour guide\n\nBoats dock at pier 4.\n\n- Fuel at pier 2.');
		const bindings = before.getMap<ClientBinding>('bindings');
		expect([...bindings.values()].map((b) => b.device).sort()).toEqual([w.owner.peerId, w.ann.peerId].sort());
		expect(bindings.get(String(doc.clientID))?.device).toBe(w.ann.peerId);
		// The root's index records the edit, as the editor's does.
		expect(new WorkspaceDoc(w.root.doc).listNotes().find((n) => n.id === w.note)!.updatedAt).toBeGreaterThan(T0);

		const guest = await call('append_to_note', { note: 'Harbour guide', text: 'Hi' }, asGuest());
		expect(guest).toEqual({ content: 'You may not change the note "Harbour guide": guests do not edit notes.', isError: true });
	});

	it('create_note makes a note as the app does, which other replicas take; a second of the same title is refused', async () => {
		const rootBefore = new Y.Doc();
		Y.applyUpdate(rootBefore, Y.encodeStateAsUpdate(w.root.doc));
		const result = await call('create_note', { title: 'Tide tables', text: '| Day | High |\n| --- | --- |\n| Mon | 12:05 |' });
		const id = /note id ([a-z2-7]{26})/.exec(result.content)![1]!;
		expect(result.content).toBe(`Created the note "Tide tables" (note id ${id}).`);
		const doc = await hold(w.services, id);
		const replica = new Y.Doc();
		expect(checkRemoteUpdate(w.ws, id, replica, Y.encodeStateAsUpdate(doc), policy(id))).toBeUndefined();
		expect(new NoteDoc(doc).title).toBe('Tide tables');
		expect((await call('read_note', { note: 'tide tables' })).content).toContain('| Mon | 12:05 |');
		expect(checkRemoteUpdate(w.ws, w.ws, rootBefore, Y.encodeStateAsUpdate(w.root.doc, Y.encodeStateVector(rootBefore)), policy(w.ws))).toBeUndefined();

		const again = await call('create_note', { title: 'TIDE tables', text: '' });
		expect(again).toEqual({ content: `A note called "Tide tables" exists already (note id ${id}): add to it with append_to_note.`, isError: true });
		expect(await call('create_note', { title: 'Guest note', text: '' }, asGuest())).toEqual({ content: 'You may not change notes: guests do not edit notes.', isError: true });
	});
	it("an admin's answer for an audience reads no unverified channel (one a guest made), which only admins are shown", async () => {
		const root = new WorkspaceDoc(w.root.doc);
		const id = newId();
		const entry = await signChannelEntry(w.gus.key, { id, name: 'guest-room', topic: '', private: false, readOnly: false, archived: false, createdAt: T0 + 5, createdBy: w.gus.peerId });
		root.createChannel(entry);
		await post(await hold(w.services, id), w.owner, 9, 'Owner draft in the guest room');
		const asOwner = { ...w.ctx, device: { peerId: w.owner.peerId, privateKey: w.owner.key } };
		// The owner's own view lists it, marked unverified: its own tools (result for the owner alone) read it.
		expect((await call('list_messages', { channel: 'guest-room', limit: 5 }, createWorkspaceTools(asOwner))).content).toContain('Owner draft');
		// An answer in #general or an AI chat (every member reads it) must not carry it there.
		for (const audience of [w.general, newId()]) {
			const listed = await call('list_messages', { channel: 'guest-room', limit: 5 }, createWorkspaceTools({ ...asOwner, audience }));
			expect(listed).toMatchObject({ isError: true, content: expect.stringMatching(/^There is no channel "guest-room" you can read/) });
		}
		// Ann, a member, is not shown it at all.
		expect((await call('list_messages', { channel: 'guest-room', limit: 5 })).isError).toBe(true);
	});
});
