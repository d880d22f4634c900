/**
 * A model answering in a channel (`@model question`). With a model on another peer, the
 * request names the channel as its target and the host posts the model's message and
 * writes the answer itself (llmHost.ts), so it is finished even if the asker leaves; with a
 * model in this browser, the same writer (answerSink.ts) runs here, signed with this
 * device's key. Either way every member watches the answer stream into the channel.
 *
 * With tools, the tool loop runs here, on the asker's device (the tools act as the asker), so
 * this device writes the answer whatever engine serves the model; each call shows as a step of
 * the channel's live answer (toolAnswer.ts), and calls that change anything wait for the
 * asker's approval.
 */
import type { ChannelDoc } from '../doc/ChannelDoc.js';
import type { MessageRecord, ToolStep } from '../doc/schema.js';
import { AiStatus } from '../doc/schema.js';
import { channelSink, pumpAnswer, type AnswerResult, type AnswerSigner } from './answerSink.js';
import { failureText, type ChatMessage, type Engine } from './engine.js';
import { toolAnswer } from './toolAnswer.js';
import type { Approval, RunnableTool } from './tools/toolLoop.js';
import type { ToolCall, ToolChoice } from './tools/types.js';

/** Tokens a channel answer may take at most. */
export const CHANNEL_ANSWER_TOKENS = 512;

/** What {@link answerInChannel} needs. */
export interface ChannelAnswerRequest {
	channel: ChannelDoc;
	/** The channel document's id (the target named to a remote host). */
	docId: string;
	engine: Engine;
	model: string;
	/** The asking message, already posted. */
	question: MessageRecord;
	/** The question without the `@model` prefix. */
	prompt: string;
	/** Id of the model's message to be posted. */
	answerId: string;
	/** This device: signs the answer when the model runs here. */
	signer: AnswerSigner;
	origin: unknown;
	signal?: AbortSignal;
	/** Tools the model may use (their loop runs here: see the module comment). */
	tools?: readonly RunnableTool[];
	/** Whether the model may, must or must not call a tool at its first step (default `auto`). */
	toolChoice?: ToolChoice;
	/** Asks the asker about a call of a tool that changes something. */
	approve?: (call: ToolCall, tool: RunnableTool) => Promise<Approval>;
}

/** The conversation sent to the model: who it is, and the question. */
export function channelPrompt(model: string, prompt: string): ChatMessage[] {
	return [
		{ role: 'system', content: `You are ${model}, answering a question asked in a team chat channel. Answer briefly in Markdown.` },
		{ role: 'user', content: prompt }
	];
}

/**
 * Runs the answer; resolves with how it ended. A remote host that refuses before posting
 * anything gives `failed` with its reason (nothing was written to the channel then).
 */
export async function answerInChannel(request: ChannelAnswerRequest): Promise<AnswerResult> {
	const { channel, engine, model, question, signal } = request;
	const generate = {
		model,
		messages: channelPrompt(model, request.prompt),
		maxTokens: CHANNEL_ANSWER_TOKENS
	};
	const placement = {
		...(question.parent !== undefined ? { parent: question.parent } : {}),
		after: question.hlc
	};
	const tools = request.tools ?? [];
	if (engine.writesTargets === true && tools.length === 0) {
		const target = { kind: 'channel' as const, docId: request.docId, entryId: request.answerId, ...placement };
		let text = '';
		try {
			for await (const chunk of engine.generate(generate, signal, { target })) if (chunk.type === 'text') text += chunk.text;
			return { status: AiStatus.done, text };
		} catch (error) {
			if (signal?.aborted) return { status: AiStatus.cancelled, text };
			return { status: AiStatus.failed, text, error: failureText(error) };
		}
	}
	const sink = await channelSink(
		channel,
		{ id: request.answerId, model, askedBy: request.signer.peerId, question: question.id, ...placement },
		request.signer,
		request.origin
	);
	const options = signal ? { signal } : {};
	if (tools.length === 0) return pumpAnswer(({ onQueued }) => engine.generate(generate, signal, { onQueued }), sink, options);
	const { toolChoice, approve } = request;
	const steps = { entry: channel.answers.get(request.answerId), doc: channel.doc, origin: request.origin, onSteps: (own: readonly ToolStep[]) => sink.useSteps(own) };
	return pumpAnswer(({ onQueued }) => toolAnswer({ engine, request: generate, tools, toolChoice, approve, signal, ...steps, onQueued }), sink, options);
}
