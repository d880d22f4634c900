/** Accessibility checks with axe, shared by the accessibility and theme specs. */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect } from './suite';

/** Runs axe on the page as it is and fails (softly, so every screen is reported) on serious or critical violations. */
export async function audit(page: Page, screen: string): Promise<void> {
	const { violations } = await new AxeBuilder({ page }).analyze();
	const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	const report = bad.map(
		(v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    at ${n.target.join(' ')}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`).join('\n')}`
	);
	expect.soft(report, `axe on "${screen}"`).toEqual([]);
}
