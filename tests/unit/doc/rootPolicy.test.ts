/**
 * The workspace root's write policy: the channel index only grows (an entry as its creator
 * made it is never overwritten or deleted), settings change by marks, set once each, and the
 * rest of the root is not guarded.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { checkRootUpdate } from '../../../src/lib/doc/rootPolicy.js';
import { settingsKey, WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { at } from './helpers.js';

const ADMIN = 'peer-admin';
const MEMBER = 'peer-member';
const roles: Record<string, string> = { [ADMIN]: 'admin', [MEMBER]: 'member' };
const info = (id: string, readOnly = false) => ({ id, name: id, topic: '', private: false, readOnly, archived: false, createdAt: 1, createdBy: ADMIN });
const mark = (by: string, value: boolean) => ({ channel: 'news', field: 'readOnly' as const, value, by, hlc: at(100, by), sig: 'sig' });

/** The root with one read-only channel, a copy changed by `change`, and the verdict on the change. */
function attempt(change: (ws: WorkspaceDoc) => void): string | undefined {
	const honest = new Y.Doc();
	new WorkspaceDoc(honest).createChannel(info('news', true));
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
	const before = Y.encodeStateVector(honest);
	change(new WorkspaceDoc(copy));
	return checkRootUpdate(honest, Y.encodeStateAsUpdate(copy, before));
}

describe('the root write policy', () => {
	it('refuses editing a channel’s entry: flipping read-only off, renaming, deleting it', () => {
		expect(attempt((ws) => ws.channels.get('news')!.set('readOnly', false))).toBe('a record cannot be overwritten');
		expect(attempt((ws) => ws.channels.get('news')!.set('name', 'mine'))).toBe('a record cannot be overwritten');
		expect(attempt((ws) => ws.channels.delete('news'))).toBe('a record cannot be deleted');
		expect(attempt((ws) => ws.channels.set('news', new Y.Map()))).toBe('a record cannot be overwritten');
	});

	it('takes new channels and settings marks, and leaves the rest of the root alone', () => {
		expect(attempt((ws) => ws.createChannel(info('other')))).toBeUndefined();
		expect(attempt((ws) => ws.markSetting(mark(MEMBER, false)))).toBeUndefined(); // stored, but only an admin's counts
		expect(attempt((ws) => (ws.name = 'renamed workspace'))).toBeUndefined();
	});

	it('refuses renaming or recolouring a workspace, or removing its roster id, once it is made (found in review)', () => {
		const honest = new Y.Doc();
		new WorkspaceDoc(honest).init({ name: 'Deck crew', color: '#1f6f5c', createdBy: ADMIN, createdAt: 1, rosterId: 'r1' });
		const tryChange = (change: (ws: WorkspaceDoc) => void) => {
			const copy = new Y.Doc();
			Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
			const before = Y.encodeStateVector(honest);
			change(new WorkspaceDoc(copy));
			return checkRootUpdate(honest, Y.encodeStateAsUpdate(copy, before));
		};
		expect(tryChange((ws) => (ws.name = 'Mutiny'))).toBe('a record cannot be overwritten');
		expect(tryChange((ws) => (ws.color = '#c0392b'))).toBe('a record cannot be overwritten');
		expect(tryChange((ws) => ws.meta.delete('rosterId'))).toBe('a record cannot be deleted');
		// The whole root, as a newcomer first receives it, is taken.
		expect(checkRootUpdate(new Y.Doc(), Y.encodeStateAsUpdate(honest))).toBeUndefined();
	});

	it('refuses a settings mark removed', () => {
		const honest = new Y.Doc();
		const root = new WorkspaceDoc(honest);
		root.createChannel(info('news', true));
		root.markSetting(mark(ADMIN, false));
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
		const before = Y.encodeStateVector(honest);
		new WorkspaceDoc(copy).channelSettings.delete(settingsKey(mark(ADMIN, false)));
		expect(checkRootUpdate(honest, Y.encodeStateAsUpdate(copy, before))).toBe('a record cannot be deleted');
	});

	it('folds settings from the marks it is told to accept', () => {
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createChannel(info('news', true));
		ws.markSetting(mark(MEMBER, false));
		const adminsOnly = { settings: (m: { by: string }) => roles[m.by] === 'admin', creation: () => true };
		expect(ws.channel('news', adminsOnly)?.readOnly).toBe(true);
		ws.markSetting({ ...mark(ADMIN, false), hlc: at(200, ADMIN) });
		expect(ws.channel('news', adminsOnly)?.readOnly).toBe(false);
	});
});
