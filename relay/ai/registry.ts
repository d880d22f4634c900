/**
 * The models the relay can answer with, across all its engines (node-llama-cpp per
 * `--model`, one OpenAI-compatible upstream per `--openai-upstream`; later the mesh's remote
 * peers): one listing with where each model runs, and routing of a request to the engine
 * that has its model. The relay's `/v1` API talks only to this.
 *
 * Listings are cached for a short while (an upstream's `GET /models` is a network round
 * trip); a request for a model not in the cache refreshes it first, so a model that an
 * upstream has just pulled is found. An engine whose listing fails is left out of it (and
 * reported), so one unreachable upstream does not hide the others' models.
 */
import { resolve } from 'node:path';
import { EngineError, type Engine, type GenerateChunk, type GenerateRequest, type ModelInfo } from '../../src/lib/ai/engine.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';
import { OpenAIEngine } from './openaiEngine.ts';

/** A model of the registry: what its engine says, and where it runs. */
export interface RegisteredModel extends ModelInfo {
	/** `'relay'` for this relay's own engines; a peer id for a remote peer's. */
	where: string;
	/** The workspace whose member shares it (a mesh peer's model); absent for the relay's own. */
	workspace?: string;
}

/** Options of {@link ModelRegistry}. */
export interface ModelRegistryInit {
	/** How long a listing is reused, in ms; default 10 s. */
	cacheMs?: number;
	/**
	 * How old a listing must be before a request for a model missing from it refreshes it,
	 * in ms; default 1 s (so requests for made-up model ids cannot flood the upstreams).
	 */
	missRefreshMs?: number;
	/** Where a failed listing is reported; default `console.error`. */
	onError?: (error: unknown, engine: Engine) => void;
}

interface Entry {
	engine: Engine;
	where: string;
	workspace: string | undefined;
}

/**
 * Whose models a caller sees: `'all'` (the operator's command-line keys), or one workspace's
 * (a key made in the app): the relay's own models (when the operator shares them with that
 * workspace: `relayModels`, run.ts `serveWorkspaces`) and those its members share, never another
 * workspace's. A member's host asked through the relay sees the relay as its own workspace's
 * member, so a key of another workspace must not reach it (found in review: anyone could make a
 * workspace of their own on the relay and, with a key there, run a model a member of another
 * workspace shares, on that member's device; and a model of the same id shared in one workspace
 * answered requests meant for another's).
 */
export type ModelScope = 'all' | { workspace: string; relayModels: boolean };

/** A model of the listing and the engine that runs it. */
interface Listed {
	model: RegisteredModel;
	engine: Engine;
}

/** The models of `listed` that `scope` sees, the first of each id only (in the order engines were added). */
function inScope(listed: Listed[], scope: ModelScope): Listed[] {
	const seen = new Set<string>();
	return listed.filter(({ model }) => {
		if (scope !== 'all' && (model.workspace === undefined ? !scope.relayModels : model.workspace !== scope.workspace)) return false;
		if (seen.has(model.id)) return false;
		seen.add(model.id);
		return true;
	});
}

/** The relay's engines together; see the module comment. */
export class ModelRegistry {
	private readonly entries: Entry[] = [];
	private cache: { at: number; models: Listed[] } | undefined;
	private refreshing: Promise<Listed[]> | undefined;

	constructor(private readonly init: ModelRegistryInit = {}) {}

	/**
	 * Adds an engine; its models run at `where` (default `'relay'`) and, for a mesh peer's,
	 * belong to `workspace` (see {@link ModelScope}).
	 */
	add(engine: Engine, where = 'relay', workspace?: string): void {
		if (this.entries.some((e) => e.engine === engine)) return;
		this.entries.push({ engine, where, workspace });
		this.invalidate();
	}

	/** Removes an engine (a peer that left); its running generations are not touched. */
	remove(engine: Engine): void {
		const at = this.entries.findIndex((e) => e.engine === engine);
		if (at < 0) return;
		this.entries.splice(at, 1);
		this.invalidate();
	}

	/** The engines, in the order they were added. */
	get engines(): Engine[] {
		return this.entries.map((e) => e.engine);
	}

	/**
	 * Every model of every engine `scope` sees (default: all). When two engines offer the same
	 * id, the one added first serves it and the other's is not listed.
	 */
	async models(scope: ModelScope = 'all'): Promise<RegisteredModel[]> {
		return inScope(await this.listing(false), scope).map((m) => m.model);
	}

	/**
	 * Streams an answer from the engine `scope` sees (default: all) that has `request.model`;
	 * `unknown-model` if none has.
	 */
	async *generate(request: GenerateRequest, signal?: AbortSignal, scope: ModelScope = 'all'): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const cached = this.cache;
		const find = (listed: Listed[]) => inScope(listed, scope).find((m) => m.model.id === request.model);
		let found = find(await this.listing(false));
		// Not in a cached listing: the engine may have gained the model since.
		const missRefreshMs = this.init.missRefreshMs ?? 1000;
		if (!found && cached !== undefined && cached === this.cache && Date.now() - cached.at >= missRefreshMs) found = find(await this.listing(true));
		if (!found) throw new EngineError('unknown-model', `No model "${request.model}" on this relay; GET /v1/models lists them.`);
		yield* found.engine.generate(request, signal);
	}

	private invalidate(): void {
		this.cache = undefined;
		this.refreshing = undefined;
	}

	private async listing(fresh: boolean): Promise<Listed[]> {
		const cacheMs = this.init.cacheMs ?? 10_000;
		if (!fresh && this.cache && Date.now() - this.cache.at < cacheMs) return this.cache.models;
		if (this.refreshing) return this.refreshing;
		const refreshing = this.refresh().finally(() => {
			if (this.refreshing === refreshing) this.refreshing = undefined;
		});
		this.refreshing = refreshing;
		return refreshing;
	}

	private async refresh(): Promise<Listed[]> {
		const entries = [...this.entries];
		const onError = this.init.onError ?? ((error: unknown) => console.error('relay models:', error));
		const lists = await Promise.all(
			entries.map(({ engine }) =>
				engine.models().catch((error: unknown) => {
					onError(error, engine);
					return [];
				})
			)
		);
		const models: Listed[] = [];
		entries.forEach(({ engine, where, workspace }, i) => {
			for (const info of lists[i] ?? []) models.push({ model: { ...info, where, ...(workspace !== undefined ? { workspace } : {}) }, engine });
		});
		// An engine added or removed meanwhile made this listing stale: do not cache it.
		if (entries.length === this.entries.length && entries.every((e, i) => e === this.entries[i]))
			this.cache = { at: Date.now(), models };
		return models;
	}
}

/** Options of {@link createRelayRegistry}: the relay's `--model` and `--openai-upstream` flags. */
export interface RelayModelsInit {
	/** GGUF files to run with node-llama-cpp. */
	modelFiles?: string[];
	/** Base URLs of OpenAI-compatible servers. */
	openaiUpstreams?: string[];
	/** CPU threads per local model; node-llama-cpp's default (all cores) when absent. */
	threads?: number;
	/** Whether local models may use a GPU; default `'auto'`. */
	gpu?: 'auto' | false;
	/** Progress, one line each. */
	log: (line: string) => void;
}

/**
 * The relay's registry with one engine per flag, and how to release them. Local models
 * start loading at once, in the background: the relay's listeners do not wait for a large
 * model, a missing or broken file is reported in the start-up log instead of at someone's
 * first question, and that question does not pay the load time. (node-llama-cpp itself is
 * still imported only when there is a `--model`.)
 */
export function createRelayRegistry(init: RelayModelsInit): { registry: ModelRegistry; close(): Promise<void> } {
	const registry = new ModelRegistry({
		onError: (error, engine) =>
			init.log(`Could not list the models of ${engine instanceof OpenAIEngine ? engine.baseUrl : engine.kind}: ${message(error)}`)
	});
	const local = (init.modelFiles ?? []).map((file) => new NodeLlamaEngine({
			modelPath: resolve(file),
			gpu: init.gpu ?? 'auto',
			...(init.threads !== undefined ? { threads: init.threads } : {})
		}));
	for (const engine of local) {
		registry.add(engine);
		engine.models().then(
			([info]) => init.log(`Model ${engine.modelId} loaded (context ${info?.contextLength ?? '?'} tokens)`),
			(error: unknown) => init.log(`Could not load model ${engine.modelId}: ${message(error)}`)
		);
	}
	for (const baseUrl of init.openaiUpstreams ?? []) registry.add(new OpenAIEngine({ baseUrl }));
	return {
		registry,
		close: async () => {
			await Promise.all(local.map((engine) => engine.dispose()));
		}
	};
}

function message(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
