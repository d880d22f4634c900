/**
 * Which MCP servers the relay uses: `--mcp name=command args…` (a server the relay runs and
 * talks to over stdio), `--mcp name=http://host:port/path` (a Streamable HTTP server), and the
 * same in `<data>/mcp.json`:
 *
 * ```json
 * { "servers": { "files": { "command": "npx", "args": ["-y", "server-filesystem", "/srv"], "env": {} },
 *                "search": { "url": "http://10.0.0.5:8000/mcp" } } }
 * ```
 *
 * Parsing only, apart from {@link readMcpConfigFile}; every error says what to write instead.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { McpConfigError } from './errors.ts';

/** An MCP server's name: it prefixes its tools' names (`files.read`), so no dots. */
export const MCP_SERVER_NAME = /^[a-z0-9_-]{1,32}$/i;

/** The file in the data directory that lists MCP servers. */
export const MCP_CONFIG_FILE = 'mcp.json';

/** A server the relay starts and talks to over its stdin and stdout. */
export interface McpStdioSpec {
	transport: 'stdio';
	name: string;
	/** The executable (looked up in `PATH`). */
	command: string;
	args: string[];
	/** Variables added to the small environment the SDK passes on (`PATH`, `HOME`, …). */
	env?: Record<string, string>;
}

/** A server the relay reaches over Streamable HTTP. */
export interface McpHttpSpec {
	transport: 'http';
	name: string;
	/** Its endpoint, an `http:` or `https:` URL. */
	url: string;
}

/** An MCP server of the relay. */
export type McpServerSpec = McpStdioSpec | McpHttpSpec;

const EXAMPLE = 'files=npx -y @modelcontextprotocol/server-filesystem /srv or search=http://10.0.0.5:8000/mcp';

/**
 * Parses one `--mcp` value: `name=URL` for an http(s) URL, `name=command args…` otherwise,
 * with the command line split as a shell would (quotes and backslashes).
 * @throws {McpConfigError} saying what is wrong.
 */
export function parseMcpFlag(text: string): McpServerSpec {
	const equals = text.indexOf('=');
	if (equals < 0) throw new McpConfigError(`needs name=command or name=URL, such as ${EXAMPLE}; not "${text}"`);
	const name = checkName(text.slice(0, equals).trim(), `"${text}"`);
	const rest = text.slice(equals + 1).trim();
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) return { transport: 'http', name, url: checkUrl(rest, `server "${name}"`) };
	const [command, ...args] = splitCommandLine(rest);
	if (command === undefined || command === '') throw new McpConfigError(`server "${name}" needs a command or a URL after "="`);
	return { transport: 'stdio', name, command, args };
}

/**
 * Splits a command line into words as a POSIX shell would, without expanding anything:
 * whitespace separates words, `'…'` is literal, `"…"` keeps `\"`, `\\`, `` \` `` and `\$`
 * escapes, and a backslash outside quotes escapes the next character.
 * @throws {McpConfigError} on an unclosed quote.
 */
export function splitCommandLine(text: string): string[] {
	const words: string[] = [];
	let word = '';
	let inWord = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i]!;
		if (/\s/.test(c)) {
			if (inWord) words.push(word);
			word = '';
			inWord = false;
			continue;
		}
		inWord = true;
		if (c === "'") {
			const end = text.indexOf("'", i + 1);
			if (end < 0) throw new McpConfigError(`unclosed ' in "${text}"`);
			word += text.slice(i + 1, end);
			i = end;
		} else if (c === '"') {
			let j = i + 1;
			for (; j < text.length && text[j] !== '"'; j++) {
				if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
				word += text[j];
			}
			if (j >= text.length) throw new McpConfigError(`unclosed " in "${text}"`);
			i = j;
		} else if (c === '\\' && i + 1 < text.length) {
			word += text[++i];
		} else word += c;
	}
	if (inWord) words.push(word);
	return words;
}

/**
 * Parses the text of `mcp.json`; `file` names it in errors.
 * @throws {McpConfigError} naming the file and what is wrong in it.
 */
export function parseMcpConfig(text: string, file: string): McpServerSpec[] {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		throw new McpConfigError(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
	}
	if (!isObject(json) || !isObject(json.servers)) {
		throw new McpConfigError(`${file} must hold an object { "servers": { "<name>": { "command": … } or { "url": … } } }`);
	}
	const specs = Object.entries(json.servers).map(([name, entry]) => parseEntry(name, entry, file));
	const twice = specs.find((spec, i) => specs.findIndex((other) => sameName(other.name, spec.name)) !== i);
	if (twice !== undefined) throw new McpConfigError(`${file} names the server "${twice.name}" twice (names ignore case)`);
	return specs;
}

function parseEntry(key: string, entry: unknown, file: string): McpServerSpec {
	const where = `${file}: servers.${key}`;
	const name = checkName(key, `${file}: the server "${key}"`);
	if (!isObject(entry)) throw new McpConfigError(`${where} must be an object with "command" (and "args", "env") or "url"`);
	const unknown = Object.keys(entry).find((k) => !['command', 'args', 'env', 'url'].includes(k));
	if (unknown !== undefined) throw new McpConfigError(`${where} has an unknown key "${unknown}" (expected command, args, env or url)`);
	if ('url' in entry) {
		if ('command' in entry || 'args' in entry || 'env' in entry) throw new McpConfigError(`${where} has both "url" and "command"; give one`);
		if (typeof entry.url !== 'string') throw new McpConfigError(`${where}.url must be a string such as "http://10.0.0.5:8000/mcp"`);
		return { transport: 'http', name, url: checkUrl(entry.url, where) };
	}
	if (typeof entry.command !== 'string' || entry.command.trim() === '') {
		throw new McpConfigError(`${where} needs "command" (a non-empty string) or "url"`);
	}
	const args = entry.args ?? [];
	if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
		throw new McpConfigError(`${where}.args must be an array of strings`);
	}
	const spec: McpStdioSpec = { transport: 'stdio', name, command: entry.command, args };
	if (entry.env !== undefined) {
		if (!isObject(entry.env) || !Object.values(entry.env).every((value) => typeof value === 'string')) {
			throw new McpConfigError(`${where}.env must be an object of strings, such as { "API_KEY": "…" }`);
		}
		spec.env = entry.env as Record<string, string>;
	}
	return spec;
}

/**
 * Reads `<dataDir>/mcp.json`; no file is no servers.
 * @throws {McpConfigError} when it cannot be read or parsed.
 */
export async function readMcpConfigFile(dataDir: string): Promise<McpServerSpec[]> {
	const file = join(dataDir, MCP_CONFIG_FILE);
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
		throw new McpConfigError(`${file} could not be read: ${error instanceof Error ? error.message : String(error)}`);
	}
	return parseMcpConfig(text, file);
}

/** The servers of `mcp.json` and of `--mcp` together; a flag replaces the file's server of its name. */
export function mergeMcpSpecs(fromFile: readonly McpServerSpec[], fromFlags: readonly McpServerSpec[]): McpServerSpec[] {
	return [...fromFile.filter((spec) => !fromFlags.some((flag) => sameName(flag.name, spec.name))), ...fromFlags];
}

/** Whether two server names are the same server: names ignore case, as `Files.read` next to `files.read` would confuse. */
export function sameName(a: string, b: string): boolean {
	return a.toLowerCase() === b.toLowerCase();
}

function checkName(name: string, where: string): string {
	if (!MCP_SERVER_NAME.test(name)) {
		throw new McpConfigError(`${where}: a server's name must be 1 to 32 letters, digits, "_" or "-" (it prefixes its tools' names), not "${name}"`);
	}
	return name;
}

function checkUrl(text: string, where: string): string {
	let url: URL;
	try {
		url = new URL(text.trim());
	} catch {
		throw new McpConfigError(`${where} needs a URL such as http://10.0.0.5:8000/mcp, not "${text}"`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new McpConfigError(`${where} must be an http:// or https:// URL, not "${text}"`);
	if (url.username !== '' || url.password !== '') throw new McpConfigError(`${where}: the URL must not carry a user name or password: "${text}"`);
	if (url.hash !== '') throw new McpConfigError(`${where}: the URL must not have a #fragment: "${text}"`);
	return url.href;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
