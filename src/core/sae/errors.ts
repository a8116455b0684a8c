/** An SAE problem a user can act on: the message is one line, names the file and what to fix. */
export class SaeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaeError';
  }
}
