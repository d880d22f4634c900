/**
 * The models this device can use in AI chats, each with the engine that runs it and where it
 * runs: engines loaded in this browser, and (through the mesh engine) models other peers
 * advertise. The model picker lists {@link ModelsState.choices}.
 */
import type { Engine, ModelInfo } from '../ai/engine.js';
import type { ModelFile } from '../ai/modelFiles.js';
import type { WllamaEngine } from '../ai/wllamaEngine.js';
import type { ModelChoice } from './AiChatState.svelte.js';

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

	private wllama: WllamaEngine | undefined;
	private abort: AbortController | undefined;

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
			const info = await engine.load(file.url, {
				id: file.id,
				signal: abort.signal,
				onProgress: ({ loaded, total }) => {
					if (this.abort === abort) this.loading = { file, loaded, total };
				}
			});
			await this.addEngine(engine, peerId, true);
			this.local = info;
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
}
