/** Two SyncSessions wired back to back through a loopback that records every message. */
import { newId } from '../../../src/lib/doc/ids';
import { SyncSession, type SyncSessionInit } from '../../../src/lib/mesh/SyncSession';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys, type WorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { MemoryDocs } from './memoryDocs';

/** One side of a loopback pair. */
export interface Side {
	session: SyncSession;
	docs: MemoryDocs;
	/** Every message this side was sent by the other. */
	inbox: Uint8Array[];
	errors: Error[];
	synced: Promise<void>;
	closed: Promise<void>;
}

/** Options for {@link pair}. */
export interface PairOptions {
	workspaceId?: string;
	openerKeys?: WorkspaceKeys;
	responderKeys?: WorkspaceKeys;
	openerDocs?: MemoryDocs;
	responderDocs?: MemoryDocs;
	/** Delivers each message after this many microtask turns (from a seeded PRNG), reordering nothing. */
	jitter?: () => number;
	opener?: Partial<SyncSessionInit>;
	responder?: Partial<SyncSessionInit>;
	/** Delivers the `index`th message sent to `to` (default: `to.session.receive(bytes)`). */
	deliver?: (to: Side, index: number, bytes: Uint8Array) => Promise<void>;
	/** When it returns true, that side's send() throws, as a closed stream's would. */
	failSend?: (role: 'opener' | 'responder') => boolean;
}

/** Keys for a fresh workspace (or the given one). */
export async function workspace(id = newId(), secret = newSecret()): Promise<WorkspaceKeys> {
	return deriveWorkspaceKeys(id, secret);
}

async function turns(n: number): Promise<void> {
	for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Two sessions, opener and responder, each delivering its sends to the other in order. */
export async function pair(options: PairOptions = {}): Promise<{ opener: Side; responder: Side; start: () => void }> {
	const keys = options.openerKeys ?? (await workspace(options.workspaceId));
	const responderKeys = options.responderKeys ?? keys;
	const sides: Side[] = [];
	const chain = [Promise.resolve(), Promise.resolve()];
	const make = (index: 0 | 1, role: 'opener' | 'responder', k: WorkspaceKeys, docs: MemoryDocs, extra?: Partial<SyncSessionInit>): Side => {
		const inbox: Uint8Array[] = [];
		const errors: Error[] = [];
		const session = new SyncSession({
			role,
			workspace: { id: k.workspaceId, keys: k },
			localPeerId: role === 'opener' ? 'peer-a' : 'peer-b',
			remotePeerId: role === 'opener' ? 'peer-b' : 'peer-a',
			docs,
			send: (bytes) => {
				if (options.failSend?.(role)) throw new Error('stream closed');
				const other = sides[1 - index];
				const copy = bytes.slice();
				const position = other.inbox.push(copy) - 1;
				const delay = options.jitter?.() ?? 0;
				const deliver = options.deliver ?? ((to, _i, b) => to.session.receive(b));
				chain[index] = chain[index].then(() => turns(delay)).then(() => deliver(other, position, copy));
			},
			...extra
		});
		session.on('error', (e) => errors.push(e));
		const synced = new Promise<void>((resolve) => session.on('synced', resolve));
		const closed = new Promise<void>((resolve) => session.on('closed', resolve));
		return { session, docs, inbox, errors, synced, closed };
	};
	const opener = make(0, 'opener', keys, options.openerDocs ?? new MemoryDocs(), options.opener);
	const responder = make(1, 'responder', responderKeys, options.responderDocs ?? new MemoryDocs(), options.responder);
	sides.push(opener, responder);
	return {
		opener,
		responder,
		start: () => {
			responder.session.start();
			opener.session.start();
		}
	};
}

/** Waits until both sides are synced (or fails on the first error). */
export async function syncBoth(p: { opener: Side; responder: Side; start: () => void }): Promise<void> {
	p.start();
	const failed = (side: Side) => side.closed.then(() => Promise.reject(side.errors[0] ?? new Error('closed')));
	await Promise.race([Promise.all([p.opener.synced, p.responder.synced]), failed(p.opener), failed(p.responder)]);
}

/** Lets queued messages drain. */
export async function settle(rounds = 20): Promise<void> {
	for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}
