/** File names shown, downloaded and exported leave out bidirectional controls (found in review). */
import { describe, expect, it } from 'vitest';
import { safeStem, shownFileName } from '../../../src/lib/doc/fileNames.js';

describe('file names and bidirectional controls', () => {
	it('shows "invoice\\u202Efdp.exe" as what it is, an .exe, not as "invoiceexe.pdf"', () => {
		expect(shownFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
		expect(shownFileName('a\u2066b\u2069c\u200f.txt')).toBe('abc.txt');
		expect(shownFileName('报告 2026.pdf')).toBe('报告 2026.pdf');
	});

	it('keeps them out of exported file names too', () => {
		expect(safeStem('invoice\u202Efdp', 'x')).toBe('invoice-fdp');
	});
});
