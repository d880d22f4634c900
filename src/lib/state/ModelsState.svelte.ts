/**
 * The models this device can use in AI chats, each with the engine that runs it and where it
 * runs: engines loaded in this browser, and (through the mesh engine) models other peers
 * advertise. The model picker lists {@link ModelsState.choices}.
 *
 * It also holds the user's choice to share the model loaded here with the workspace:
 * {@link ModelsState.sharedEngine} is what the mesh's model host serves (MeshState), and it
 * lists the loaded model only while sharing is on.
 */
import { EngineError, type Engine, type GenerateChunk, type GenerateRequest, type ModelInfo } from '../ai/engine.js';
import type { ModelFile } from '../ai/modelFiles.js';
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

	/**
	 * The engine the mesh serves from this browser: the loaded model while {@link shared} is
	 * on, nothing otherwise (generation is refused then, even for a request already routed here).
	 */
	readonly sharedEngine: Engine = {
		kind: 'wllama',
		models: async () => (this.shared && this.wllama && this.local ? this.wllama.models() : []),
		generate: (request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateChunk> => {
			const engine = this.shared && this.local ? this.wllama : undefined;
			if (engine === undefined) return refuse(request.model);
			return engine.generate(request, signal);
		}
	};

	private wllama: WllamaEngine | undefined;
	private abort: AbortController | undefined;
	private remoteKeys = new Set<string>();
	private readonly listeners = new Listeners<{ change: () => void }>('ModelsState');

	/**
	 * Loads a model file served by the relay into this browser (wllama, loaded on demand)
	 * and offers it in the picker; replaces a model loaded before.
	 */
	async loadLocal(file: ModelFile, peerId: string): Promise<void> {
		this.abort?.abort();
		const abort = new AbortController();
		this.abort = abort;
		this.loading = { file, loaded: 0, total: file.size };
		try {
			const { WllamaEngine } = await import('../ai/wllamaEngine.js');
			this.wllama ??= new WllamaEngine();
			const engine = this.wllama;
			this.removeEngine(engine);
			this.local = undefined;
			this.emit();
			const info = await engine.load(file.url, {
				id: file.id,
				signal: abort.signal,
				onProgress: ({ loaded, total }) => {
					if (this.abort === abort) this.loading = { file, loaded, total };
				}
			});
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
