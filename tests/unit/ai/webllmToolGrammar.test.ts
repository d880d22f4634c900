/**
 * WebLLM constrains a required tool call with the grammar toolGrammar.ts writes, compiled by
 * xgrammar (WebLLM's `response_format: {type: 'grammar'}`). No MLC model can run here
 * (STACK-NOTES.md), so the grammar is checked with the same xgrammar release WebLLM bundles
 * (@mlc-ai/web-xgrammar, its dependency at that version), in Node: every built-in workspace
 * tool's grammar (with the channel and note names as enums, as the app offers them) compiles,
 * accepts the calls the tools take, and refuses the calls they would not. (A forced call spells
 * out every property, optional ones too: toolGrammar.ts.)
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolCallGrammar } from '../../../src/lib/ai/tools/toolGrammar.js';
import type { ToolSpec } from '../../../src/lib/ai/tools/types.js';
import { createWorkspaceTools, withChoices, type WorkspaceToolContext } from '../../../src/lib/ai/tools/workspaceTools.js';

interface XGrammar {
	Grammar: { fromEBNF(ebnf: string, root?: string): Promise<unknown> };
	Testings: { isGrammarAcceptString(grammar: unknown, input: string): Promise<boolean> };
}

/**
 * xgrammar's web build is a UMD bundle (its WebAssembly inlined) in a package marked as an ES
 * module, which Node then refuses to run: it is loaded as the CommonJS script it is, from a copy.
 */
function loadXGrammar(): XGrammar {
	const require = createRequire(import.meta.url);
	const copy = join(mkdtempSync(join(tmpdir(), 'xgrammar-')), 'xgrammar.cjs');
	copyFileSync(require.resolve('@mlc-ai/web-xgrammar/lib/index.js'), copy);
	return require(copy) as XGrammar;
}

const xgrammar = loadXGrammar();
const webllmVersion = (createRequire(import.meta.url)('@mlc-ai/web-llm/package.json') as { devDependencies?: Record<string, string> }).devDependencies?.['@mlc-ai/web-xgrammar'];

/** The specs of the built-in tools as an AI chat offers them (the context is never called to make a spec). */
const specs: ToolSpec[] = createWorkspaceTools({} as WorkspaceToolContext).map((tool) => withChoices(tool, { channel: ['general', 'crew "deck"'], note: ['Harbour guide'] }).spec);
const spec = (name: string) => specs.find((s) => s.name === name)!;

/** Whether xgrammar accepts `call` as a whole under the grammar of `tools`. */
async function accepts(tools: ToolSpec[], call: unknown): Promise<boolean> {
	const grammar = await xgrammar.Grammar.fromEBNF(toolCallGrammar(tools, { maxString: 200 }));
	return xgrammar.Testings.isGrammarAcceptString(grammar, typeof call === 'string' ? call : JSON.stringify(call));
}

describe('tool grammars under WebLLM’s xgrammar', () => {
	it('is the xgrammar release WebLLM is built with', async () => {
		const { version } = createRequire(import.meta.url)('@mlc-ai/web-xgrammar/package.json') as { version: string };
		expect(webllmVersion).toBe(version);
	});

	it("compiles every built-in tool's grammar, alone and all together", async () => {
		for (const tools of [...specs.map((s) => [s]), specs]) await expect(xgrammar.Grammar.fromEBNF(toolCallGrammar(tools))).resolves.toBeDefined();
	});

	it('accepts the calls the tools take', async () => {
		const calls = [
			{ tool: 'search', arguments: { query: 'anchor drill', limit: 5 } },
			{ tool: 'search', arguments: { query: '锚演习是什么时候？', limit: 3 } },
			{ tool: 'post_message', arguments: { channel: 'crew "deck"', text: 'We sail at dawn.\nBring coats.' } },
			{ tool: 'read_note', arguments: { note: 'Harbour guide' } },
			{ tool: 'create_note', arguments: { title: 'Log', text: '' } },
			{ tool: 'list_messages', arguments: { channel: 'general', limit: 50 } }
		];
		for (const call of calls) {
			expect(await accepts(specs, call), JSON.stringify(call)).toBe(true);
			expect(await accepts([spec(call.tool)], call), JSON.stringify(call)).toBe(true);
		}
	});

	it('refuses calls the tools would not take', async () => {
		// An unknown tool, a channel that is not offered, a missing required argument, an argument of the wrong type.
		expect(await accepts(specs, { tool: 'delete_everything', arguments: {} })).toBe(false);
		expect(await accepts(specs, { tool: 'post_message', arguments: { channel: 'secret-plans', text: 'hi' } })).toBe(false);
		expect(await accepts(specs, { tool: 'post_message', arguments: { channel: 'general' } })).toBe(false);
		expect(await accepts(specs, { tool: 'search', arguments: { query: 'x', limit: 'five' } })).toBe(false);
		// A string over the bound, and text after the call.
		expect(await accepts([spec('search')], { tool: 'search', arguments: { query: 'x'.repeat(201) } })).toBe(false);
		expect(await accepts(specs, `${JSON.stringify({ tool: 'search', arguments: { query: 'x' } })} and more`)).toBe(false);
		// A call of one tool under another's grammar (a named tool choice offers that tool only).
		expect(await accepts([spec('read_note')], { tool: 'search', arguments: { query: 'x' } })).toBe(false);
	});
});
