/** An error meant for the user: printed as one line, exit code 2 (bad input) unless given. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
