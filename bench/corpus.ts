/**
 * Text the search and knowledge benchmarks share: English sentences from the public B4
 * editing trace's final document (../shared/data, see SOURCES.md), and the percentile of
 * sorted timings they report.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

/** English sentences: the paper's prose with LaTeX commands and maths removed. */
export async function englishSentences(): Promise<string[]> {
	const raw = JSON.parse(gunzipSync(await readFile(join(here, '../../shared/data/automerge-paper.json.gz'))).toString('utf8')) as {
		endContent: string;
	};
	const text = raw.endContent
		.replace(/%.*$/gm, '')
		.replace(/\$[^$]*\$/g, ' ')
		.replace(/\\[a-zA-Z]+\*?(\[[^\]]*\])?/g, ' ')
		.replace(/[{}\\~]/g, ' ');
	return text
		.split(/(?<=[.!?])\s+/)
		.map((s) => s.replace(/\s+/g, ' ').trim())
		.filter((s) => s.split(' ').length >= 4);
}

/** The `p` quantile (0–1) of ascending `sorted` timings. */
export function percentile(sorted: readonly number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}
