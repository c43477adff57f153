import { z } from 'zod';

/** A seed as every spec takes it: a non-negative 31-bit integer (what the seeded RNGs accept). */
export const seedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);
