/** A job that cannot succeed as given (unknown endpoint or world, refused URL): not retried. */
export class JobInputError extends Error {}
