/**
 * The fold orders operations without recursion (found in review: order.ts decided "orderable"
 * by recursing over `prev` links; a guest wrote a chain of 6,000 cheap `name` operations with
 * its tip ground to the smallest id, the walk overflowed the stack, and every replica holding
 * the roster, which only grows, failed to fold it for good).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, mallory: Device;
beforeAll(async () => {
	[owner, mallory] = await Promise.all([newDevice(), newDevice()]);
});

const CHAIN = 6_000;
let built: { ws: string; ops: TeamOp[] };
beforeAll(async () => {
	built = await chainTeam();
}, 120_000);

async function chainTeam() {
	const { ws, create } = await createWorkspace(owner);
	const ops: TeamOp[] = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: mallory.peerId, role: 'guest', name: 'mallory' }));
	let last = ops[ops.length - 1]!;
	let min = 'g';
	for (let i = 0; i < CHAIN; i++) {
		last = await write(mallory, ws, [last], { t: 'name', name: `m${i % 10}` }, 2_000 + i);
		ops.push(last);
		if (last.id < min) min = last.id;
	}
	// Grind the tip below every other id (about CHAIN tries).
	const parent = ops[ops.length - 1]!;
	let tip: TeamOp;
	for (let at = 0; ; at++) {
		tip = await write(mallory, ws, [parent], { t: 'name', name: 'tip' }, 100_000 + at);
		if (tip.id < min && tip.id < ops[0]!.id) break;
	}
	ops.push(tip);
	return { ws, ops };
}

describe('a long chain of operations', () => {
	it(`the fold of a team with a guest's chain of ${CHAIN} name operations does not throw`, async () => {
		const { ws, ops } = built;
		let team;
		let error: unknown;
		try {
			team = foldTeam(ws, ops);
		} catch (e) {
			error = e;
		}
		expect(String(error ?? 'no error')).toBe('no error');
		expect(team!.members.get(owner.peerId)?.role).toBe('owner');
	});
});
