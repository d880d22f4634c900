/**
 * Command-line flags of `npm start` / `npm run relay`. Parsing only: no side effects,
 * so the entry point and the tests share it.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/** What the relay was asked to do. */
export interface RelayFlags {
	/** TCP port to listen on (0 picks a free one). */
	port: number;
	/** Address to listen on; `undefined` means every interface. */
	host: string | undefined;
	/** Directory for documents, keys and the certificate. */
	dataDir: string;
	/** Whether to run `vite build` first when the app is missing or stale. */
	build: boolean;
	/** Print usage and exit. */
	help: boolean;
}

/** Default port: the HTTPS port the relay will use once it speaks HTTPS. */
export const DEFAULT_PORT = 8443;

/** Default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';

/** Usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage: npm start -- [flags]

  --port N        port to listen on (default ${DEFAULT_PORT})
  --host ADDR     address to listen on (default: all interfaces)
  --data DIR      where documents and keys live (default ${DEFAULT_DATA_DIR})
  --no-build      serve build/ as it is, without rebuilding the app
  --help          print this text`;

/**
 * Parses the relay's flags (without the leading `node` and script path).
 * @throws {UsageError} on an unknown flag, a stray argument or a bad value.
 */
export function parseFlags(argv: readonly string[]): RelayFlags {
	let values;
	try {
		({ values } = parseArgs({
			args: [...argv],
			strict: true,
			allowPositionals: false,
			options: {
				port: { type: 'string' },
				host: { type: 'string' },
				data: { type: 'string' },
				'no-build': { type: 'boolean' },
				help: { type: 'boolean', short: 'h' }
			}
		}));
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}

	return {
		port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
		host: values.host === undefined ? undefined : nonEmpty('--host', values.host),
		dataDir: values.data === undefined ? DEFAULT_DATA_DIR : nonEmpty('--data', values.data),
		build: values['no-build'] !== true,
		help: values.help === true
	};
}

function parsePort(text: string): number {
	const port = Number(text);
	if (!/^\d+$/.test(text) || port > 65535) {
		throw new UsageError(`--port must be a whole number from 0 to 65535, not "${text}"`);
	}
	return port;
}

function nonEmpty(flag: string, text: string): string {
	if (text.trim() === '') throw new UsageError(`${flag} needs a value`);
	return text;
}
