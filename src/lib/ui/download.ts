/** Saves text as a file through the browser's download (no network involved). */
export function downloadText(fileName: string, text: string, type = 'text/markdown;charset=utf-8'): void {
	const url = URL.createObjectURL(new Blob([text], { type }));
	const link = document.createElement('a');
	link.href = url;
	link.download = fileName;
	link.rel = 'noopener';
	document.body.append(link);
	link.click();
	link.remove();
	// Revoked after the click has started the download.
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}
