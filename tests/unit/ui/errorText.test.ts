/**
 * Errors shown to people are in the chosen language: the team's refusals (the fold's English
 * reasons) map to `team.reason.*` keys, the app's named errors to their own messages, and
 * anything unknown to a translated catch-all, never the English message.
 */
import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { en } from '../../../src/lib/i18n/en.js';
import { zhCN } from '../../../src/lib/i18n/zh-CN.js';
import { _, setLanguage, setupI18n } from '../../../src/lib/i18n/index.js';
import { errorText, reasonKey } from '../../../src/lib/ui/team/errorText.js';
import { errorKey, errorMessage } from '../../../src/lib/ui/errorMessage.js';
import { TeamRefusedError } from '../../../src/lib/state/TeamState.svelte.js';
import { MessageTooLongError } from '../../../src/lib/state/ChannelState.svelte.js';
import { EmptyNameError, NotAllowedError } from '../../../src/lib/state/WorkspaceState.svelte.js';

const refused = (reason: string) => new TeamRefusedError(reason);

describe('team refusals', () => {
	it('maps the fold’s reasons to translated keys', () => {
		expect(reasonKey(refused('the last owner cannot step down'))).toBe('team.reason.lastOwnerStepDown');
		expect(reasonKey(refused('the last owner cannot be removed'))).toBe('team.reason.lastOwnerRemoved');
		expect(reasonKey(refused('only admins invite'))).toBe('team.reason.adminsOnly');
		expect(reasonKey(refused('only admins set the file policy'))).toBe('team.reason.adminsOnly');
		expect(reasonKey(refused('cannot change a higher role'))).toBe('team.reason.higherRole');
		expect(reasonKey(refused('cannot invite to a higher role'))).toBe('team.reason.higherRole');
		expect(reasonKey(refused('may not remove others from this space'))).toBe('team.reason.spaceManagers');
		expect(reasonKey(refused('no such invitation'))).toBe('team.reason.gone');
		expect(reasonKey(refused('the member has 32 devices, the most one may'))).toBe('team.reason.tooManyDevices');
		expect(reasonKey(refused('dropped: written by a removed member'))).toBe('team.reason.notMember');
		expect(reasonKey(new Error('this device is not a member'))).toBe('team.reason.notMember');
		expect(reasonKey(Object.assign(new Error('this replica has no device key'), { name: 'ReadOnlyTeamError' }))).toBe('team.reason.noDeviceKey');
	});

	it('falls back to a translated sentence for what it does not know', () => {
		expect(reasonKey(refused('a reason added next year'))).toBe('team.reason.refused');
		expect(reasonKey(new Error('socket hang up'))).toBe('team.reason.failed');
		expect(reasonKey('a string')).toBe('team.reason.failed');
	});

	it('has every key it can return in both languages', () => {
		const keys = [
			...['lastOwnerStepDown', 'lastOwnerRemoved', 'adminsOnly', 'higherRole', 'notYourInvitation', 'membersOnly', 'spaceManagers'],
			...['notInSpace', 'notInTeam', 'tooManyMembers', 'gone', 'notMember', 'noDeviceKey', 'refused', 'failed']
		].map((k) => `team.reason.${k}`);
		for (const key of keys) {
			expect(en).toHaveProperty([key]);
			expect(zhCN).toHaveProperty([key]);
		}
	});

	it('shows the reason in the chosen language', async () => {
		setupI18n('en');
		await setLanguage('zh-CN');
		const text = get(_)('team.error', { values: { error: errorText(refused('the last owner cannot step down')) } });
		expect(text).toBe(`团队拒绝了此操作：${zhCN['team.reason.lastOwnerStepDown']}`);
		expect(text).not.toMatch(/[a-z]{3}/);
		await setLanguage('en');
	});
});

describe('errorMessage', () => {
	it('gives the app’s named errors their own message', () => {
		expect(errorKey(new MessageTooLongError(40_001))).toEqual({ key: 'message.tooLong', values: { length: 40_001, max: 40_000 } });
		expect(errorKey(new EmptyNameError('channel name is empty')).key).toBe('errors.emptyName');
		expect(errorKey(new NotAllowedError('only admins change channel settings')).key).toBe('errors.notAllowed');
		expect(errorKey(new NotAllowedError('guests do not create channels')).key).toBe('errors.guestsNot');
		expect(errorKey(new NotAllowedError('no such channel')).key).toBe('errors.channelGone');
		expect(errorKey(refused('only admins invite')).key).toBe('team.error');
	});

	it('never shows an unknown error’s English message', () => {
		setupI18n('en');
		const warn = console.warn;
		console.warn = () => {};
		try {
			expect(errorMessage(new Error('IDBTransaction aborted'))).toBe(en['errors.failed']);
			expect(errorMessage(new Error('IDBTransaction aborted'), 'errors.sendFailed')).toBe(en['errors.sendFailed']);
		} finally {
			console.warn = warn;
		}
	});
});
