/** Names are other members' to choose: invisible characters must not blank out an avatar. */
import { describe, expect, it } from 'vitest';
import { initials, workspaceInitials } from '../../../src/lib/ui/avatar';

describe('avatar initials of names with invisible characters', () => {
	it('skips bidi controls and zero-width spaces (found in review: an empty avatar)', () => {
		expect(initials('\u202EMallory')).toBe('M');
		expect(initials('\u200B\u2066Ada \u200BLovelace')).toBe('AL');
		expect(initials('\u202E\u200B')).toBe('?');
		expect(workspaceInitials('\u202Eresearch')).toBe('RE');
		expect(workspaceInitials('\uFEFF')).toBe('?');
	});

	it('keeps ordinary names as they were (passes before the fix too)', () => {
		expect(initials('Ada Lovelace')).toBe('AL');
		expect(initials('王小明')).toBe('王');
		expect(workspaceInitials('科考船')).toBe('科');
	});
});
