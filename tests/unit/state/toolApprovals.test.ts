/** The user's say over tool calls (state/ToolApprovals): one question at a time, per answer, "always" remembered. */
import { describe, expect, it } from 'vitest';
import type { RunnableTool } from '../../../src/lib/ai/tools/toolLoop.js';
import { ToolApprovals } from '../../../src/lib/state/ToolApprovals.svelte.js';

const tool = (name: string): RunnableTool => ({ spec: { name, description: `${name}s.`, parameters: { type: 'object' } }, mutates: true, run: async () => ({ content: '' }) });
const call = (name: string) => ({ id: `c-${name}`, name, arguments: '{}' });

describe('ToolApprovals', () => {
	it('stopping one answer denies only its own waiting call', async () => {
		const approvals = new ToolApprovals();
		const asked = approvals.approverFor('answer-a')(call('post'), tool('post'));
		expect(approvals.pending).toMatchObject({ answer: 'answer-a', call: { name: 'post' }, description: 'posts.' });
		approvals.denyWaiting('answer-b'); // another answer stopped: this call still waits
		expect(approvals.pending?.answer).toBe('answer-a');
		approvals.denyWaiting('answer-a');
		expect(await asked).toBe('deny');
		expect(approvals.pending).toBeUndefined();
	});

	it('remembers "always" for the rest of the conversation, and a new question denies the one before', async () => {
		const approvals = new ToolApprovals();
		const first = approvals.approverFor('a')(call('post'), tool('post'));
		approvals.answer('always');
		expect(await first).toBe('always');
		expect(await approvals.approverFor('b')(call('post'), tool('post'))).toBe('once'); // not asked
		expect(approvals.pending).toBeUndefined();
		const older = approvals.approverFor('b')(call('note'), tool('note'));
		const newer = approvals.approverFor('c')(call('note'), tool('note'));
		expect(await older).toBe('deny');
		expect(approvals.pending?.answer).toBe('c');
		approvals.answer('once');
		expect(await newer).toBe('once');
	});
});

describe('ToolApprovals, an answer to a question since replaced', () => {
	it('is not given to the call that took its place', async () => {
		const approvals = new ToolApprovals();
		const older = approvals.approverFor('a')(call('note'), tool('note'));
		const shown = approvals.pending!; // what the prompt shows the user
		// Another answer's call replaces the question just before the user clicks Approve.
		const newer = approvals.approverFor('b')({ id: 'c-other', name: 'post', arguments: '{"text":"x"}' }, tool('post'));
		expect(await older).toBe('deny');
		approvals.answer('always', shown);
		expect(approvals.pending?.call.id).toBe('c-other'); // still asked
		approvals.answer('deny', approvals.pending);
		expect(await newer).toBe('deny');
		// "always" was not remembered for a tool the user never approved.
		const again = approvals.approverFor('c')(call('post'), tool('post'));
		expect(approvals.pending?.call.name).toBe('post');
		approvals.denyWaiting();
		expect(await again).toBe('deny');
	});
});
