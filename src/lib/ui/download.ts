/** Saves bytes or text as a file through the browser's download (no network involved). */

/** Offers `data` as a download named `fileName`. */
export function downloadFile(fileName: string, data: Uint8Array | string, type: string): void {
	const blob = new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type });
	const url = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = url;
	link.download = fileName;
	link.rel = 'noopener';
	link.style.display = 'none';
	document.body.append(link);
	link.click();
	link.remove();
	// Some browsers read the URL after click() returns.
	setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Offers text (Markdown by default) as a download named `fileName`. */
export function downloadText(fileName: string, text: string, type = 'text/markdown;charset=utf-8'): void {
	downloadFile(fileName, text, type);
}
