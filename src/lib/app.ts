/**
 * The composition root: builds the local database, the document store and the device
 * identity once, and hands them to the state layer. The mesh issue adds the libp2p node here.
 */
import { WorkspaceTeams } from './core/WorkspaceTeams.js';
import { HybridClock } from './doc/hlc.js';
import { OutpostDb } from './store/db.js';
import { DocStore } from './store/DocStore.js';
import { loadOrCreateIdentity, type Identity } from './store/identity.js';

/** Everything the state layer needs from below. */
export interface Services {
	db: OutpostDb;
	docs: DocStore;
	identity: Identity;
	/** This device's hybrid logical clock (node = peer id). */
	clock: HybridClock;
	/** The team of each open workspace (the workspace core's authority state). */
	teams: WorkspaceTeams;
}

/** Opens the local database and loads (or creates) the device identity. */
export async function createServices(dbName = 'outpost'): Promise<Services> {
	const db = new OutpostDb(dbName);
	await db.open();
	const identity = await loadOrCreateIdentity(db);
	const docs = new DocStore();
	const teams = new WorkspaceTeams(docs, { peerId: identity.peerId, privateKey: identity.privateKey });
	return { db, docs, identity, clock: new HybridClock(identity.peerId), teams };
}
