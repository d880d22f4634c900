/**
 * Found in review: an invitation's `expires` and `at` are its author's own claims, so a link
 * dated to expire in years stayed a key to the workspace for that long. The responder deciding
 * an admission (TeamAuthority.admits) bounds an invitation's life by its own clock: one that
 * claims more than {@link MAX_INVITE_LIFETIME_MS}, or an expiry further than that past the
 * responder's now, admits nobody new. The fold is untouched (no clock in it): what a replica
 * folds stays the same everywhere.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MAX_INVITE_LIFETIME_MS, TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import { foldTeam } from '../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../src/lib/doc/team/ops.js';
import { admission, createWorkspace, invitation, newDevice, write } from '../doc/team/teamKit.js';

const DAY = 24 * 60 * 60 * 1000;
/** The responder's clock: a plausible date. */
const NOW = Date.UTC(2026, 11, 1);

/** A team with one invitation by its owner, signed at `at` and expiring at `expires`, and a responder whose clock says `now`. */
async function teamWithInvite(at: number, expires: number, now = NOW) {
	const [owner, joiner] = await Promise.all([newDevice(), newDevice()]);
	const { ws, create } = await createWorkspace(owner);
	const ops: TeamOp[] = [create];
	const inv = invitation('member', 5, expires);
	ops.push(await write(owner, ws, ops, inv.body, at));
	const doc = new Y.Doc();
	for (const op of ops) addTeamOp(doc, op);
	const authority = new TeamAuthority({ workspaceId: ws, doc, now: () => now });
	await authority.ready;
	const admit = await admission(joiner, ws, ops, inv, now);
	return { authority, joiner, admit, ws, ops };
}

describe('an invitation’s life, bounded by the responder’s clock', () => {
	it('admits with a week-long invitation, the longest the app offers', async () => {
		const { authority, joiner, admit } = await teamWithInvite(NOW - DAY, NOW + 6 * DAY);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('ok');
		expect(authority.isMember(joiner.peerId)).toBe(true);
		authority.destroy();
	});

	it('refuses an invitation dated to expire in a year, and records nothing', async () => {
		const { authority, joiner, admit } = await teamWithInvite(NOW - DAY, NOW + 365 * DAY);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('expired');
		expect(authority.isMember(joiner.peerId)).toBe(false);
		expect(authority.team.devices.has(joiner.peerId)).toBe(false);
		authority.destroy();
	});

	it('refuses a long-lived invitation even near its claimed end: its life is over the bound', async () => {
		// Made (by its own date) 340 days ago to last a year: 25 days are left, but it has lived too long.
		const { authority, joiner, admit } = await teamWithInvite(NOW - 340 * DAY, NOW + 25 * DAY);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('expired');
		expect(authority.isMember(joiner.peerId)).toBe(false);
		authority.destroy();
	});

	it('refuses an invitation that post-dates its own creation to stretch its expiry past the responder’s now', async () => {
		// Claims a 20-day life, but starting 200 days from the responder's now.
		const { authority, joiner, admit } = await teamWithInvite(NOW + 200 * DAY, NOW + 220 * DAY);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('expired');
		authority.destroy();
	});

	it('admits at the bound, and the fold of such an admission is the same without any clock', async () => {
		const { authority, joiner, admit, ws, ops } = await teamWithInvite(NOW, NOW + MAX_INVITE_LIFETIME_MS);
		expect(await authority.admits(joiner.peerId, admit.bytes)).toBe('ok');
		// Another replica folding the same signed operations (whatever its clock) counts the joiner in.
		expect(foldTeam(ws, [...ops, admit]).devices.has(joiner.peerId)).toBe(true);
		authority.destroy();
	});
});
