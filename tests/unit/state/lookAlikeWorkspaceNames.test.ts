/**
 * Workspaces that look alike are told apart in the switcher and on the "joining" screen, as
 * channels are (shownNames.ts `shownWorkspaces`, nameSkeleton.ts `distinctLabels`). A workspace's
 * name is an inviter's (the invite's) or any admin's (the root's) to choose: found in review, an
 * invite named "Аcme" (a Cyrillic А) or "Acme\u200B" showed exactly like the user's own "Acme".
 * Each workspace that looks like another now shows its id's tail. The app's state runs on real
 * services over fake-indexeddb, without a mesh (joining waits for a peer that never comes).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { inviteLink } from '../../../src/lib/mesh/invite.js';
import { AppState } from '../../../src/lib/state/AppState.svelte.js';
import { shownWorkspaces } from '../../../src/lib/state/shownNames.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb, type WorkspaceRow } from '../../../src/lib/store/db.js';
import { loadOrCreateIdentity } from '../../../src/lib/store/identity.js';

function row(name: string): WorkspaceRow {
	return { id: newId(), name, color: '#2f5fb3', rosterId: newId(), createdAt: 1, lastOpenedAt: 1 };
}

/** An invite link to a workspace this device does not have, named `name` by its inviter. */
function inviteNamed(name: string): string {
	const invitation = { id: newId(), opId: 'ab'.repeat(32), seed: new Uint8Array(32).fill(3) };
	return inviteLink('https://relay.lan:8443', { workspaceId: newId(), secret: new Uint8Array(32).fill(7), name, relays: [], invitation });
}

let app: AppState | undefined;
afterEach(async () => {
	await app?.current?.close().catch(() => undefined);
	app = undefined;
});

/** The app's state over real services, as `init` builds them, without starting a mesh. */
async function appState(): Promise<AppState> {
	const db = new OutpostDb(`outpost-ws-names-${newId()}`);
	await db.open();
	const services: Services = assembleServices(db, new DocStore(), await loadOrCreateIdentity(db));
	const state = new AppState();
	// `init` also starts the mesh and reads the browser's language; what is tested here needs neither.
	(state as unknown as { services: Services }).services = services;
	return state;
}

describe('workspaces whose names look alike', () => {
	it('each show their id’s tail in the shown list; others are left alone', () => {
		const rows = [row('Acme'), row('Acme\u200B'), row('\u0410cme'), row('ACME '), row('Bistro')];
		const shown = shownWorkspaces(rows);
		const names = shown.slice(0, 4).map((w) => w.name);
		expect(new Set(names).size).toBe(4);
		for (const [i, name] of names.entries()) expect(name).toContain(rows[i]!.id.slice(-6));
		expect(shown[4]).toBe(rows[4]);
		// The stored rows are left as they were.
		expect(rows.map((r) => r.name)).toEqual(['Acme', 'Acme\u200B', '\u0410cme', 'ACME ', 'Bistro']);
	});

	it('the open workspace is compared by its name now, before its stored row follows', () => {
		const [acme, bistro] = [row('Acme'), row('Bistro')];
		const shown = shownWorkspaces([acme, bistro], { id: bistro.id, name: 'Ac\u200Bme' });
		expect(shown.map((w) => w.name)).toEqual([`Acme (…${acme.id.slice(-6)})`, `Acme (…${bistro.id.slice(-6)})`]);
	});

	it('in the switcher and on the "joining" screen of an invite named like a workspace the user is in', async () => {
		app = await appState();
		const acme = await app.createWorkspace('Acme');
		expect(app.workspaces.map((w) => w.name)).toEqual(['Acme']);

		const joined = await app.joinWorkspace(inviteNamed('\u0410cme'));
		const shown = new Map(app.workspaces.map((w) => [w.id, w.name]));
		expect(shown.get(acme)).toBe(`Acme (…${acme.slice(-6)})`);
		expect(shown.get(joined)).toBe(`\u0410cme (…${joined.slice(-6)})`);
		expect(app.joining?.id).toBe(joined);
		expect(app.joining?.name).toBe(shown.get(joined));

		// Given up, the user's own is shown plain again.
		await app.cancelJoin(joined);
		expect(app.joining).toBeUndefined();
		expect(app.workspaces.map((w) => w.name)).toEqual(['Acme']);
	});

	it('in the switcher as soon as the open workspace is renamed like another', async () => {
		app = await appState();
		const acme = await app.createWorkspace('Acme');
		const bistro = await app.createWorkspace('Bistro');
		expect(app.workspaces.map((w) => w.name)).toEqual(['Bistro', 'Acme']);
		app.current!.root.name = 'ACME';
		expect(app.workspaces.map((w) => w.name)).toEqual([`ACME (…${bistro.slice(-6)})`, `Acme (…${acme.slice(-6)})`]);
	});
});
