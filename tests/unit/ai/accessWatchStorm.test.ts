/**
 * A storm of team changes (a member writing team operations one after another, each folded
 * and announced) while calls and answers run: each running call asks its access again after
 * a change, and a model host's check for an answer written into a document copies the whole
 * workspace root (hostAccess.ts `writeRefusal`). Found in review: every change started one
 * more check while the earlier ones still ran, so N changes made N concurrent checks per call.
 * Checks of one call now run one at a time, the changes folded meanwhile asked once after it.
 */
import { describe, expect, it } from 'vitest';
import { endWhenRefused } from '../../../src/lib/ai/answerAccessWatch.js';
import { abortWhenAccessEnds, ToolAccessEndedError } from '../../../src/lib/ai/toolAccessWatch.js';
import { EngineError } from '../../../src/lib/ai/engine.js';

/** A team's change announcements, as TeamAuthority.onChange gives them. */
function changes() {
	const handlers = new Set<() => void>();
	return {
		watch: (handler: () => void) => {
			handlers.add(handler);
			return () => void handlers.delete(handler);
		},
		emit: () => {
			for (const h of handlers) h();
		}
	};
}

/** A check that waits until released, counting how many run at once and in all. */
function slowCheck<T>(answer: (call: number) => T) {
	const state = { calls: 0, running: 0, most: 0, release: () => {} };
	let gate = new Promise<void>((resolve) => (state.release = resolve));
	const check = async (): Promise<T> => {
		const call = ++state.calls;
		state.running++;
		state.most = Math.max(state.most, state.running);
		await gate;
		state.running--;
		return answer(call);
	};
	const open = () => {
		state.release();
		gate = Promise.resolve();
	};
	return { state, check, open };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A thousand changes of `team` while the first check is held, then that check released: at most
 * one check ran at a time, and one more ran after the storm.
 */
async function stormDuringFirstCheck(team: ReturnType<typeof changes>, { state, open }: Pick<ReturnType<typeof slowCheck>, 'state' | 'open'>): Promise<void> {
	for (let i = 0; i < 1000; i++) team.emit();
	await settle();
	expect(state.most).toBe(1);
	open();
	await settle();
	await settle();
	expect(state.calls).toBe(2);
}

describe('a storm of team changes while an answer runs', () => {
	it('asks its access once at a time, and once more after the storm, not once per change', async () => {
		const team = changes();
		// The first check began before the storm's last change (the asker's removal) was folded.
		const { state, check, open } = slowCheck((call) => (call === 1 ? undefined : 'removed'));
		const ended = new AbortController();
		const unwatch = endWhenRefused(team.watch, check, ended);
		await stormDuringFirstCheck(team, { state, open });
		// The change folded last is still answered: the refusal it brings ends the answer.
		expect(ended.signal.reason).toBeInstanceOf(EngineError);
		unwatch();
	});
});

describe('a storm of team changes while a tool call runs', () => {
	it('asks its access once at a time, and once more after the storm, not once per change', async () => {
		const team = changes();
		const { state, check, open } = slowCheck((call) => call === 1);
		const controller = new AbortController();
		const unwatch = abortWhenAccessEnds(team.watch, check, controller, 'search');
		await stormDuringFirstCheck(team, { state, open });
		expect(controller.signal.reason).toBeInstanceOf(ToolAccessEndedError);
		unwatch();
	});
});
