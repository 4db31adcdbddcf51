/** A failure the user can act on: printed as one sentence, exit code 1. */
export class CliError extends Error {}

/** A command used wrongly (a missing or conflicting option): one sentence, exit code 2. */
export class UsageError extends CliError {}
