/**
 * Top-level runes state: the device identity and display name, the list of workspaces on
 * this device, the open workspace, and the UI language.
 */
import { WORKSPACE_COLORS, WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import { createServices, type Services } from '../app.js';
import { languageReady, matchLanguage, setLanguage, setupI18n, type LanguageCode } from '../i18n/index.js';
import type { WorkspaceRow } from '../store/db.js';
import { saveDisplayName } from '../store/identity.js';
import { newSecret } from '../mesh/secret.js';
import { ApiKeysClient } from '../mesh/apiKeysClient.js';
import { InviteFormatError, InviteProblem, parseInvite, type Invite } from '../mesh/invite.js';
import { addTeamOp } from '../doc/team/TeamDoc.js';
import { signTeamOp } from '../doc/team/sign.js';
import { newWorkspaceNonce, teamRosterId, teamWorkspaceId } from '../doc/team/teamId.js';
import { isId } from '../doc/ids.js';
import type * as exchange from '../store/exchange/index.js';
import { LOCAL_ORIGIN } from './ChannelState.svelte.js';
import { MeshState } from './MeshState.svelte.js';
import { ModelsState } from './ModelsState.svelte.js';
import { EmptyNameError, WorkspaceState } from './WorkspaceState.svelte.js';
import { NotifyPermission } from './notify/NotifyPermission.svelte.js';
import type { MessageTarget } from './notify/messageLink.js';
import { openMessage } from './openSearchHit.js';
import { shownWorkspaceName, shownWorkspaces } from './shownNames.js';

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
	current = $state.raw<WorkspaceState | undefined>();
	/** The stored rows of this device's workspaces, newest opened first (each name as shown, not told apart). */
	private rows = $state.raw<WorkspaceRow[]>([]);
	private joiningId = $state<string | undefined>();
	/**
	 * This device's workspaces, newest opened first, as the switcher and "joining" show them:
	 * the open one's name as its root says now, and every one that looks like another with its
	 * id's tail (shownNames.ts `shownWorkspaces`: an inviter or an admin could otherwise make a
	 * look-alike of a workspace the user is in).
	 */
	readonly workspaces = $derived(shownWorkspaces(this.rows, this.current));
	/** True while a workspace is being opened. */
	switching = $state(false);
	/** A joined workspace on screen that waits for its first sync from a peer, as {@link workspaces} shows it. */
	get joining(): WorkspaceRow | undefined {
		const id = this.joiningId;
		return id === undefined ? undefined : this.workspaces.find((w) => w.id === id);
	}
	/** Models this device can use in AI chats. */
	readonly models = new ModelsState();
	/** This device on the mesh (started once the app has opened). */
	mesh = $state.raw<MeshState | undefined>();
	/** Whether system notifications are on, and the first-run offer to turn them on. */
	readonly notifications = new NotifyPermission();

	private services: Services | undefined;
	private readonly joinWatchers = new Map<string, { stop: () => void; check: () => Promise<void> }>();

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
			await this.notifications.load(services.db);
			await this.reloadWorkspaces();
			const mesh = new MeshState(services, this.models);
			this.mesh = mesh;
			// The mesh starts beside opening the workspace: the first sync with the relay should
			// not wait for the first paint (bench/connect.ts).
			void mesh.start();
			const adding = Promise.all(this.rows.map((row) => mesh.addWorkspace(row, this.displayName)));
			const last = this.rows[0];
			// A language other than English arrives as a chunk of its own, fetched meanwhile.
			await languageReady();
			this.status = AppStatus.ready;
			const opening = last ? this.switchTo(last.id) : Promise.resolve();
			await adding;
			// A joined workspace whose root was stored before the tab closed opens now.
			for (const watcher of this.joinWatchers.values()) await watcher.check();
			await opening;
		} catch (err) {
			setupI18n();
			this.error = err instanceof Error ? err.message : String(err);
			this.status = AppStatus.failed;
		}
	}

	/** The API-key endpoints of the relay that served the app, called with this device's signature. */
	get apiKeys(): ApiKeysClient {
		if (!this.apiKeysClient) {
			const { peerId, privateKey } = this.svc.identity;
			this.apiKeysClient = new ApiKeysClient({ peerId, privateKey }, location.origin);
		}
		return this.apiKeysClient;
	}
	private apiKeysClient: ApiKeysClient | undefined;

	private get svc(): Services {
		if (!this.services) throw new Error('Outpost is not initialised');
		return this.services;
	}

	private async reloadWorkspaces(): Promise<void> {
		const rows = await this.svc.db.workspaces.orderBy('lastOpenedAt').reverse().toArray();
		// The switcher and "joining" show these names: an inviter's or an older version's, as shown (shownNames.ts).
		this.rows = rows
			.filter((r) => isId(r.id) && (isId(r.rosterId) || (r.joining === true && r.secret !== undefined)))
			.map((r) => ({ ...r, name: shownWorkspaceName(r.name, r.id) }));
		for (const row of this.rows) if (row.joining) this.watchJoin(row);
	}

	/** Creates a workspace with a first channel, "general", and opens it. */
	async createWorkspace(name: string, color: string = WORKSPACE_COLORS[0]): Promise<string> {
		const clean = name.trim().slice(0, MAX_WORKSPACE_NAME);
		if (!clean) throw new EmptyNameError('workspace name is empty');
		const { db, docs, identity } = this.svc;
		// The id certifies its creator: only this device's `create` can be the team's root. The
		// nonce also says its spaces take marked ids only (teamId.ts `marksSpaceIds`).
		const nonce = newWorkspaceNonce();
		const id = teamWorkspaceId(identity.peerId, nonce);
		const rosterId = teamRosterId(id);
		const now = Date.now();
		const root = docs.open(id);
		const roster = docs.open(rosterId);
		await Promise.all([root.ready, roster.ready]);
		const create = await signTeamOp(identity.privateKey, identity.peerId, { ws: id, prev: [], at: now }, {
			t: 'create',
			nonce,
			name: identity.displayName
		});
		root.doc.transact(() => {
			new WorkspaceDoc(root.doc).init({ name: clean, color, createdBy: identity.peerId, createdAt: now, rosterId });
		}, LOCAL_ORIGIN);
		roster.doc.transact(() => addTeamOp(roster.doc, create), LOCAL_ORIGIN);
		const row: WorkspaceRow = { id, name: clean, color, rosterId, secret: newSecret(), createdAt: now, lastOpenedAt: now };
		await db.workspaces.put(row);
		docs.release(root);
		docs.release(roster);
		await this.mesh?.addWorkspace(row, this.displayName);
		await this.reloadWorkspaces();
		await this.switchTo(id);
		await this.current?.createChannel({ name: 'general' });
		return id;
	}

	/** Opens a workspace (closing the current one) and its last channel. */
	async switchTo(id: string): Promise<void> {
		if (this.current?.id === id) return;
		const row = this.rows.find((w) => w.id === id);
		if (!row) return;
		this.switching = true;
		try {
			const previous = this.current;
			this.current = undefined;
			await previous?.close();
			if (row.joining) {
				// Shown as "joining" until its root arrives (watchJoin opens it then).
				this.joiningId = row.id;
				await this.svc.db.workspaces.update(id, { lastOpenedAt: Date.now() });
				return;
			}
			this.joiningId = undefined;
			const ws = await WorkspaceState.open(this.svc, row);
			ws.sharedTools = () => this.mesh?.sharedTools(id) ?? Promise.resolve([]);
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

	/** Opens the message a notification points at: its workspace, its channel (and thread), scrolled to. */
	async openMessage(target: MessageTarget): Promise<void> {
		if (!this.rows.some((w) => w.id === target.workspaceId)) return;
		await this.switchTo(target.workspaceId);
		const ws = this.current;
		if (ws?.id === target.workspaceId && ws.channelEntry(target.channelId) !== undefined) {
			await openMessage(ws, target.channelId, target.messageId, target.parent);
		}
	}

	/** Sets this device's display name (also in the open workspace's roster). */
	async setDisplayName(name: string): Promise<void> {
		const clean = await saveDisplayName(this.svc.db, name);
		this.svc.identity.displayName = clean;
		this.displayName = clean;
		this.current?.ensureMember();
		this.mesh?.setDisplayName(clean);
	}

	/**
	 * Joins the workspace an invite names: stores it with its secret and relays, starts
	 * syncing it and shows it (as "joining" until a peer has sent its root document). An
	 * invite to a workspace this device already has just opens it (and learns its relays).
	 * @throws {InviteFormatError} for a broken invite, before anything is stored.
	 */
	async joinWorkspace(link: string, displayName?: string): Promise<string> {
		const invite = parseInvite(link);
		if (!invite.invitation) throw new InviteFormatError(InviteProblem.tooOld);
		if (displayName !== undefined && displayName.trim() && displayName.trim() !== this.displayName) {
			await this.setDisplayName(displayName);
		}
		const { db } = this.svc;
		const existing = await db.workspaces.get(invite.workspaceId);
		if (existing) {
			const relays = mergeRelays(existing.relays, invite);
			await db.workspaces.update(existing.id, {
				relays,
				// An invitation is a signed team's: its roster is the one the workspace id derives (an imported file may have named another).
				rosterId: teamRosterId(invite.workspaceId),
				...(existing.secret ? {} : { secret: invite.secret }),
				...(invite.channel !== undefined ? { lastChannelId: invite.channel } : {})
			});
			await this.reloadWorkspaces();
			const row = this.rows.find((w) => w.id === existing.id);
			if (row) await this.mesh?.addWorkspace(row, this.displayName);
			await this.switchTo(existing.id);
			const target = invite.channel;
			if (target !== undefined && this.current?.id === existing.id && this.current.channelEntry(target) !== undefined) await this.current.openChannel(target);
			return existing.id;
		}
		const now = Date.now();
		const row: WorkspaceRow = {
			id: invite.workspaceId,
			name: invite.name.trim().slice(0, MAX_WORKSPACE_NAME) || invite.workspaceId.slice(0, 8),
			color: WORKSPACE_COLORS[0],
			rosterId: teamRosterId(invite.workspaceId),
			secret: invite.secret,
			relays: invite.relays,
			invitation: invite.invitation,
			// Once joined, it opens on the channel the invite was made from (switchTo falls back to the first one).
			...(invite.channel !== undefined ? { lastChannelId: invite.channel } : {}),
			joining: true,
			createdAt: now,
			lastOpenedAt: now
		};
		await db.workspaces.put(row);
		await this.mesh?.addWorkspace(row, this.displayName);
		await this.reloadWorkspaces();
		await this.switchTo(row.id);
		return row.id;
	}

	/**
	 * Gives up joining a workspace that has not arrived (no member reachable, or a wrong
	 * secret): stops syncing it and forgets it. A workspace that has arrived is never removed here.
	 */
	async cancelJoin(id: string): Promise<void> {
		const row = this.rows.find((w) => w.id === id);
		if (!row?.joining) return;
		this.joinWatchers.get(id)?.stop();
		this.joinWatchers.delete(id);
		await this.mesh?.removeWorkspace(id);
		await this.svc.db.workspaces.delete(id);
		if (this.joiningId === id) this.joiningId = undefined;
		await this.reloadWorkspaces();
		const next = this.rows[0];
		if (next) await this.switchTo(next.id);
	}

	/** Waits for a joined workspace's root document, then records its roster and opens it. */
	private watchJoin(row: WorkspaceRow): void {
		if (this.joinWatchers.has(row.id)) return;
		const { docs, db } = this.svc;
		let done = false;
		let offTeam: (() => void) | undefined;
		const check = async (): Promise<void> => {
			// The admission lands in the team's own document, often after the root: a change of
			// the team must re-check too, or the workspace waits for the next reload.
			const team = this.mesh?.team(row.id);
			if (team && !offTeam) offTeam = team.on('change', () => void check());
			// Joined once the team admits this device and the workspace's root has arrived. The
			// roster stays the one the invite derived: the root's `meta` is anyone's to rewrite.
			const arrived = this.mesh?.syncDocs(row.id)?.rootRosterId;
			const rosterId = row.rosterId || teamRosterId(row.id);
			if (done || arrived === undefined || !isId(arrived) || this.mesh?.team(row.id)?.joined !== true) return;
			done = true;
			this.joinWatchers.get(row.id)?.stop();
			this.joinWatchers.delete(row.id);
			await db.workspaces.update(row.id, { rosterId, joining: false, invitation: undefined });
			await this.reloadWorkspaces();
			if (this.joiningId === row.id) {
				this.joiningId = undefined;
				await this.switchTo(row.id);
			}
		};
		const offDocs = docs.onUpdate((id) => {
			if (id === row.id) void check();
		});
		const stop = () => {
			offDocs();
			offTeam?.();
		};
		this.joinWatchers.set(row.id, { stop, check });
		void check();
	}

	/** Writes the open workspace into one export file (store/exchange, loaded on first use). */
	async exportCurrent(onProgress?: (p: exchange.ExchangeProgress) => void): Promise<exchange.ExportResult> {
		const { db, docs } = this.svc;
		const ws = this.current;
		const exchange = await loadExchange();
		if (!ws) throw new exchange.WorkspaceNotFoundError('no workspace is open');
		return exchange.exportWorkspace({
			db,
			docs,
			workspaceId: ws.id,
			appVersion: exchange.APP_VERSION,
			onProgress,
			channelRules: ws.channelRules,
			spaces: [...ws.spaces.channels, ...ws.directs.map((d) => ws.channelEntry(d.id)).filter((c) => c !== undefined)],
			unseen: (docId, doc) => ws.unseen(docId, doc),
			postingRules: (docId) => ws.postingRules(docId),
			blobs: this.svc.blobs.store(ws.id),
			signer: { key: this.svc.identity.privateKey, peerId: this.svc.identity.peerId }
		});
	}

	/**
	 * Restores an export file as a new workspace, or merges it into the same one, and opens it.
	 * @throws {exchange.ImportFileError} for a file it refuses, before anything is written
	 */
	async importWorkspace(file: Blob, onProgress?: (p: exchange.ExchangeProgress) => void): Promise<exchange.ImportResult> {
		const exchange = await loadExchange();
		if (file.size > exchange.IMPORT_LIMITS.maxFileBytes) throw new exchange.ExportTooLargeError('the file is larger than an import accepts');
		const { db, docs } = this.svc;
		const blobs = (workspaceId: string) => this.svc.blobs.store(workspaceId);
		const result = await exchange.importWorkspace({ db, docs, onProgress, blobs, device: this.svc.identity.peerId }, new Uint8Array(await file.arrayBuffer()));
		await this.reloadWorkspaces();
		const row = this.rows.find((w) => w.id === result.workspaceId);
		if (row) await this.mesh?.addWorkspace(row, this.displayName);
		await this.switchTo(result.workspaceId);
		return result;
	}

	/** Switches and remembers the UI language. */
	async setLanguage(code: LanguageCode): Promise<void> {
		this.language = code;
		await Promise.all([setLanguage(code), this.svc.db.settings.put({ key: 'language', value: code })]);
	}
}


/** Export and import (zip code included), kept out of the first load. */
function loadExchange(): Promise<typeof exchange> {
	return import('../store/exchange/index.js');
}

/** The relays a workspace row should keep: its own and an invite's, without repeats. */
function mergeRelays(known: string[] | undefined, invite: Invite): string[] {
	return [...new Set([...(known ?? []), ...invite.relays])];
}
