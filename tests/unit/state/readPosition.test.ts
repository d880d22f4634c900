/**
 * A channel's read position comes from posts that show, and never goes past what an honest clock
 * may say now; posts nobody is shown count for nothing (found in review: a withheld post dated in
 * the year 5000 became the reader's read position once the channel was read, after which no
 * message counted as unread again; and a guest's withheld posts counted as unread).
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc, hlcWall, MAX_DRIFT_MS } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { ChannelState } from '../../../src/lib/state/ChannelState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { identity } from '../doc/helpers.js';

const bob = identity();
const guest = identity();

async function services(): Promise<Services> {
	const privateKey = await generateKeyPair('Ed25519');
	return assembleServices(new OutpostDb(`outpost-unread-${newId()}`), new DocStore(`unread-${newId()}:`), {
		privateKey,
		peerId: peerIdFromPrivateKey(privateKey).toString(),
		displayName: 'Eve'
	});
}

function remote(doc: Y.Doc, change: (c: ChannelDoc) => void): void {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
	const sv = Y.encodeStateVector(copy);
	change(new ChannelDoc(copy));
	Y.applyUpdate(doc, Y.encodeStateAsUpdate(copy, sv), 'remote');
}

const now = (node: string, ms = 0) => formatHlc({ wall: Date.now() + ms, counter: 0, node });

async function open() {
	const svc = await services();
	const id = newId();
	const state = await ChannelState.open(svc, 'ws-unread', id);
	const handle = svc.docs.open(id);
	state.postingRules = { roleOf: (p) => (p === guest.id ? 'guest' : p === bob.id ? 'member' : undefined), readOnly: [] };
	const unread = async () => {
		await state.save();
		return (await svc.db.channelState.get(['ws-unread', id]))?.unread;
	};
	return { svc, id, state, handle, unread };
}

describe('the read position and the unread count', () => {
	it('a withheld post does not move the read position, and does not count as unread', async () => {
		const { id, state, handle, unread, svc } = await open();
		const bomb = await signMessage(guest.key, { id: 'far', author: guest.id, hlc: formatHlc({ wall: Date.UTC(5000, 0, 1), counter: 0, node: guest.id }), text: 'x' }, id);
		remote(handle.doc, (c) => c.post(bomb));
		state.markRead();
		const real = await signMessage(bob.key, { id: 'real', author: bob.id, hlc: now(bob.id, 1000), text: 'meeting moved to 3pm' }, id);
		remote(handle.doc, (c) => c.post(real));
		expect(await unread()).toBe(1); // Bob's post; the guest's counts for nothing
		expect((await svc.db.channelState.get(['ws-unread', id]))?.lastReadHlc ?? '').toBe(''); // nothing shown was read
		svc.docs.release(handle);
		await state.close();
	});

	it('a shown post dated far ahead neither moves it nor counts as unread, so reading the channel clears it (found in review)', async () => {
		const { id, state, handle, unread, svc } = await open();
		const before = await signMessage(bob.key, { id: 'before', author: bob.id, hlc: now(bob.id, -60_000), text: 'earlier' }, id);
		remote(handle.doc, (c) => c.post(before));
		// A post dated a year ahead: it sorts last for everyone, but is not "unread" until its time.
		const ahead = await signMessage(bob.key, { id: 'far', author: bob.id, hlc: now(bob.id, 365 * 24 * 60 * 60 * 1000), text: 'x' }, id);
		remote(handle.doc, (c) => c.post(ahead));
		expect(await unread()).toBe(1); // the earlier post only
		state.markRead();
		expect(await unread()).toBe(0);
		const saved = (await svc.db.channelState.get(['ws-unread', id]))?.lastReadHlc ?? '';
		// Read up to the earlier post, not up to a day ahead: the posts of the next day still count.
		expect(hlcWall(saved)).toBeLessThanOrEqual(Date.now());
		const later = await signMessage(bob.key, { id: 'later', author: bob.id, hlc: now(bob.id, 60 * 60 * 1000), text: 'in an hour' }, id);
		remote(handle.doc, (c) => c.post(later));
		expect(await unread()).toBe(1);
		state.markRead();
		expect(await unread()).toBe(0);
		expect(hlcWall((await svc.db.channelState.get(['ws-unread', id]))?.lastReadHlc ?? '')).toBeLessThanOrEqual(Date.now() + MAX_DRIFT_MS);
		svc.docs.release(handle);
		await state.close();
	});
});
