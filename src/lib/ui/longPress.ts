/** A long press by touch (a finger held still for about half a second), as a Svelte attachment. */
import type { Attachment } from 'svelte/attachments';

/** How long a finger rests before the press counts as long. */
export const LONG_PRESS_MS = 500;
/** How far (px) the finger may drift, as a scroll begins, before the press is dropped. */
const SLOP_PX = 10;
/** Where a long press belongs to the control under the finger (a link's own menu, text editing). */
const OWN_PRESS = 'a, button, input, textarea, select, summary, [role="menu"]';

/**
 * Calls `onpress` when a touch rests on the element for {@link LONG_PRESS_MS}, and keeps the
 * browser's own context menu from opening over it. Mouse and pen presses are left alone.
 */
export function longPress(onpress: () => void, ms = LONG_PRESS_MS): Attachment<HTMLElement> {
	return (el) => {
		let timer: ReturnType<typeof setTimeout> | undefined;
		let fired = false;
		let x = 0;
		let y = 0;
		const cancel = () => {
			clearTimeout(timer);
			timer = undefined;
		};
		const down = (e: PointerEvent) => {
			fired = false;
			if (e.pointerType !== 'touch' || (e.target instanceof Element && e.target.closest(OWN_PRESS))) return;
			x = e.clientX;
			y = e.clientY;
			cancel();
			timer = setTimeout(() => {
				timer = undefined;
				fired = true;
				onpress();
			}, ms);
		};
		const move = (e: PointerEvent) => {
			if (timer !== undefined && Math.hypot(e.clientX - x, e.clientY - y) > SLOP_PX) cancel();
		};
		const context = (e: Event) => {
			if (timer !== undefined || fired) e.preventDefault();
		};
		el.addEventListener('pointerdown', down);
		el.addEventListener('pointermove', move);
		el.addEventListener('pointerup', cancel);
		el.addEventListener('pointercancel', cancel);
		el.addEventListener('contextmenu', context);
		return () => {
			cancel();
			el.removeEventListener('pointerdown', down);
			el.removeEventListener('pointermove', move);
			el.removeEventListener('pointerup', cancel);
			el.removeEventListener('pointercancel', cancel);
			el.removeEventListener('contextmenu', context);
		};
	};
}
