import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { base32, isId, newId } from '../../../src/lib/doc/ids.js';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc.js';
import { RosterDoc } from '../../../src/lib/doc/RosterDoc.js';
import { AiStatus, Role, type ChannelInfo } from '../../../src/lib/doc/schema.js';
import { creatorsChannels, WORKSPACE_COLORS, workspaceColor, WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { T0, updateChannel, anyChannel } from './helpers.js';

function channelInfo(id: string, overrides: Partial<ChannelInfo> = {}): ChannelInfo {
	return { id, name: id, topic: '', private: false, readOnly: false, archived: false, createdAt: T0, createdBy: 'p1', ...overrides };
}

/** Two synced docs where each side wrote first locally, so their Y.Map key orders differ. */
function crossSynced(writeA: (doc: Y.Doc) => void, writeB: (doc: Y.Doc) => void): [Y.Doc, Y.Doc] {
	const a = new Y.Doc();
	const b = new Y.Doc();
	writeA(a);
	writeB(b);
	const fromA = Y.encodeStateAsUpdate(a);
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
	Y.applyUpdate(b, fromA);
	return [a, b];
}

describe('ids', () => {
	it('makes 26-character base32 ids that differ', () => {
		const ids = new Set(Array.from({ length: 200 }, newId));
		expect(ids.size).toBe(200);
		for (const id of ids) expect(isId(id)).toBe(true);
		expect(isId('ABC')).toBe(false);
		expect(isId(42)).toBe(false);
		expect(isId('a'.repeat(25) + '1')).toBe(false);
	});

	it('encodes RFC 4648 base32', () => {
		expect(base32(new TextEncoder().encode('foobar'))).toBe('mzxw6ytboi');
		expect(base32(new Uint8Array(16))).toBe('a'.repeat(26));
	});
});

describe('WorkspaceDoc', () => {
	it('keeps the workspace name, colour and roster id', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		expect(ws.name).toBe('');
		expect(ws.color).toBe(WORKSPACE_COLORS[0]);
		ws.init({ name: 'Vessel', color: '#2f5fb3', createdBy: 'p1', createdAt: T0, rosterId: 'r1' });
		expect([ws.name, ws.color, ws.rosterId]).toEqual(['Vessel', '#2f5fb3', 'r1']);
		ws.name = 'Vessel Ops';
		ws.color = '#c0392b';
		expect([ws.name, ws.color]).toEqual(['Vessel Ops', '#c0392b']);
	});

	it('reads a colour only from its list: any member writes the root, and the rail puts it in a style (found in review)', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.color = 'red; position: fixed; inset: 0; background-image: url(https://tracker.example/p.gif)';
		expect(ws.color).toBe(WORKSPACE_COLORS[0]);
		ws.meta.set('color', 42);
		expect(ws.color).toBe(WORKSPACE_COLORS[0]);
		ws.color = WORKSPACE_COLORS[3];
		expect(ws.color).toBe(WORKSPACE_COLORS[3]);
		expect(workspaceColor('url(x)')).toBe(WORKSPACE_COLORS[0]);
	});

	it('creates channels and reads them back', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		const info = channelInfo('c1', { name: 'general', topic: 'hello', private: true });
		ws.createChannel(info);
		expect(ws.channel('c1', anyChannel)).toEqual(info);
		expect(ws.channel('missing', anyChannel)).toBeUndefined();
	});

	it('renames, archives and flags channels with settings marks (the newest accepted one per field), leaving other fields alone', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createChannel(channelInfo('c1', { name: 'general', topic: 't' }));
		updateChannel(ws, 'c1', { name: 'lobby' });
		updateChannel(ws, 'c1', { archived: true });
		updateChannel(ws, 'c1', { readOnly: true });
		expect(ws.channel('c1', anyChannel)).toEqual(channelInfo('c1', { name: 'lobby', topic: 't', archived: true, readOnly: true }));
		updateChannel(ws, 'c1', { archived: false });
		expect(ws.channel('c1', anyChannel)?.archived).toBe(false);
		// Marks the caller does not accept (not an admin's, not verified) change nothing.
		updateChannel(ws, 'c1', { name: 'by a member' }, 'peer-member');
		expect(ws.channel('c1', { settings: (m) => m.by !== 'peer-member', creation: () => true })?.name).toBe('lobby');
		expect(ws.channel('c1', anyChannel)?.name).toBe('by a member');
		// Without a team at hand (an export, for one), no mark counts: the channel as its creator made it.
		expect(ws.channel('c1', creatorsChannels)).toEqual(channelInfo('c1', { name: 'general', topic: 't' }));
		expect(ws.channel('missing', anyChannel)).toBeUndefined();
	});

	it('lists channels oldest first, ties by id', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createChannel(channelInfo('c3', { createdAt: T0 + 20 }));
		ws.createChannel(channelInfo('cb', { createdAt: T0 }));
		ws.createChannel(channelInfo('ca', { createdAt: T0 }));
		ws.createChannel(channelInfo('c2', { createdAt: T0 + 10 }));
		expect(ws.listChannels(anyChannel).map((c) => c.id)).toEqual(['ca', 'cb', 'c2', 'c3']);
	});

	it('reads damaged channel entries with safe defaults', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		(ws.channels as Y.Map<unknown>).set('plain', { name: 'not a Y.Map' });
		const entry = new Y.Map<unknown>();
		ws.channels.set('abcdefghijkl', entry);
		entry.set('name', 42);
		entry.set('archived', 'yes');
		entry.set('createdAt', 'yesterday');
		expect(ws.channel('plain', anyChannel)).toBeUndefined();
		expect(ws.channel('abcdefghijkl', anyChannel)).toEqual({
			id: 'abcdefghijkl',
			name: 'abcdefgh',
			topic: '',
			private: false,
			readOnly: false,
			archived: false,
			createdAt: 0,
			createdBy: ''
		});
		expect(ws.listChannels(anyChannel).map((c) => c.id)).toEqual(['abcdefghijkl']);
	});

	it('indexes notes, most recently edited first', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createNote({ id: 'n1', title: 'Old', createdAt: T0, updatedAt: T0 });
		ws.createNote({ id: 'n2', title: 'New', createdAt: T0, updatedAt: T0 + 50 });
		ws.createNote({ id: 'n3', title: 'Mid', createdAt: T0, updatedAt: T0 + 10 });
		(ws.notes as Y.Map<unknown>).set('junk', 'not a map');
		expect(ws.listNotes().map((n) => n.title)).toEqual(['New', 'Mid', 'Old']);
		expect(ws.listNotes()[0]).toEqual({ id: 'n2', title: 'New', createdAt: T0, updatedAt: T0 + 50 });
	});

	it('indexes AI threads, newest first', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createAiThread({ id: 't1', title: 'First', createdAt: T0 });
		ws.createAiThread({ id: 't2', title: 'Second', createdAt: T0 + 5 });
		(ws.aiThreads as Y.Map<unknown>).set('junk', 7);
		expect(ws.listAiThreads()).toEqual([
			{ id: 't2', title: 'Second', createdAt: T0 + 5 },
			{ id: 't1', title: 'First', createdAt: T0 }
		]);
	});

	it('lists notes and threads with equal times in the same order on every peer', () => {
		const [a, b] = crossSynced(
			(doc) => {
				const ws = new WorkspaceDoc(doc);
				ws.createNote({ id: 'n-a', title: 'A', createdAt: T0, updatedAt: T0 });
				ws.createAiThread({ id: 't-a', title: 'A', createdAt: T0 });
			},
			(doc) => {
				const ws = new WorkspaceDoc(doc);
				ws.createNote({ id: 'n-b', title: 'B', createdAt: T0, updatedAt: T0 });
				ws.createAiThread({ id: 't-b', title: 'B', createdAt: T0 });
			}
		);
		const wa = new WorkspaceDoc(a);
		const wb = new WorkspaceDoc(b);
		expect(wa.listNotes()).toHaveLength(2);
		expect(wa.listNotes()).toEqual(wb.listNotes());
		expect(wa.listAiThreads()).toEqual(wb.listAiThreads());
	});
});

describe('RosterDoc', () => {
	it('adds members and reads them back', () => {
		const roster = new RosterDoc(new Y.Doc());
		roster.upsert({ peerId: 'p1', name: 'Ana', role: Role.owner, joinedAt: T0 });
		expect(roster.member('p1')).toEqual({ peerId: 'p1', name: 'Ana', role: 'owner', joinedAt: T0 });
		expect(roster.member('nobody')).toBeUndefined();
	});

	it('updates the display name on a second upsert, keeping when they joined', () => {
		const roster = new RosterDoc(new Y.Doc());
		roster.upsert({ peerId: 'p1', name: 'Ana', role: Role.member, joinedAt: T0 });
		roster.upsert({ peerId: 'p1', name: 'Ana L.', role: Role.member, joinedAt: T0 + 999 });
		expect(roster.member('p1')).toEqual({ peerId: 'p1', name: 'Ana L.', role: 'member', joinedAt: T0 });
		expect(roster.list()).toHaveLength(1);
	});

	it('renames, truncating long names', () => {
		const roster = new RosterDoc(new Y.Doc());
		roster.upsert({ peerId: 'p1', name: 'Ana', role: Role.member, joinedAt: T0 });
		roster.rename('p1', 'Ana Lima');
		expect(roster.member('p1')?.name).toBe('Ana Lima');
		roster.rename('p1', 'x'.repeat(500));
		expect(roster.member('p1')?.name).toHaveLength(80);
		roster.rename('stranger', 'Nope');
		expect(roster.member('stranger')).toBeUndefined();
	});

	it('lists members by name and hides revoked ones', () => {
		const roster = new RosterDoc(new Y.Doc());
		roster.upsert({ peerId: 'p1', name: 'Cy', role: Role.member, joinedAt: T0 });
		roster.upsert({ peerId: 'p2', name: 'Ana', role: Role.admin, joinedAt: T0 });
		roster.upsert({ peerId: 'p3', name: 'Bo', role: Role.guest, joinedAt: T0 });
		expect(roster.list().map((m) => m.name)).toEqual(['Ana', 'Bo', 'Cy']);
		roster.revoked.set('p3', T0 + 1);
		expect(roster.list().map((m) => m.name)).toEqual(['Ana', 'Cy']);
	});

	it('lists members with the same name in the same order on every peer', () => {
		const [a, b] = crossSynced(
			(doc) => new RosterDoc(doc).upsert({ peerId: 'p-a', name: 'Sam', role: Role.member, joinedAt: T0 }),
			(doc) => new RosterDoc(doc).upsert({ peerId: 'p-b', name: 'Sam', role: Role.member, joinedAt: T0 })
		);
		expect(new RosterDoc(a).list()).toHaveLength(2);
		expect(new RosterDoc(a).list()).toEqual(new RosterDoc(b).list());
	});

	it('shows a display name, or a short peer id for strangers', () => {
		const roster = new RosterDoc(new Y.Doc());
		roster.upsert({ peerId: '12D3KooWAbCdEfGh', name: 'Ana', role: Role.member, joinedAt: T0 });
		roster.upsert({ peerId: '12D3KooWNoName99', name: '', role: Role.member, joinedAt: T0 });
		expect(roster.displayName('12D3KooWAbCdEfGh')).toBe('Ana');
		expect(roster.displayName('12D3KooWNoName99')).toBe('…Name99');
		expect(roster.displayName('12D3KooWStranger')).toBe('…ranger');
	});

	it('reads damaged member entries with safe defaults', () => {
		const roster = new RosterDoc(new Y.Doc());
		const entry = new Y.Map<unknown>();
		roster.members.set('p1', entry);
		entry.set('name', 5);
		entry.set('role', 'emperor');
		entry.set('joinedAt', 'never');
		(roster.members as Y.Map<unknown>).set('p2', 'not a map');
		expect(roster.member('p1')).toEqual({ peerId: 'p1', name: '', role: 'member', joinedAt: 0 });
		expect(roster.member('p2')).toBeUndefined();
		expect(roster.list().map((m) => m.peerId)).toEqual(['p1']);
	});
});

describe('NoteDoc', () => {
	it('holds a title, a collaborative body and tags', () => {
		const note = new NoteDoc(new Y.Doc());
		expect(note.title).toBe('');
		note.title = 'Watch schedule';
		note.body.insert(0, '# Watches\n');
		note.body.insert(note.body.length, '- 00–04: Ana\n');
		note.tags.push(['ops', 'crew', 'ops']);
		(note.tags as Y.Array<unknown>).push([42]);
		expect(note.title).toBe('Watch schedule');
		expect(note.body.toString()).toBe('# Watches\n- 00–04: Ana\n');
		expect(note.tagList()).toEqual(['ops', 'crew']);
	});

	it('merges concurrent body edits from two peers', () => {
		const [a, b] = crossSynced(
			(doc) => new NoteDoc(doc).body.insert(0, 'alpha '),
			(doc) => new NoteDoc(doc).body.insert(0, 'beta ')
		);
		const text = new NoteDoc(a).body.toString();
		expect(text).toBe(new NoteDoc(b).body.toString());
		expect(text).toContain('alpha ');
		expect(text).toContain('beta ');
	});
});

describe('AiThreadDoc', () => {
	it('keeps a system prompt', () => {
		const thread = new AiThreadDoc(new Y.Doc());
		expect(thread.systemPrompt).toBe('');
		thread.systemPrompt = 'Be brief.';
		expect(thread.systemPrompt).toBe('Be brief.');
	});

	it('appends messages and streams an answer into its text', () => {
		const thread = new AiThreadDoc(new Y.Doc());
		thread.append({ id: 'u1', role: AiRole.user, hlc: 'h1', author: 'p1', text: 'What is 2+2?' });
		const answer = thread.append({
			id: 'a1',
			role: AiRole.assistant,
			hlc: 'h2',
			author: 'p-gpu',
			text: '',
			model: 'tiny-model',
			status: AiStatus.streaming
		});
		const text = answer.get('text');
		if (!(text instanceof Y.Text)) throw new Error('text is not a Y.Text');
		text.insert(text.length, 'It is ');
		text.insert(text.length, '4.');
		const stats = { tokensIn: 7, tokensOut: 3, ttftMs: 12, tokensPerSecond: 40 };
		answer.set('status', AiStatus.done);
		answer.set('stats', stats);
		expect(thread.list()).toEqual([
			{ id: 'u1', role: 'user', hlc: 'h1', author: 'p1', text: 'What is 2+2?', model: undefined, status: 'done', stats: undefined },
			{ id: 'a1', role: 'assistant', hlc: 'h2', author: 'p-gpu', text: 'It is 4.', model: 'tiny-model', status: 'done', stats }
		]);
	});

	it('shows a streaming answer to another peer as it arrives', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u));
		const answer = new AiThreadDoc(a).append({
			id: 'a1',
			role: AiRole.assistant,
			hlc: 'h1',
			author: 'p-gpu',
			text: '',
			status: AiStatus.streaming
		});
		const text = answer.get('text') as Y.Text;
		text.insert(0, 'Hel');
		expect(new AiThreadDoc(b).list()[0]).toMatchObject({ text: 'Hel', status: 'streaming' });
		text.insert(3, 'lo');
		expect(new AiThreadDoc(b).list()[0].text).toBe('Hello');
	});

	it('skips damaged entries instead of throwing', () => {
		const thread = new AiThreadDoc(new Y.Doc());
		thread.append({ id: 'u1', role: AiRole.user, hlc: 'h1', author: 'p1', text: 'hi' });
		const messages = thread.messages as Y.Array<unknown>;
		messages.push([{ id: 'plain object' }, 42, null, 'text']);
		const noId = new Y.Map<unknown>();
		thread.messages.push([noId]);
		noId.set('role', 'user');
		const badStatus = new Y.Map<unknown>();
		thread.messages.push([badStatus]);
		badStatus.set('id', 'u2');
		badStatus.set('role', 'user');
		badStatus.set('status', 'exploded');
		let list: ReturnType<AiThreadDoc['list']> = [];
		expect(() => (list = thread.list())).not.toThrow();
		expect(list.map((m) => m.id)).toEqual(['u1', 'u2']);
		expect(list[1].status).toBe('done');
		expect(list[1].text).toBe('');
	});
});
