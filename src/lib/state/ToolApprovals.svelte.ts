/**
 * The user's say over tool calls that change something, for one conversation (an AI chat, or
 * `@model` answers in one channel): a call waits as {@link ToolApprovals.pending} until the
 * user approves it (once, or "always" for the rest of the conversation) or denies it. One
 * question at a time: a new one denies the one before. Each answer asks through its own
 * approver ({@link ToolApprovals.approverFor}), so stopping one answer
 * ({@link ToolApprovals.denyWaiting} with its id) ends only its own wait.
 */
import type { Approval, RunnableTool } from '../ai/tools/toolLoop.js';
import type { ToolCall } from '../ai/tools/types.js';

/**
 * Tools for the next answers: none, the model's choice (`auto`), or one tool by name that the
 * model must call first (then it chooses).
 */
export type ToolMode = 'off' | 'auto' | { tool: string };

/** A tool call waiting for the user's approval. */
export interface PendingApproval {
	/** The answer whose model made the call. */
	answer: string;
	call: ToolCall;
	/** The tool's description, for the prompt. */
	description: string;
}

/** What the tool picker (ui/ai/ToolModePicker.svelte) works on: an AI chat, or a channel. */
export interface ToolModeHolder {
	toolMode: ToolMode;
	/** The tools on offer now. */
	tools(): Promise<RunnableTool[]>;
}

/** See the module comment. */
export class ToolApprovals {
	/** A call the model made that waits for the user's Approve or Deny. */
	pending = $state<PendingApproval | undefined>(undefined);
	/** Tools the user approved for the rest of this conversation. */
	private readonly alwaysAllowed = new Set<string>();
	private settle: ((answer: Approval) => void) | undefined;

	/** The tool loop's approver for answer `answer`: asks the user about each call; a tool approved "always" is not asked about again. */
	approverFor(answer: string): (call: ToolCall, tool: RunnableTool) => Promise<Approval> {
		return (call, tool) => {
			if (this.alwaysAllowed.has(call.name)) return Promise.resolve('once');
			this.settle?.('deny');
			return new Promise<Approval>((resolve) => {
				this.settle = resolve;
				this.pending = { answer, call, description: tool.spec.description };
			});
		};
	}

	/**
	 * The user's answer to {@link pending}: deny, approve once, or approve the tool for the rest
	 * of the conversation. `shown` is the question the user answered (the prompt's): when another
	 * call has taken its place in the meantime (a new question denies the one before), the answer
	 * is dropped rather than given to a call the user never saw (found in review).
	 */
	answer(answer: Approval, shown?: PendingApproval): void {
		const pending = this.pending;
		if (pending === undefined) return;
		if (shown !== undefined && (shown.answer !== pending.answer || shown.call.id !== pending.call.id || shown.call.name !== pending.call.name)) return;
		if (answer === 'always') this.alwaysAllowed.add(pending.call.name);
		this.pending = undefined;
		const settle = this.settle;
		this.settle = undefined;
		settle?.(answer);
	}

	/** Denies the call waiting now, if any (the view closed), or only one of answer `answer`'s (that answer stopped or ended). */
	denyWaiting(answer?: string): void {
		if (answer !== undefined && this.pending?.answer !== answer) return;
		const settle = this.settle;
		this.pending = undefined;
		this.settle = undefined;
		settle?.('deny');
	}
}
