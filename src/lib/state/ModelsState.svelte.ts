/**
 * The models this device can use in AI chats, each with the engine that runs it and where it
 * runs: engines loaded in this browser, and (through the mesh engine) models other peers
 * advertise. The model picker lists {@link ModelsState.choices}.
 *
 * A model file the relay serves is loaded with the engine {@link chooseEngine} picks for it
 * and this browser's WebGPU support: WebLLM for an MLC model, wllama for a GGUF file. Both
 * are imported only when a model is loaded.
 *
 * It also holds the user's choice to share the model loaded here with the workspace:
 * {@link ModelsState.sharedEngine} is what the mesh's model host serves (MeshState), and it
 * lists the loaded model only while sharing is on.
 */
import { EngineError, type Engine, type GenerateChunk, type GenerateRequest, type ModelInfo } from '../ai/engine.js';
import { chooseEngine, detectWebGpu, type EngineChoice } from '../ai/engineChoice.js';
import type { ModelFile } from '../ai/modelFiles.js';
import type { WebllmEngine } from '../ai/webllmEngine.js';
import type { WllamaEngine } from '../ai/wllamaEngine.js';
import type { ModelChoice } from './AiChatState.svelte.js';
import { Listeners } from '../events.js';

/** A model on offer, for the picker. */
export interface ModelOffer extends ModelChoice {
	info: ModelInfo;
	/** Whether it runs in this browser. */
	local: boolean;
}

/** A model download into this browser in progress. */
export interface LoadingModel {
	file: ModelFile;
	loaded: number;
	total: number;
}

/** See the module comment. */
export class ModelsState {
	choices = $state.raw<ModelOffer[]>([]);
	/** The model being loaded into this browser, with its progress. */
	loading = $state.raw<LoadingModel | undefined>();
	/** The model loaded into this browser, if any. */
	local = $state.raw<ModelInfo | undefined>();
	/** Whether the model loaded here is served to the workspace ("Share this model with the workspace"). */
	shared = $state(false);
	/** Whether this browser has a WebGPU adapter; undefined until {@link detectGpu} answered. */
	webgpu = $state<boolean | undefined>();

	/**
	 * The engine the mesh serves from this browser: the loaded model while {@link shared} is
	 * on, nothing otherwise (generation is refused then, even for a request already routed here).
	 */
	readonly sharedEngine: Engine = {
		kind: 'wllama',
		models: async () => (this.shared && this.active && this.local ? this.active.models() : []),
		generate: (request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateChunk> => {
			const engine = this.shared && this.local ? this.active : undefined;
			if (engine === undefined) return refuse(request.model);
			return engine.generate(request, signal);
		}
	};

	private wllama: WllamaEngine | undefined;
	private webllm: WebllmEngine | undefined;
	/** The engine the loaded model runs in. */
	private active: WllamaEngine | WebllmEngine | undefined;
	private gpuCheck: Promise<boolean> | undefined;
	private abort: AbortController | undefined;
	private remoteKeys = new Set<string>();
	private readonly listeners = new Listeners<{ change: () => void }>('ModelsState');

	/** Asks the browser once whether it has a WebGPU adapter ({@link webgpu}). */
	detectGpu(): Promise<boolean> {
		this.gpuCheck ??= detectWebGpu().then((found) => (this.webgpu = found));
		return this.gpuCheck;
	}

	/** The engine that would run `file` here; undefined until WebGPU detection answered. */
	engineFor(file: Pick<ModelFile, 'format'>): EngineChoice | undefined {
		return this.webgpu === undefined ? undefined : chooseEngine(file, { webgpu: this.webgpu });
	}

	/**
	 * Loads a model served by the relay into this browser, in the engine {@link engineFor}
	 * picks (imported on demand), and offers it in the picker; replaces a model loaded before.
	 * Rejects with {@link EngineError} when this browser cannot run it or loading fails.
	 */
	async loadLocal(file: ModelFile, peerId: string): Promise<void> {
		const choice = chooseEngine(file, { webgpu: await this.detectGpu() });
		if (choice.engine === undefined)
			throw new EngineError('failed', `"${file.name}" is an MLC model for WebLLM, which needs WebGPU; this browser has none.`);
		this.abort?.abort();
		const abort = new AbortController();
		this.abort = abort;
		this.loading = { file, loaded: 0, total: file.size };
		const progress = (loaded: number, total: number) => {
			if (this.abort === abort) this.loading = { file, loaded, total };
		};
		try {
			const previous = this.active;
			if (previous) this.removeEngine(previous);
			this.local = undefined;
			this.active = undefined;
			this.emit();
			let engine: WllamaEngine | WebllmEngine;
			let info: ModelInfo;
			if (choice.engine === 'webllm') {
				if (previous && previous !== this.webllm) await previous.unload();
				const { WebllmEngine } = await import('../ai/webllmEngine.js');
				const webllm = (this.webllm ??= new WebllmEngine());
				engine = webllm;
				info = await webllm.load(file, {
					signal: abort.signal,
					onProgress: (p) => progress(Math.round(p.progress * (file.size || 1)), file.size || 1)
				});
			} else {
				if (previous && previous !== this.wllama) await previous.unload();
				const { WllamaEngine } = await import('../ai/wllamaEngine.js');
				const wllama = (this.wllama ??= new WllamaEngine({ gpu: choice.gpu ? 'auto' : false }));
				engine = wllama;
				info = await wllama.load(file.url, {
					id: file.id,
					signal: abort.signal,
					onProgress: ({ loaded, total }) => progress(loaded, total)
				});
			}
			this.active = engine;
			await this.addEngine(engine, peerId, true);
			this.local = info;
			this.emit();
		} finally {
			if (this.abort === abort) {
				this.loading = undefined;
				this.abort = undefined;
			}
		}
	}

	/** Cancels a model download. */
	cancelLoad(): void {
		this.abort?.abort();
	}

	/** Turns serving the loaded model to the workspace on or off. */
	setShared(on: boolean): void {
		if (this.shared === on) return;
		this.shared = on;
		this.emit();
	}

	/**
	 * Adds a handler called when what {@link sharedEngine} serves may have changed (a model
	 * loaded, sharing turned on or off); returns its remover.
	 */
	onSharedChange(handler: () => void): () => void {
		return this.listeners.on('change', handler);
	}

	/**
	 * The choices a member may use: the models running in this browser (its own), and other
	 * peers' models that `mayUse` allows (the team's model-access rule for the member's role,
	 * which their hosts enforce too).
	 */
	usableChoices(mayUse: (model: string) => boolean): ModelOffer[] {
		return this.choices.filter((c) => c.local || mayUse(c.model));
	}

	/** Offers every model of `engine`, run by the peer `servedBy`. */
	async addEngine(engine: Engine, servedBy: string, local: boolean): Promise<void> {
		const infos = await engine.models();
		const fresh = infos.map((info) => ({ key: `${servedBy}/${info.id}`, model: info.id, engine, servedBy, info, local }));
		const keys = new Set(fresh.map((c) => c.key));
		this.choices = [...this.choices.filter((c) => !keys.has(c.key)), ...fresh];
	}

	/** Withdraws the models of `engine`. */
	removeEngine(engine: Engine): void {
		this.choices = this.choices.filter((c) => c.engine !== engine);
	}

	/**
	 * Replaces the models other peers serve (from their adverts) with `offers`; models of this
	 * browser's own engines stay.
	 */
	setRemote(offers: ModelOffer[]): void {
		const keys = new Set(offers.map((o) => o.key));
		const kept = this.choices.filter((c) => !this.remoteKeys.has(c.key) && !keys.has(c.key));
		this.remoteKeys = keys;
		this.choices = [...kept, ...offers];
	}

	private emit(): void {
		this.listeners.emit('change');
	}
}

/** A generation refused because nothing is shared (any more). */
async function* refuse(model: string): AsyncGenerator<GenerateChunk> {
	throw new EngineError('unknown-model', `"${model}" is not shared from this browser.`);
}
