/**
 * Found in review: a tool call's arguments are a model's to write (or a peer's serving one), and
 * a person approves the call from how ToolApproval shows them (prettyJson). An RLO in an
 * argument showed its value reversed; a U+2028 showed a line that is not one.
 */
import { describe, expect, it } from 'vitest';
import { prettyJson } from '../../../src/lib/ui/ai/prettyJson';

describe('prettyJson shows what a tool call really holds', () => {
	it('writes bidi controls and invisible characters in JSON as visible escapes', () => {
		const shown = prettyJson(JSON.stringify({ path: 'notes/\u202Etxt.exe', to: 'ana\u200B' }));
		expect(shown).not.toMatch(/[\u202A-\u202E\u200B]/);
		expect(shown).toContain('notes/\\u202Etxt.exe');
		expect(shown).toContain('ana\\u200B');
	});

	it('does so in text that is not JSON, and for line separators', () => {
		expect(prettyJson('delete\u2028all')).toBe('delete\\u2028all');
		expect(prettyJson('a\u2067b\u0007')).toBe('a\\u2067b\\u0007');
	});

	it('keeps line breaks, tabs, CJK and joiners as they are (passes before the fix too)', () => {
		expect(prettyJson('line one\n\tline two 计划 👩\u200D💻')).toBe('line one\n\tline two 计划 👩\u200D💻');
		expect(prettyJson('{"a":"计划"}')).toBe('{\n  "a": "计划"\n}');
	});

	it('shows deeply nested JSON as text rather than throwing (passes before the fix too)', () => {
		const deep = '['.repeat(100_000) + ']'.repeat(100_000);
		expect(prettyJson(deep).length).toBeGreaterThan(0);
	});
});
