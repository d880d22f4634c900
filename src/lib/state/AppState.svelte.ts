/**
 * Top-level runes state: the device identity and display name, the list of workspaces on
 * this device, the open workspace, and the UI language.
 */
import { newId } from '../doc/ids.js';
import { RosterDoc } from '../doc/RosterDoc.js';
import { Role } from '../doc/schema.js';
import { WORKSPACE_COLORS, WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import { createServices, type Services } from '../app.js';
import { matchLanguage, setLanguage, setupI18n, type LanguageCode } from '../i18n/index.js';
import type { WorkspaceRow } from '../store/db.js';
import { saveDisplayName } from '../store/identity.js';
import { newSecret } from '../mesh/secret.js';
import { LOCAL_ORIGIN } from './ChannelState.svelte.js';
import { EmptyNameError, WorkspaceState } from './WorkspaceState.svelte.js';

/** Longest workspace name kept. */
export const MAX_WORKSPACE_NAME = 80;

/** Loading status of the app. */
export const AppStatus = { loading: 'loading', ready: 'ready', failed: 'failed' } as const;
export type AppStatus = (typeof AppStatus)[keyof typeof AppStatus];

/** Everything the top of the UI needs. */
export class AppState {
	status = $state<AppStatus>(AppStatus.loading);
	error = $state('');
	peerId = $state('');
	displayName = $state('');
	language = $state<LanguageCode>('en');
	workspaces = $state.raw<WorkspaceRow[]>([]);
	current = $state.raw<WorkspaceState | undefined>();
	/** True while a workspace is being opened. */
	switching = $state(false);

	private services: Services | undefined;

	/** Opens local storage, loads the identity and reopens the last workspace. */
	async init(dbName?: string): Promise<void> {
		try {
			const services = await createServices(dbName);
			this.services = services;
			const saved = (await services.db.settings.get('language'))?.value;
			setupI18n(typeof saved === 'string' ? saved : undefined);
			this.language = matchLanguage(typeof saved === 'string' ? saved : navigator.language);
			this.peerId = services.identity.peerId;
			this.displayName = services.identity.displayName;
			await this.reloadWorkspaces();
			const last = this.workspaces[0];
			this.status = AppStatus.ready;
			if (last) await this.switchTo(last.id);
		} catch (err) {
			setupI18n();
			this.error = err instanceof Error ? err.message : String(err);
			this.status = AppStatus.failed;
		}
	}

	private get svc(): Services {
		if (!this.services) throw new Error('Outpost is not initialised');
		return this.services;
	}

	private async reloadWorkspaces(): Promise<void> {
		const rows = await this.svc.db.workspaces.orderBy('lastOpenedAt').reverse().toArray();
		this.workspaces = rows.filter((r) => typeof r.id === 'string' && typeof r.rosterId === 'string');
	}

	/** Creates a workspace with a first channel, "general", and opens it. */
	async createWorkspace(name: string, color: string = WORKSPACE_COLORS[0]): Promise<string> {
		const clean = name.trim().slice(0, MAX_WORKSPACE_NAME);
		if (!clean) throw new EmptyNameError('workspace name is empty');
		const { db, docs, identity } = this.svc;
		const id = newId();
		const rosterId = newId();
		const now = Date.now();
		const root = docs.open(id);
		const roster = docs.open(rosterId);
		await Promise.all([root.ready, roster.ready]);
		root.doc.transact(() => {
			new WorkspaceDoc(root.doc).init({ name: clean, color, createdBy: identity.peerId, createdAt: now, rosterId });
		}, LOCAL_ORIGIN);
		roster.doc.transact(() => {
			new RosterDoc(roster.doc).upsert({ peerId: identity.peerId, name: identity.displayName, role: Role.owner, joinedAt: now });
		}, LOCAL_ORIGIN);
		await db.workspaces.put({ id, name: clean, color, rosterId, secret: newSecret(), createdAt: now, lastOpenedAt: now });
		docs.release(root);
		docs.release(roster);
		await this.reloadWorkspaces();
		await this.switchTo(id);
		await this.current?.createChannel({ name: 'general' });
		return id;
	}

	/** Opens a workspace (closing the current one) and its last channel. */
	async switchTo(id: string): Promise<void> {
		if (this.current?.id === id) return;
		const row = this.workspaces.find((w) => w.id === id);
		if (!row) return;
		this.switching = true;
		try {
			const previous = this.current;
			this.current = undefined;
			await previous?.close();
			const ws = await WorkspaceState.open(this.svc, row);
			this.current = ws;
			await this.svc.db.workspaces.update(id, { lastOpenedAt: Date.now() });
			const channels = ws.channels;
			const target = channels.find((c) => c.id === row.lastChannelId) ?? channels[0];
			if (target) await ws.openChannel(target.id);
			void ws.refreshUnread();
		} finally {
			this.switching = false;
		}
	}

	/** Sets this device's display name (also in the open workspace's roster). */
	async setDisplayName(name: string): Promise<void> {
		const clean = await saveDisplayName(this.svc.db, name);
		this.svc.identity.displayName = clean;
		this.displayName = clean;
		this.current?.ensureMember();
	}

	/** Switches and remembers the UI language. */
	async setLanguage(code: LanguageCode): Promise<void> {
		this.language = code;
		setLanguage(code);
		await this.svc.db.settings.put({ key: 'language', value: code });
	}
}

