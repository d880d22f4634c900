/**
 * A note editor labels each remote cursor with a name. Anyone in the workspace writes
 * awareness, so the label must come from the team (`nameOf`), never from the `name` a state
 * claims: a peer the team gives no name to is shown by its peer id's tail, not as "Alice".
 */
import { describe, expect, it } from 'vitest';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { NoteAwareness } from '../../../src/lib/state/noteAwareness.js';

describe('a remote cursor\'s name', () => {
	it('is the team\'s, not the one its awareness state claims', () => {
		const mine = new Awareness(new Y.Doc());
		const theirs = new Awareness(new Y.Doc());
		mine.setLocalState({ peer: 'peer-me', name: 'Me' });
		const text = new Y.Doc().getText('body');
		const pos = Y.createRelativePositionFromTypeIndex(text, 0);
		theirs.setLocalState({ peer: 'peer-mallory-x1y2z3', name: 'Alice', note: 'note-1', cursor: JSON.parse(JSON.stringify({ anchor: pos, head: pos })) as unknown });
		applyAwarenessUpdate(mine, encodeAwarenessUpdate(theirs, [theirs.clientID]), 'mesh');

		const team: Record<string, string> = { 'peer-alice': 'Alice' };
		const view = new NoteAwareness(mine, 'note-1', (p) => team[p] ?? '');
		const label = view.getStates().get(theirs.clientID)?.user as { name?: unknown } | undefined;
		expect(label?.name).toBe('…x1y2z3');
		expect(label?.name).not.toContain('Alice');
	});
});
