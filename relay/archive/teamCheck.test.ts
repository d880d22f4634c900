/**
 * The archive request check (teamCheck.ts), pure: who may make the relay archive a workspace;
 * one answer to everyone who may not, whether or not the relay holds the workspace; and what
 * a request costs: each distinct operation's signature checked at most once, none before the
 * request's own operations certify the workspace and name the signer, with the event loop
 * turning between batches.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TeamOp } from '../../src/lib/doc/team/ops.ts';
import { verifyTeamOp } from '../../src/lib/doc/team/sign.ts';
import { createWorkspace, newDevice, write, type Device } from '../../tests/unit/doc/team/teamKit.ts';
import { checkArchiveRequest, decodeRequestOps, NOT_ADMIN_MESSAGE } from './teamCheck.ts';

let owner: Device;
let admin: Device;
let member: Device;
let relay: Device;
let mallory: Device;
let ws: string;
let ops: TeamOp[];

beforeAll(async () => {
	[owner, admin, member, relay, mallory] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
	const made = await createWorkspace(owner);
	ws = made.ws;
	ops = [made.create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: admin.peerId, role: 'admin', name: 'a' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: member.peerId, role: 'member', name: 'm' }));
	ops.push(await write(admin, ws, ops, { t: 'add', member: relay.peerId, role: 'relay', name: 'Relay' }));
});

const check = (signer: Device, with_: TeamOp[] = ops, known: TeamOp[] = [], verify?: (op: TeamOp) => Promise<boolean>) =>
	checkArchiveRequest({ workspaceId: ws, ops: with_, known, signer: signer.peerId, relayPeerId: relay.peerId, ...(verify ? { verify } : {}) });

describe('checkArchiveRequest', () => {
	it('accepts an owner or an admin once the relay is a member device', async () => {
		expect((await check(owner)).devices.has(relay.peerId)).toBe(true);
		await expect(check(admin)).resolves.toBeDefined();
	});

	it('refuses members, the relay itself, strangers, and a team without the relay', async () => {
		await expect(check(member)).rejects.toMatchObject({ reason: 'not-admin', message: NOT_ADMIN_MESSAGE });
		await expect(check(relay)).rejects.toMatchObject({ reason: 'not-admin', message: NOT_ADMIN_MESSAGE });
		await expect(check(mallory)).rejects.toMatchObject({ reason: 'not-admin', message: NOT_ADMIN_MESSAGE });
		// Only an admin hears what is missing.
		await expect(check(owner, ops.slice(0, 3))).rejects.toMatchObject({ reason: 'relay-not-member', message: expect.stringMatching(/add this relay/) });
	});

	it('refuses a forged team for the workspace id and operations of another workspace', async () => {
		const forged = await write(mallory, ws, [], { t: 'create', nonce: 'n', name: 'mallory' });
		const forgedAdd = await write(mallory, ws, [forged], { t: 'add', member: relay.peerId, role: 'relay', name: 'R' });
		await expect(check(mallory, [forged, forgedAdd])).rejects.toMatchObject({ reason: 'not-certified', message: NOT_ADMIN_MESSAGE });
		const other = await createWorkspace(mallory);
		await expect(check(owner, [...ops, other.create])).rejects.toMatchObject({ reason: 'malformed' });
	});

	it('counts the operations the relay holds: an admin it knows was removed is refused', async () => {
		const removal = await write(owner, ws, ops, { t: 'remove', member: admin.peerId });
		await expect(check(admin, ops, [...ops, removal])).rejects.toMatchObject({ reason: 'not-admin' });
	});

	it('refuses operations whose signature does not hold, and garbage', async () => {
		const bad = new Uint8Array(ops[1]!.bytes);
		bad[bad.length - 1]! ^= 1;
		const [decoded] = decodeRequestOps([Buffer.from(bad).toString('base64')]);
		await expect(check(owner, [ops[0]!, decoded!, ...ops.slice(2)])).rejects.toMatchObject({ reason: 'malformed' });
		expect(() => decodeRequestOps([])).toThrow(expect.objectContaining({ reason: 'malformed' }));
		expect(() => decodeRequestOps('x')).toThrow(expect.objectContaining({ reason: 'malformed' }));
		expect(() => decodeRequestOps(['AAAA'])).toThrow(expect.objectContaining({ reason: 'malformed' }));
	});

	it('tells a stranger the same whether or not the relay holds the workspace', async () => {
		const probe = await write(mallory, ws, [], { t: 'create', nonce: 'guess', name: 'x' });
		const withAdd = [...ops, await write(mallory, ws, ops, { t: 'add', member: mallory.peerId, role: 'admin', name: 'm' })];
		for (const sent of [[probe], ops, withAdd]) {
			const unheld = await check(mallory, sent, []).catch((error: Error) => error.message);
			const held = await check(mallory, sent, ops).catch((error: Error) => error.message);
			expect([unheld, held]).toEqual([NOT_ADMIN_MESSAGE, NOT_ADMIN_MESSAGE]);
		}
	});
});

describe('what checkArchiveRequest costs', () => {
	/** A verifier that counts its calls, per operation. */
	function counting() {
		const calls = new Map<string, number>();
		return {
			calls,
			total: () => [...calls.values()].reduce((a, b) => a + b, 0),
			verify: (op: TeamOp) => {
				calls.set(op.id, (calls.get(op.id) ?? 0) + 1);
				return verifyTeamOp(op);
			}
		};
	}

	it('checks no signature when no operation certifies the workspace, however many copies arrive', async () => {
		const probe = await write(mallory, ws, [], { t: 'create', nonce: 'guess', name: 'x' });
		const spy = counting();
		const copies = Array<TeamOp>(4096).fill(probe);
		await expect(
			checkArchiveRequest({ workspaceId: ws, ops: copies, signer: mallory.peerId, relayPeerId: relay.peerId, verify: spy.verify })
		).rejects.toMatchObject({ message: NOT_ADMIN_MESSAGE });
		expect(spy.total()).toBe(0);
		// Nor when the real team arrives but nothing in it names the signer.
		await expect(check(mallory, ops, [], spy.verify)).rejects.toMatchObject({ message: NOT_ADMIN_MESSAGE });
		expect(spy.total()).toBe(0);
	});

	it('checks each distinct operation once, and none the relay holds already', async () => {
		const spy = counting();
		const repeated = Array.from({ length: 200 }, () => ops).flat();
		await expect(check(owner, repeated, [], spy.verify)).resolves.toBeDefined();
		expect([...spy.calls.values()]).toEqual(ops.map(() => 1));
		expect(decodeRequestOps(repeated.map((op) => Buffer.from(op.bytes).toString('base64')))).toHaveLength(ops.length);

		const known = counting();
		await expect(check(owner, ops, ops.slice(0, 3), known.verify)).resolves.toBeDefined();
		expect([...known.calls.keys()]).toEqual([ops[3]!.id]);
	});

	it('gives the event loop back while it checks many signatures', async () => {
		// Many distinct operations a stranger signed itself, with the real root and naming itself.
		const own = await Promise.all(
			Array.from({ length: 100 }, (_, i) => write(mallory, ws, ops, { t: 'add', member: mallory.peerId, role: 'admin', name: `m${i}` }))
		);
		let turns = 0;
		let ticking = true;
		const tick = () => {
			turns++;
			if (ticking) setImmediate(tick);
		};
		setImmediate(tick);
		const seen: number[] = [];
		const verify = (op: TeamOp) => {
			seen.push(turns);
			return verifyTeamOp(op);
		};
		await expect(check(mallory, [...ops, ...own], [], verify)).rejects.toMatchObject({ message: NOT_ADMIN_MESSAGE });
		ticking = false;
		expect(seen).toHaveLength(ops.length + own.length);
		// Checked in several turns of the event loop, not all in one.
		expect(new Set(seen).size).toBeGreaterThan(1);
	});
});
