/**
 * An MCP tool's answer as text for a model (a {@link ToolResult}): text blocks joined, every
 * other block summarised in one line (`[image image/png, 1234 bytes]`), the whole cut at a
 * size limit with a note saying so. Pure, so a server's hostile answer costs at most the limit.
 */
import type { CompatibilityCallToolResult, ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import type { ToolResult } from '../../src/lib/ai/tools/types.ts';

/** Default limit of a result's text, in UTF-8 bytes. */
export const MAX_RESULT_BYTES = 64 * 1024;

/** The model's view of a `tools/call` result, at most `maxBytes` of text (plus the note). */
export function toToolResult(result: CompatibilityCallToolResult, maxBytes = MAX_RESULT_BYTES): ToolResult {
	let text: string;
	if ('toolResult' in result && !('content' in result)) {
		// A server of the 2024-10-07 protocol answers with `toolResult` instead of content blocks.
		text = JSON.stringify(result.toolResult) ?? '';
	} else {
		const blocks = Array.isArray(result.content) ? (result.content as ContentBlock[]) : [];
		text = blocks.map(describeBlock).join('\n');
		if (blocks.length === 0 && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
	}
	return { content: capText(text, maxBytes), ...(result.isError === true ? { isError: true } : {}) };
}

/** One content block as text. */
export function describeBlock(block: ContentBlock): string {
	switch (block.type) {
		case 'text':
			return block.text;
		case 'image':
		case 'audio':
			return `[${block.type} ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
		case 'resource_link':
			return `[resource ${block.name}: ${block.uri}]`;
		case 'resource': {
			const { resource } = block;
			if ('text' in resource) return `[resource ${resource.uri}]\n${resource.text}`;
			return `[resource ${resource.uri}${resource.mimeType !== undefined ? ` ${resource.mimeType}` : ''}, ${base64Bytes(resource.blob)} bytes]`;
		}
		default:
			// A block type newer than this SDK: say what it is rather than drop it silently.
			return `[${String((block as { type?: unknown }).type)} content]`;
	}
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (never in the middle of a character), with a note when cut. */
export function capText(text: string, maxBytes: number): string {
	const bytes = Buffer.byteLength(text);
	if (bytes <= maxBytes) return text;
	const kept = Buffer.from(text).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '');
	return `${kept}\n[cut: the tool returned ${bytes} bytes; only the first ${formatBytes(maxBytes)} are shown]`;
}

/** How many bytes a base64 string decodes to. */
function base64Bytes(data: string): number {
	const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
	return Math.max(0, Math.floor((data.replace(/\s/g, '').length * 3) / 4) - padding);
}

function formatBytes(n: number): string {
	return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
