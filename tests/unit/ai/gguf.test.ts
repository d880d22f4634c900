/** The generated GGUF model parses back: header, metadata, tensor table and tensor data. */
import { readFileSync } from 'node:fs';
import { readGgufFileInfo } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import {
	byteVocabulary,
	llamaGguf,
	llamaGgufPath,
	parameterCount,
	tinyLlama,
	vocabSize
} from '../../fixtures/gguf.js';

describe('generated GGUF model', () => {
	it('is deterministic in its seed and about 470 KB', () => {
		const a = llamaGguf();
		expect(llamaGguf().equals(a)).toBe(true);
		expect(llamaGguf({ seed: 2 }).equals(a)).toBe(false);
		expect(a.length).toBeGreaterThan(440_000);
		expect(a.length).toBeLessThan(500_000);
		// Magic "GGUF", version 3.
		expect(a.subarray(0, 4).toString('latin1')).toBe('GGUF');
		expect(a.readUInt32LE(4)).toBe(3);
	});

	it('parses back with node-llama-cpp’s GGUF reader', async () => {
		const path = llamaGgufPath();
		expect(llamaGgufPath()).toBe(path); // cached per process
		const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
		expect(info.version).toBe(3);
		const m = info.metadata;
		expect(m.general.architecture).toBe('llama');
		expect(m.general.name).toBe(tinyLlama.name);
		const llama = info.architectureMetadata;
		expect(llama.context_length).toBe(256);
		expect(llama.embedding_length).toBe(64);
		expect(llama.block_count).toBe(2);
		expect(llama.feed_forward_length).toBe(128);
		expect(llama.attention?.head_count).toBe(4);
		expect(llama.attention?.head_count_kv).toBe(4);
		expect(llama.rope?.dimension_count).toBe(16);

		const tok = m.tokenizer.ggml;
		expect(tok.model).toBe('llama');
		expect(tok.tokens).toHaveLength(vocabSize);
		expect(tok.tokens).toEqual(byteVocabulary().tokens);
		expect(tok.tokens[3 + 0x41]).toBe('<0x41>');
		expect(tok.tokens[259]).toBe('▁');
		expect(tok.token_type?.[3 + 0x41]).toBe(6);
		expect(tok.add_space_prefix).toBe(false);
		expect(tok.bos_token_id).toBe(1);
		expect(tok.eos_token_id).toBe(2);

		const tensors = info.tensorInfo ?? [];
		expect(tensors).toHaveLength(3 + 9 * 2);
		const byName = new Map(tensors.map((t) => [t.name, t]));
		expect(byName.get('token_embd.weight')?.dimensions.map(Number)).toEqual([64, vocabSize]);
		expect(byName.get('blk.1.ffn_down.weight')?.dimensions.map(Number)).toEqual([128, 64]);
		expect(tensors.every((t) => t.ggmlType === 0 && Number(t.offset) % 32 === 0)).toBe(true);
		const count = tensors.reduce((n, t) => n + t.dimensions.reduce<number>((a, d) => a * Number(d), 1), 0);
		expect(count).toBe(parameterCount());

		// Tensor data: norms are ones; output rows are zero except printable ASCII.
		const file = readFileSync(path);
		const floats = (name: string, from: number, n: number) => {
			const t = byName.get(name);
			if (!t) throw new Error(`no tensor ${name}`);
			const start = Number(t.fileOffset) + from * 4;
			return Array.from({ length: n }, (_, i) => file.readFloatLE(start + i * 4));
		};
		expect(floats('output_norm.weight', 0, 64)).toEqual(new Array(64).fill(1));
		expect(floats('output.weight', 2 * 64, 64)).toEqual(new Array(64).fill(0)); // </s>
		expect(floats('output.weight', (3 + 0x0a) * 64, 64)).toEqual(new Array(64).fill(0)); // "\n"
		expect(floats('output.weight', (3 + 0x41) * 64, 64).some((x) => x !== 0)).toBe(true); // "A"
		const last = tensors.at(-1);
		expect(Number(last?.fileOffset) + 128 * 64 * 4).toBeLessThanOrEqual(file.length);
	});

	it('scales to a benchmark-sized model with the same code', () => {
		const shape = { embedding: 512, blocks: 8, heads: 8, headsKv: 8, feedForward: 1408 };
		expect(parameterCount(shape)).toBeGreaterThan(20_000_000);
		expect(() => llamaGguf({ heads: 3 })).toThrow(RangeError);
	});
});
