import { ApiError } from '../../shared/contracts/api-error';

/**
 * A job that cannot succeed as given (unknown endpoint or world, refused URL): not retried by the
 * queue consumers, and a 400 `invalid_reference` when a request meets it.
 */
export class JobInputError extends ApiError {
  constructor(message: string) {
    super(400, 'invalid_reference', message);
    this.name = 'JobInputError';
  }
}
