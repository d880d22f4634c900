/**
 * The relay's local model runtime: an {@link Engine} over node-llama-cpp for one GGUF file
 * (`npm start -- --model path/to/model.gguf`). node-llama-cpp is imported only when the
 * engine first loads its model, so a relay without `--model` never loads it.
 *
 * One context with one sequence: generations run one at a time, the rest wait in a bounded
 * queue. Generation pulls tokens from the runtime only as the caller reads chunks, so
 * aborting (or stopping reading) stops the runtime after the token being computed.
 */
import { basename } from 'node:path';
import type {
	ChatHistoryItem,
	ChatWrapper,
	Llama,
	LlamaGrammar,
	LlamaContext,
	LlamaContextSequence,
	LlamaModel,
	Token
} from 'node-llama-cpp';
import {
	EngineError,
	type ChatMessage,
	type Engine,
	type FinishReason,
	type GenerateChunk,
	type GenerateRequest,
	type ModelInfo
} from '../../src/lib/ai/engine.ts';
import { StopMatcher } from '../../src/lib/ai/stopStrings.ts';
import { newToolCallId, toolChunks, toolPlan, type ToolPlan } from '../../src/lib/ai/tools/toolPrompt.ts';

/** Options of {@link NodeLlamaEngine}. */
export interface NodeLlamaEngineInit {
	/** The GGUF file; its name without `.gguf` is the model id. */
	modelPath: string;
	/** Context window in tokens; at most the model's training context. Default 4096. */
	contextSize?: number;
	/** CPU threads for evaluation; node-llama-cpp's default (all cores) when absent. */
	threads?: number;
	/** `'auto'` uses a GPU when one is present (CUDA/Vulkan prebuilt binaries), else the CPU. */
	gpu?: 'auto' | false;
	/** Generations that may wait behind the running one before `busy`. Default 8. */
	maxQueue?: number;
	/** `maxTokens` when a request has none. Default 512. */
	defaultMaxTokens?: number;
	/** `temperature` when a request has none. Default 0.8. */
	defaultTemperature?: number;
}

interface Loaded {
	lib: typeof import('node-llama-cpp');
	llama: Llama;
	model: LlamaModel;
	context: LlamaContext;
	sequence: LlamaContextSequence;
	chatWrapper: ChatWrapper;
	name: string;
}

interface Waiter {
	wake: () => void;
	fail: (error: unknown) => void;
}

/** One Llama (the native binding) per process and GPU setting, shared by all engines. */
const llamas = new Map<string, Promise<Llama>>();

/** The process's Llama for a GPU setting (the embedder, nodeLlamaEmbedder.ts, shares it). */
export function sharedLlama(gpu: 'auto' | false): Promise<Llama> {
	const key = String(gpu);
	let llama = llamas.get(key);
	if (!llama) {
		llama = import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
			// build: 'never' — use the prebuilt binaries that came from npm; never download
			// llama.cpp's sources or compile (the relay must start with no internet).
			getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.error })
		);
		llama.catch(() => llamas.delete(key));
		llamas.set(key, llama);
	}
	return llama;
}

/** An {@link Engine} over node-llama-cpp for one GGUF file; see the module comment. */
export class NodeLlamaEngine implements Engine {
	readonly kind = 'node-llama-cpp' as const;
	/** The model id: the file name without `.gguf`. */
	readonly modelId: string;
	private loading: Promise<Loaded> | undefined;
	private active = false;
	private readonly waiters: Waiter[] = [];
	private disposed = false;
	/** Compiled tool-call grammars by their text (the same tools give the same grammar). */
	private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

	constructor(private readonly init: NodeLlamaEngineInit) {
		this.modelId = basename(init.modelPath).replace(/\.gguf$/i, '');
	}

	/** Generations running or waiting (for capability adverts). */
	get queueDepth(): number {
		return this.waiters.length + (this.active ? 1 : 0);
	}

	async models(): Promise<ModelInfo[]> {
		const { context, name } = await this.load();
		return [{ id: this.modelId, name, engine: this.kind, contextLength: context.contextSize }];
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		if (request.model !== this.modelId)
			throw new EngineError('unknown-model', `No model "${request.model}" here; this relay runs "${this.modelId}".`);
		if (request.messages.length === 0 || request.messages.every((m) => m.content.trim() === ''))
			throw new EngineError('empty-input', 'The prompt is empty: write a message first.');
		let plan: ToolPlan;
		try {
			plan = toolPlan(request);
		} catch (error) {
			throw new EngineError('failed', error instanceof Error ? error.message : String(error));
		}
		await this.acquire(signal);
		try {
			yield* toolChunks(this.run(request, plan, await this.load(), signal), plan.tools, newToolCallId);
		} catch (error) {
			if (signal?.aborted && error === signal.reason) throw error;
			if (error instanceof EngineError) throw error;
			throw new EngineError('failed', `The model failed: ${String(error)}`, { cause: error });
		} finally {
			this.release();
		}
	}

	/** Releases the model and its context; queued generations fail. */
	async dispose(): Promise<void> {
		this.disposed = true;
		for (const waiter of this.waiters.splice(0))
			waiter.fail(new EngineError('failed', 'The engine was shut down.'));
		const loading = this.loading;
		this.loading = undefined;
		const loaded = await loading?.catch(() => undefined);
		await loaded?.context.dispose();
		await loaded?.model.dispose();
	}

	private async *run(request: GenerateRequest, plan: ToolPlan, loaded: Loaded, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const { model, context, sequence } = loaded;
		const { prompt, stops } = this.prompt(loaded, plan.messages);
		if (prompt.length >= context.contextSize)
			throw new EngineError(
				'input-too-long',
				`The conversation is ${prompt.length} tokens, more than this model's context of ${context.contextSize}: shorten it or start a new chat.`
			);
		const budget = Math.min(
			Math.max(0, Math.floor(request.maxTokens ?? this.init.defaultMaxTokens ?? 512)),
			context.contextSize - prompt.length
		);
		const done = (finishReason: FinishReason, completionTokens: number): GenerateChunk => ({
			type: 'done',
			finishReason,
			promptTokens: prompt.length,
			completionTokens
		});
		if (budget === 0) {
			yield done('length', 0);
			return;
		}

		await sequence.clearHistory();
		const temperature = request.temperature ?? this.init.defaultTemperature ?? 0.8;
		// A required call is sampled under its grammar (the end of the call ends the generation).
		const grammar = plan.grammar !== undefined ? await this.grammar(loaded, plan.grammar) : undefined;
		const grammarEvaluationState = grammar ? new loaded.lib.LlamaGrammarEvaluationState({ model, grammar }) : undefined;
		const matcher = new StopMatcher(grammar ? [] : [...(request.stop ?? []), ...stops]);
		const text = new TokenText(model);
		let completionTokens = 0;
		let finishReason: FinishReason = 'stop'; // end of generation unless a limit ends it
		const options = { temperature, seed: request.seed, ...(grammarEvaluationState ? { grammarEvaluationState } : {}) };
		for await (const token of sequence.evaluate(prompt, options)) {
			completionTokens++;
			signal?.throwIfAborted();
			const step = matcher.push(text.push(token));
			if (step.text) yield { type: 'text', text: step.text };
			if (step.stopped) {
				yield done('stop', completionTokens);
				return;
			}
			if (completionTokens >= budget) {
				finishReason = 'length';
				break;
			}
		}
		const rest = matcher.push(text.flush());
		const tail = rest.stopped ? rest.text : rest.text + matcher.flush();
		if (tail) yield { type: 'text', text: tail };
		yield done(rest.stopped ? 'stop' : finishReason, completionTokens);
	}

	/** The compiled grammar of `text` (at most 32 kept). */
	private grammar({ llama }: Loaded, text: string): Promise<LlamaGrammar> {
		let grammar = this.grammars.get(text);
		if (!grammar) {
			if (this.grammars.size >= 32) this.grammars.delete(this.grammars.keys().next().value!);
			grammar = llama.createGrammar({ grammar: text });
			grammar.catch(() => this.grammars.delete(text));
			this.grammars.set(text, grammar);
		}
		return grammar;
	}

	/** The chat as the model sees it (its chat template applied), and the template's stop texts. */
	private prompt({ model, chatWrapper }: Loaded, messages: ChatMessage[]): { prompt: Token[]; stops: string[] } {
		// toolPlan left only system, user and assistant messages.
		const history: ChatHistoryItem[] = messages.map((m) =>
			m.role === 'system'
				? { type: 'system', text: m.content }
				: m.role === 'user'
					? { type: 'user', text: m.content }
					: { type: 'model', response: [m.content] }
		);
		// A trailing assistant message is continued; otherwise a new answer starts.
		if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
		const state = chatWrapper.generateContextState({ chatHistory: history });
		const stops = state.stopGenerationTriggers
			// Special-token triggers (end of turn) end generation as end-of-generation tokens.
			.filter((t) => t.values.every((v) => typeof v === 'string'))
			.map((t) => t.values.join(''));
		return { prompt: state.contextText.tokenize(model.tokenizer), stops };
	}

	private load(): Promise<Loaded> {
		if (this.disposed) return Promise.reject(new EngineError('failed', 'The engine was shut down.'));
		this.loading ??= this.open().catch((error: unknown) => {
			this.loading = undefined;
			throw new EngineError('failed', `Could not load ${this.init.modelPath}: ${String(error)}`, {
				cause: error
			});
		});
		return this.loading;
	}

	private async open(): Promise<Loaded> {
		const lib = await import('node-llama-cpp');
		const llama = await sharedLlama(this.init.gpu ?? 'auto');
		const model = await llama.loadModel({ modelPath: this.init.modelPath });
		const contextSize = Math.min(this.init.contextSize ?? 4096, model.trainContextSize);
		const context = await model.createContext({ contextSize, sequences: 1, threads: this.init.threads });
		const chatWrapper = lib.resolveChatWrapper(model) ?? new lib.GeneralChatWrapper();
		const name = model.fileInfo.metadata.general.name ?? this.modelId;
		return { lib, llama, model, context, sequence: context.getSequence(), chatWrapper, name };
	}

	/** Waits for the context; `busy` when the queue is full. */
	private async acquire(signal?: AbortSignal): Promise<void> {
		if (!this.active) {
			this.active = true;
			return;
		}
		const limit = this.init.maxQueue ?? 8;
		if (this.waiters.length >= limit)
			throw new EngineError('busy', `The model is busy: ${this.waiters.length + 1} requests ahead of you. Try again shortly.`);
		await new Promise<void>((resolve, reject) => {
			const onAbort = () => {
				this.waiters.splice(this.waiters.indexOf(waiter), 1);
				reject(signal?.reason);
			};
			const waiter: Waiter = {
				wake: () => {
					signal?.removeEventListener('abort', onAbort);
					resolve();
				},
				fail: (error) => {
					signal?.removeEventListener('abort', onAbort);
					reject(error);
				}
			};
			this.waiters.push(waiter);
			signal?.addEventListener('abort', onAbort, { once: true });
		});
	}

	/** Hands the context to the next waiter (it stays active) or frees it. */
	private release(): void {
		const next = this.waiters.shift();
		if (next) next.wake();
		else this.active = false;
	}
}

/**
 * Generated tokens to text. A token may end inside a multi-byte UTF-8 character (or a
 * random model may produce invalid UTF-8): such text is held back for a few tokens until it
 * decodes, and decoding failures become U+FFFD instead of throwing.
 */
class TokenText {
	private pending: Token[] = [];
	private previous: Token[] = [];

	constructor(private readonly model: LlamaModel) {}

	push(token: Token): string {
		this.pending.push(token);
		const text = this.decode();
		if (text.endsWith('\uFFFD') && this.pending.length < 4) return '';
		this.previous = [...this.previous, ...this.pending].slice(-8);
		this.pending = [];
		return text;
	}

	flush(): string {
		const text = this.pending.length ? this.decode() : '';
		this.pending = [];
		return text;
	}

	private decode(): string {
		try {
			return this.model.detokenize(this.pending, false, this.previous);
		} catch {
			return '\uFFFD';
		}
	}
}
