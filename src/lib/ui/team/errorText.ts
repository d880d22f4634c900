/**
 * The text of a failed team action for an alert, in the chosen language. The team's fold
 * (doc/team/fold.ts) refuses an operation with a reason in English words; the ones a person can
 * run into from this UI are matched here to `team.reason.*` keys, and any other failure gets a
 * translated catch-all, so no English reason shows inside a translated sentence.
 */
import { get } from 'svelte/store';
import { _ } from '$lib/i18n';

/** The fold's reasons (and this app's own team errors) → their `team.reason.*` key. */
const REASONS: readonly (readonly [RegExp, string])[] = [
	[/^the last owner cannot step down$/, 'team.reason.lastOwnerStepDown'],
	[/^the last owner cannot be removed$/, 'team.reason.lastOwnerRemoved'],
	[/^only admins /, 'team.reason.adminsOnly'],
	[/^cannot (grant|change|remove|invite to) a higher role$/, 'team.reason.higherRole'],
	[/^cannot remove this device$/, 'team.reason.higherRole'],
	[/^cannot revoke this invitation$/, 'team.reason.notYourInvitation'],
	[/^only members /, 'team.reason.membersOnly'],
	[/^may not (add members to|remove others from) this space$/, 'team.reason.spaceManagers'],
	[/^not a member of the space$/, 'team.reason.notInSpace'],
	[/^not a member of the team$/, 'team.reason.notInTeam'],
	[/^too many members$/, 'team.reason.tooManyMembers'],
	[/^the member has \d+ devices, the most one may$/, 'team.reason.tooManyDevices'],
	[/^no such (member|device|invitation|space)$/, 'team.reason.gone'],
	[/^(author is not a current member device|dropped: written by a removed member|this device is not a member)$/, 'team.reason.notMember']
];

/** The `team.reason.*` key for an error a team action threw. */
export function reasonKey(err: unknown): string {
	if (!(err instanceof Error)) return 'team.reason.failed';
	if (err.name === 'ReadOnlyTeamError') return 'team.reason.noDeviceKey';
	const reason = err.name === 'TeamRefusedError' && 'reason' in err && typeof err.reason === 'string' ? err.reason : err.message;
	const found = REASONS.find(([pattern]) => pattern.test(reason));
	if (found) return found[1];
	return err.name === 'TeamRefusedError' ? 'team.reason.refused' : 'team.reason.failed';
}

/** The translated reason a team action failed, to put in a sentence (`team.error`, `spaces.error`, …). */
export function errorText(err: unknown): string {
	if (reasonKey(err) === 'team.reason.failed') console.warn('team action failed', err);
	return get(_)(reasonKey(err));
}
