/**
 * The models this device can use in AI chats, each with the engine that runs it and where it
 * runs: engines loaded in this browser, and (through the mesh engine) models other peers
 * advertise. The model picker lists {@link ModelsState.choices}.
 */
import type { Engine, ModelInfo } from '../ai/engine.js';
import type { ModelChoice } from './AiChatState.svelte.js';

/** A model on offer, for the picker. */
export interface ModelOffer extends ModelChoice {
	info: ModelInfo;
	/** Whether it runs in this browser. */
	local: boolean;
}

/** See the module comment. */
export class ModelsState {
	choices = $state.raw<ModelOffer[]>([]);

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
