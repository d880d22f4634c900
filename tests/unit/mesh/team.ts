/** A team built from real signed operations, for tests of what the team's key generations drive. */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { foldTeam, type Team } from '../../../src/lib/doc/team/fold';
import { newKeyGeneration } from '../../../src/lib/doc/team/keyBox';
import type { TeamOp, TeamOpBody } from '../../../src/lib/doc/team/ops';
import { signTeamOp } from '../../../src/lib/doc/team/sign';
import { newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId';

/** A device: its key and peer id. */
export interface Device {
	key: PrivateKey;
	id: string;
}

/** A new Ed25519 device. */
export async function device(): Promise<Device> {
	const key = await generateKeyPair('Ed25519');
	return { key, id: peerIdFromPrivateKey(key).toString() };
}

/** The operations of one team, written in sequence (each names the heads before it). */
export class TestTeam {
	readonly ops: TeamOp[] = [];
	private at = 1;

	private constructor(readonly ws: string) {}

	/** A team created by `owner`. */
	static async create(owner: Device): Promise<TestTeam> {
		const nonce = newTeamNonce();
		const team = new TestTeam(teamWorkspaceId(owner.id, nonce));
		await team.write(owner, { t: 'create', nonce, name: 'Owner' });
		return team;
	}

	/** Signs `body` by `author` after every operation so far. */
	async write(author: Device, body: TeamOpBody): Promise<TeamOp> {
		const op = await signTeamOp(author.key, author.id, { ws: this.ws, prev: this.fold().heads, at: this.at++ }, body);
		this.ops.push(op);
		return op;
	}

	/** `admin` makes a new key generation sealed to every current device; returns its id. */
	async rotate(admin: Device): Promise<string> {
		const { body } = newKeyGeneration(this.ws, this.fold().devices.keys());
		await this.write(admin, body);
		return body.gen;
	}

	/** The team as folded now. */
	fold(): Team {
		return foldTeam(this.ws, this.ops);
	}
}
