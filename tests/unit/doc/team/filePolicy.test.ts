/**
 * The workspace's file policy in the team fold: an admin sets it, a member's forged one has no
 * effect; malformed policies do not decode; the verdict on a file by size, MIME type, family
 * and name ending.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import { DEFAULT_FILE_POLICY, filePolicy, fileVerdict, MAX_BLOCKED_TYPES } from '../../../../src/lib/doc/team/filePolicy.js';
import { checkPayload, TeamOpFormatError } from '../../../../src/lib/doc/team/ops.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, admin: Device, ann: Device;

beforeAll(async () => {
	[owner, admin, ann] = await Promise.all([newDevice(), newDevice(), newDevice()]);
});

describe('file policy', () => {
	it('is set by an admin; a member’s has no effect', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: admin.peerId, role: 'admin', name: 'admin' }));
		ops.push(await write(owner, ws, ops, { t: 'add', member: ann.peerId, role: 'member', name: 'ann' }));
		expect(filePolicy(foldTeam(ws, ops))).toEqual(DEFAULT_FILE_POLICY);
		ops.push(await write(admin, ws, ops, { t: 'file-policy', maxBytes: 1024 * 1024, autoFetchBytes: 0, blocked: ['video/*', '.exe'] }));
		const forged = await write(ann, ws, ops, { t: 'file-policy', maxBytes: 4 * 1024 ** 3, autoFetchBytes: 0, blocked: [] });
		const team = foldTeam(ws, [...ops, forged]);
		expect(filePolicy(team)).toEqual({ maxBytes: 1024 * 1024, autoFetchBytes: 0, blocked: ['video/*', '.exe'] });
		expect(team.rejected.get(forged.id)).toMatch(/only admins/);
	});

	it('decodes only well-formed policies', () => {
		const base = { v: 1, ws: 'abcdefghijklmnopqrstuvwxyz', by: '12D3KooWLjr216azjSkrBvXsEug3ypdDXHDoYvQ6fV7rhCgU7cUv', prev: [], at: 1, t: 'file-policy' };
		const good = { ...base, maxBytes: 1000, autoFetchBytes: 10, blocked: ['application/x-msdownload', 'video/*', '.exe'] };
		expect(checkPayload(good)).toMatchObject({ t: 'file-policy', maxBytes: 1000, blocked: good.blocked });
		for (const bad of [
			{ ...good, maxBytes: 0 },
			{ ...good, maxBytes: 5 * 1024 ** 3 },
			{ ...good, maxBytes: 1.5 },
			{ ...good, autoFetchBytes: -1 },
			{ ...good, blocked: 'video/*' },
			{ ...good, blocked: ['Video/*'] },
			{ ...good, blocked: ['exe'] },
			{ ...good, blocked: ['.exe', '.exe'] },
			{ ...good, blocked: Array.from({ length: MAX_BLOCKED_TYPES + 1 }, (_, i) => `.e${i}`) }
		]) {
			expect(() => checkPayload(bad)).toThrow(TeamOpFormatError);
		}
	});

	it('judges a file by size, type, family and name ending', () => {
		const policy = { maxBytes: 1000, autoFetchBytes: 0, blocked: ['application/x-msdownload', 'video/*', '.exe'] };
		expect(fileVerdict(policy, { size: 1000, mime: 'image/png', name: 'a.png' })).toBe('ok');
		expect(fileVerdict(policy, { size: 1001, mime: 'image/png', name: 'a.png' })).toBe('tooLarge');
		expect(fileVerdict(policy, { size: 10, mime: 'Video/MP4; codecs=x', name: 'clip' })).toBe('blocked');
		expect(fileVerdict(policy, { size: 10, mime: 'application/x-msdownload', name: 'setup' })).toBe('blocked');
		expect(fileVerdict(policy, { size: 10, mime: 'application/octet-stream', name: 'SETUP.EXE' })).toBe('blocked');
		expect(fileVerdict(policy, { size: 10, mime: 'application/octet-stream', name: 'exe.txt' })).toBe('ok');
	});
});
