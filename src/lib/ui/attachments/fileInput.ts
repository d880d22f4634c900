/** Files given to a composer other than through its picker: dropped on it, or pasted into it. */
import type { Attachment } from 'svelte/attachments';

const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;

/**
 * An attachment (`{@attach fileDrop(...)}`) that hands `onfiles` the files dropped on its
 * element, and marks the element with `data-dragging` while files are dragged over it. Without
 * `onfiles` (attaching is off) it does nothing, and the browser keeps its own handling.
 */
export function fileDrop(onfiles: ((files: File[]) => void) | undefined): Attachment<HTMLElement> {
	return (node) => {
		if (!onfiles) return;
		const over = (e: DragEvent) => {
			if (!carriesFiles(e)) return;
			e.preventDefault();
			if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
			node.dataset.dragging = '';
		};
		const leave = (e: DragEvent) => {
			if (!(e.relatedTarget instanceof Node && node.contains(e.relatedTarget))) delete node.dataset.dragging;
		};
		const drop = (e: DragEvent) => {
			delete node.dataset.dragging;
			if (!carriesFiles(e)) return;
			e.preventDefault(); // the browser would open the file in place of the app
			onfiles([...(e.dataTransfer?.files ?? [])]);
		};
		node.addEventListener('dragover', over);
		node.addEventListener('dragleave', leave);
		node.addEventListener('drop', drop);
		return () => {
			node.removeEventListener('dragover', over);
			node.removeEventListener('dragleave', leave);
			node.removeEventListener('drop', drop);
			delete node.dataset.dragging;
		};
	};
}

/**
 * The files of a paste (a screenshot, an image copied in a browser); empty for a paste of text,
 * even one that also carries a picture of that text (as office programs add).
 */
export function pastedFiles(e: ClipboardEvent): File[] {
	const data = e.clipboardData;
	if (!data || data.getData('text/plain').trim() !== '') return [];
	return [...data.items]
		.filter((item) => item.kind === 'file')
		.map((item) => item.getAsFile())
		.filter((file): file is File => file !== null);
}
