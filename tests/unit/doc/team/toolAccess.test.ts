/**
 * Per-role tool access in the team fold: tools with no rule are open to owners, admins and
 * members (not guests, not the relay's role); an admin's rule replaces that; a member's forged
 * rule (a modified client signs one) has no effect; malformed rules do not decode.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import { checkPayload, TeamOpFormatError } from '../../../../src/lib/doc/team/ops.js';
import { roleMayUseTool } from '../../../../src/lib/doc/team/toolAccess.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, admin: Device, ann: Device;

beforeAll(async () => {
	[owner, admin, ann] = await Promise.all([newDevice(), newDevice(), newDevice()]);
});

describe('tool access', () => {
	it('defaults to owners, admins and members; an admin’s rule replaces it; a member’s forged rule has no effect', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: admin.peerId, role: 'admin', name: 'admin' }));
		ops.push(await write(owner, ws, ops, { t: 'add', member: ann.peerId, role: 'member', name: 'ann' }));
		let team = foldTeam(ws, ops);
		expect(['owner', 'admin', 'member'].every((r) => roleMayUseTool(team, r as 'member', 'files.read'))).toBe(true);
		expect(roleMayUseTool(team, 'guest', 'files.read')).toBe(false);
		expect(roleMayUseTool(team, 'relay', 'files.read')).toBe(false);
		expect(roleMayUseTool(team, undefined, 'files.read')).toBe(false);

		ops.push(await write(admin, ws, ops, { t: 'tool-access', tool: 'files.read', roles: ['admin', 'guest'] }));
		const forged = await write(ann, ws, ops, { t: 'tool-access', tool: 'files.read', roles: ['member'] });
		team = foldTeam(ws, [...ops, forged]);
		expect(team.rejected.get(forged.id)).toMatch(/only admins/);
		expect(roleMayUseTool(team, 'guest', 'files.read')).toBe(true);
		expect(roleMayUseTool(team, 'member', 'files.read')).toBe(false);
		expect(roleMayUseTool(team, 'member', 'files.write')).toBe(true);
	});

	it('decodes only well-formed rules', () => {
		const base = { v: 1, ws: 'abcdefghijklmnopqrstuvwxyz', by: '12D3KooWLjr216azjSkrBvXsEug3ypdDXHDoYvQ6fV7rhCgU7cUv', prev: [], at: 1, t: 'tool-access' };
		expect(checkPayload({ ...base, tool: 'fx.echo', roles: ['guest'] })).toMatchObject({ t: 'tool-access', tool: 'fx.echo', roles: ['guest'] });
		for (const bad of [{ ...base, roles: ['guest'] }, { ...base, tool: 'fx.echo', roles: ['captain'] }, { ...base, tool: 'fx.echo', roles: ['guest', 'guest'] }, { ...base, tool: 'x'.repeat(201), roles: [] }])
			expect(() => checkPayload(bad)).toThrow(TeamOpFormatError);
	});
});
