/**
 * Suspected in review: a HELLO admission is a signed team operation, and the responder folded
 * the whole team for any of them before answering, so any holder of an invite link (it carries
 * the workspace secret) could make it fold once per stream with an operation that can never
 * admit anyone (a rename of itself). Such operations are refused before any fold.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';

const folds = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/lib/doc/team/fold.js', async (importOriginal) => {
	const real = await importOriginal<typeof import('../../../src/lib/doc/team/fold.js')>();
	return {
		...real,
		foldTeam: (...args: Parameters<typeof real.foldTeam>) => {
			folds.count++;
			return real.foldTeam(...args);
		}
	};
});

const { TeamAuthority } = await import('../../../src/lib/core/TeamAuthority.js');
const { addTeamOp } = await import('../../../src/lib/doc/team/TeamDoc.js');
const { admission, createWorkspace, invitation, newDevice, write } = await import('../doc/team/teamKit.js');

afterEach(() => {
	folds.count = 0;
});

describe('admissions of a kind that admits nobody', () => {
	it('are refused without folding the team; a real admission still folds and admits', async () => {
		const [owner, stranger, joiner] = await Promise.all([newDevice(), newDevice(), newDevice()]);
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		const inv = invitation('member', 5);
		ops.push(await write(owner, ws, ops, inv.body));
		const doc = new Y.Doc();
		for (const op of ops) addTeamOp(doc, op);
		const authority = new TeamAuthority({ workspaceId: ws, doc, now: () => 5_000 });
		await authority.ready;

		const rename = await write(stranger, ws, ops, { t: 'name', name: 'anyone' });
		const before = folds.count;
		for (let i = 0; i < 5; i++) expect(await authority.admits(stranger.peerId, rename.bytes)).toBe('refused');
		expect(folds.count).toBe(before);

		const admit = await admission(joiner, ws, ops, inv, 4_000);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('ok');
		expect(folds.count).toBeGreaterThan(before);
		authority.destroy();
	});
});
