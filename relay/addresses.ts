/**
 * The machine's LAN addresses, for the URLs the relay prints.
 */
import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Non-internal IPv4 addresses of every interface, without duplicates, in interface order.
 * @param interfaces defaults to `os.networkInterfaces()`; tests pass their own.
 */
export function lanAddresses(interfaces: Interfaces = networkInterfaces()): string[] {
	const found = new Set<string>();
	for (const infos of Object.values(interfaces)) {
		for (const info of infos ?? []) {
			// Node 18.0–18.3 reported the family as the number 4.
			const ipv4 = info.family === 'IPv4' || (info.family as unknown) === 4;
			if (ipv4 && !info.internal) found.add(info.address);
		}
	}
	return [...found];
}
