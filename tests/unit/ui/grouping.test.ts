/** Message grouping: the same author within five minutes continues a group. */
import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../../src/lib/doc/hlc';
import { continuesGroup, GROUP_GAP_MS } from '../../../src/lib/ui/grouping';

const at = (wall: number, author = 'peer-a', model?: string) => ({ author, hlc: formatHlc({ wall, counter: 0, node: author }), model });
const t0 = Date.UTC(2025, 0, 1, 9);

describe('continuesGroup', () => {
	it('groups the same author within five minutes', () => {
		expect(continuesGroup(at(t0), at(t0 + 1000))).toBe(true);
		expect(continuesGroup(at(t0), at(t0 + GROUP_GAP_MS))).toBe(true);
	});

	it('starts a group for the first message, another author, or a longer gap', () => {
		expect(continuesGroup(undefined, at(t0))).toBe(false);
		expect(continuesGroup(at(t0), at(t0 + 1000, 'peer-b'))).toBe(false);
		expect(continuesGroup(at(t0), at(t0 + GROUP_GAP_MS + 1))).toBe(false);
	});

	it('starts a group when the clock runs backwards (a message that arrived late)', () => {
		expect(continuesGroup(at(t0), at(t0 - 1000))).toBe(false);
	});

	it('keeps a model’s answers apart from their serving peer’s own messages', () => {
		expect(continuesGroup(at(t0), at(t0 + 1000, 'peer-a', 'tiny'))).toBe(false);
		expect(continuesGroup(at(t0, 'peer-a', 'tiny'), at(t0 + 1000, 'peer-a', 'tiny'))).toBe(true);
		expect(continuesGroup(at(t0, 'peer-a', 'tiny'), at(t0 + 1000, 'peer-a', 'other'))).toBe(false);
	});
});
