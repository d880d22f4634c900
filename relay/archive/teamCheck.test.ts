/** The archive request check (teamCheck.ts), pure: who may make the relay archive a workspace. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TeamOp } from '../../src/lib/doc/team/ops.ts';
import { createWorkspace, newDevice, write, type Device } from '../../tests/unit/doc/team/teamKit.ts';
import { checkArchiveRequest, decodeRequestOps } from './teamCheck.ts';

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

const check = (signer: Device, with_: TeamOp[] = ops, known: TeamOp[] = []) =>
	checkArchiveRequest({ workspaceId: ws, ops: with_, known, signer: signer.peerId, relayPeerId: relay.peerId });

describe('checkArchiveRequest', () => {
	it('accepts an owner or an admin once the relay is a member device', async () => {
		expect((await check(owner)).devices.has(relay.peerId)).toBe(true);
		await expect(check(admin)).resolves.toBeDefined();
	});

	it('refuses members, the relay itself, strangers, and a team without the relay', async () => {
		await expect(check(member)).rejects.toMatchObject({ reason: 'not-admin', message: expect.stringMatching(/only owners and admins/) });
		await expect(check(relay)).rejects.toMatchObject({ reason: 'not-admin' });
		await expect(check(mallory)).rejects.toMatchObject({ reason: 'not-admin', message: expect.stringMatching(/not a current member/) });
		await expect(check(owner, ops.slice(0, 3))).rejects.toMatchObject({ reason: 'relay-not-member' });
	});

	it('refuses a forged team for the workspace id and operations of another workspace', async () => {
		const forged = await write(mallory, ws, [], { t: 'create', nonce: 'n', name: 'mallory' });
		const forgedAdd = await write(mallory, ws, [forged], { t: 'add', member: relay.peerId, role: 'relay', name: 'R' });
		await expect(check(mallory, [forged, forgedAdd])).rejects.toMatchObject({ reason: 'not-certified' });
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
});
