/** The text of a failed team action for an alert: the fold's reason when the team refused it. */
export function errorText(err: unknown): string {
	return err instanceof Error ? err.message : String(err);
}
