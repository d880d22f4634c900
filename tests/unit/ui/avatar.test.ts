/** Avatars: initials of a name, and a colour per peer id that white text reads well on. */
import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColour, initials, workspaceInitials } from '../../../src/lib/ui/avatar';

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
	const [r, g, b] = [1, 3, 5].map((i) => {
		const c = parseInt(hex.slice(i, i + 2), 16) / 255;
		return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
	});
	return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe('initials', () => {
	it('takes the first letters of up to two words, upper-cased', () => {
		expect(initials('Ada Lovelace')).toBe('AL');
		expect(initials('grace brewster murray hopper')).toBe('GB');
		expect(initials('  bea ')).toBe('B');
		expect(initials('Émile Zola')).toBe('ÉZ');
	});

	it('takes the first character of a CJK name', () => {
		expect(initials('王小明')).toBe('王');
		expect(initials('さくら')).toBe('さ');
		expect(initials('김 민준')).toBe('김');
	});

	it('keeps a character outside the basic plane whole, and falls back to "?"', () => {
		expect(initials('𝒜da')).toBe('𝒜');
		expect(initials('')).toBe('?');
		expect(initials('   ')).toBe('?');
	});
});

describe('workspaceInitials', () => {
	it('takes two characters, upper-cased; one for a name in CJK script; "?" for an empty name', () => {
		expect(workspaceInitials('Research Vessel')).toBe('RE');
		expect(workspaceInitials('  lab')).toBe('LA');
		expect(workspaceInitials('科考船')).toBe('科');
		expect(workspaceInitials('研究 Research')).toBe('研');
		expect(workspaceInitials('𝒜b')).toBe('𝒜B');
		expect(workspaceInitials('   ')).toBe('?');
	});
});

describe('avatarColour', () => {
	it('gives a peer id the same colour every time, from the palette', () => {
		const id = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
		expect(avatarColour(id)).toBe(avatarColour(id));
		expect(AVATAR_COLOURS).toContain(avatarColour(id));
	});

	it('spreads peer ids over the palette', () => {
		const seen = new Set(Array.from({ length: 200 }, (_, i) => avatarColour(`12D3KooW${i}peer`)));
		expect(seen.size).toBeGreaterThanOrEqual(8);
	});

	it('carries white text at a contrast of at least 4.5:1 on every colour', () => {
		for (const colour of AVATAR_COLOURS) {
			expect((1 + 0.05) / (luminance(colour) + 0.05), colour).toBeGreaterThanOrEqual(4.5);
		}
	});
});
