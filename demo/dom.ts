/** The element with this id, checked to be of the expected kind, so a renamed id fails at start-up with its name. */
export function byId<T extends Element>(id: string, kind: abstract new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof kind)) throw new Error(`demo: #${id} is missing or is not a ${kind.name}`);
  return e;
}

/** An error's message for the status line: what went wrong, with its class where that says something. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
