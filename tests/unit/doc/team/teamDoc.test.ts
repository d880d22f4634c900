/**
 * The team's operations map only grows: a member with a modified client sends raw Yjs
 * updates that delete an operation, overwrite one, or store garbage, and every replica's
 * check refuses them, while honest additions (and their duplicates) pass.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addTeamOp, checkTeamUpdate, readTeamOps, teamOps } from '../../../../src/lib/doc/team/TeamDoc.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';
import { signTeamOp } from '../../../../src/lib/doc/team/sign.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';

let owner: Device;
let mallory: Device;
let ws: string;
let ops: TeamOp[];

beforeAll(async () => {
	[owner, mallory] = await Promise.all([newDevice(), newDevice()]);
	const made = await createWorkspace(owner);
	ws = made.ws;
	ops = [made.create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: mallory.peerId, role: 'member', name: 'm' }));
});

/** A replica holding the operations, and an attacker's copy synced from it. */
function replicas(): { honest: Y.Doc; attacker: Y.Doc } {
	const honest = new Y.Doc();
	for (const op of ops) addTeamOp(honest, op);
	const attacker = new Y.Doc();
	Y.applyUpdate(attacker, Y.encodeStateAsUpdate(honest));
	return { honest, attacker };
}

/** What `edit` on the attacker's copy sends. */
function updateOf(doc: Y.Doc, edit: () => void): Uint8Array {
	const before = Y.encodeStateVector(doc);
	edit();
	return Y.encodeStateAsUpdate(doc, before);
}

describe('team document check', () => {
	it('accepts an honest new operation, and the same state twice', async () => {
		const { honest, attacker } = replicas();
		const op = await write(owner, ws, ops, { t: 'name', name: 'boss' });
		const update = updateOf(attacker, () => addTeamOp(attacker, op));
		expect(checkTeamUpdate(honest, update)).toBeUndefined();
		expect(checkTeamUpdate(honest, Y.encodeStateAsUpdate(attacker))).toBeUndefined();
		Y.applyUpdate(honest, update);
		expect(readTeamOps(honest).ops.map((o) => o.id)).toContain(op.id);
	});

	it("refuses a second root: the creator's re-signed create of the same workspace (found in review)", async () => {
		const { honest, attacker } = replicas();
		const create = ops[0]!;
		const p = create.payload;
		if (p.t !== 'create') throw new Error('the first operation is the create');
		// Same workspace id (same creator and nonce), another time: another id, smaller or not.
		const again = await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: p.at + 1 }, { t: 'create', nonce: p.nonce, name: 'mine alone' });
		expect(again.id).not.toBe(create.id);
		expect(checkTeamUpdate(honest, updateOf(attacker, () => teamOps(attacker).set(again.id, again.bytes)))).toMatch(/one root/);
		// A replica that has nothing yet takes one root, not two in one update.
		const fresh = new Y.Doc();
		const both = new Y.Doc();
		teamOps(both).set(create.id, create.bytes);
		teamOps(both).set(again.id, again.bytes); // a modified client's copy
		expect(checkTeamUpdate(fresh, Y.encodeStateAsUpdate(both))).toMatch(/one root/);
		const one = new Y.Doc();
		addTeamOp(one, create);
		expect(checkTeamUpdate(fresh, Y.encodeStateAsUpdate(one))).toBeUndefined();
		// Nor is one added locally (an archive request hands the relay operations).
		addTeamOp(honest, again);
		expect(teamOps(honest).has(again.id)).toBe(false);
	});

	it('refuses an update that deletes an operation', () => {
		const { honest, attacker } = replicas();
		const update = updateOf(attacker, () => teamOps(attacker).delete(ops[1].id));
		expect(checkTeamUpdate(honest, update)).toMatch(/deleted/);
		// Also as part of a whole state, as sync step 2 would send it.
		expect(checkTeamUpdate(honest, Y.encodeStateAsUpdate(attacker))).toMatch(/deleted/);
	});

	it('refuses an overwrite of an operation, and garbage under an id', async () => {
		const { honest, attacker } = replicas();
		const other = await write(owner, ws, ops, { t: 'name', name: 'x' });
		const overwrite = updateOf(attacker, () => teamOps(attacker).set(ops[1].id, other.bytes));
		expect(checkTeamUpdate(honest, overwrite)).toMatch(/overwritten/);
		const { attacker: a2 } = replicas();
		const garbage = updateOf(a2, () => teamOps(a2).set('00'.repeat(32), new Uint8Array([1, 2, 3])));
		expect(checkTeamUpdate(honest, garbage)).toMatch(/own id/);
		const { attacker: a3 } = replicas();
		const notBytes = updateOf(a3, () => (teamOps(a3) as unknown as Y.Map<unknown>).set(other.id, 'text'));
		expect(checkTeamUpdate(honest, notBytes)).toMatch(/bytes/);
	});

	it('a refused update leaves every operation in place', () => {
		const { honest, attacker } = replicas();
		const update = updateOf(attacker, () => teamOps(attacker).clear());
		expect(checkTeamUpdate(honest, update)).toBeDefined();
		expect(readTeamOps(honest).ops).toHaveLength(ops.length);
	});

	it('ignores legacy roster maps', () => {
		const { honest, attacker } = replicas();
		const legacy = attacker.getMap('members');
		const update = updateOf(attacker, () => {
			legacy.set('x', 1);
			legacy.set('x', 2);
		});
		expect(checkTeamUpdate(honest, update)).toBeUndefined();
	});
});

describe('adding an operation read off the wire', () => {
	it('stores a Node Buffer (or a view into a larger frame) as plain bytes', () => {
		const doc = new Y.Doc();
		const frame = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(ops[1].bytes)]);
		addTeamOp(doc, { ...ops[1], bytes: frame.subarray(3) });
		expect(readTeamOps(doc).ops.map((op) => op.id)).toEqual([ops[1].id]);
	});
});

describe('the same operation added on two replicas', () => {
	it('passes both ways and on to a third replica, with the duplicate entry Yjs deletes', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		for (const op of ops) addTeamOp(a, op);
		for (const op of ops) addTeamOp(b, op); // on its own: other Yjs items under the same keys
		const fromA = Y.encodeStateAsUpdate(a);
		const fromB = Y.encodeStateAsUpdate(b);
		expect(checkTeamUpdate(b, fromA)).toBeUndefined();
		expect(checkTeamUpdate(a, fromB)).toBeUndefined();
		Y.applyUpdate(a, fromB);
		Y.applyUpdate(b, fromA);
		// a now holds a deleted duplicate of each entry; a third replica takes its state, after b's.
		const c = new Y.Doc();
		Y.applyUpdate(c, fromB);
		expect(checkTeamUpdate(c, Y.encodeStateAsUpdate(a))).toBeUndefined();
		expect(checkTeamUpdate(new Y.Doc(), Y.encodeStateAsUpdate(a))).toBeUndefined();
		Y.applyUpdate(c, Y.encodeStateAsUpdate(a));
		expect(readTeamOps(c).ops.map((o) => o.id).sort()).toEqual(ops.map((o) => o.id).sort());
		// Deleting the surviving entry is still refused.
		const d = new Y.Doc();
		Y.applyUpdate(d, Y.encodeStateAsUpdate(a));
		expect(checkTeamUpdate(a, updateOf(d, () => teamOps(d).delete(ops[0]!.id)))).toMatch(/deleted/);
	});
});

describe('team document check, operations not seen yet', () => {
	it('refuses a whole state in which an operation arrives already deleted (a newcomer must not get the team without it)', async () => {
		const { attacker } = replicas();
		// Mallory deletes an operation (say, her own removal) and hands her whole state to a newcomer.
		teamOps(attacker).delete(ops[1].id);
		const newcomer = new Y.Doc();
		expect(checkTeamUpdate(newcomer, Y.encodeStateAsUpdate(attacker))).toMatch(/deleted/);
	});
});
