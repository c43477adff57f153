import { z } from 'zod';

/**
 * A step's judgement by the critic (null: not judged). `failed`: the judge could not be asked
 * (its prompt never fit, or every attempt failed); the reason is kept as the step's feedback and
 * the cut goes on past the step as for Uncertain, but the run counts it (`judge_failures`).
 */
export const judgementSchema = z.enum(['good', 'bad', 'uncertain', 'failed']).nullable();
export type Judgement = z.infer<typeof judgementSchema>;

/**
 * One node of a search tree as written to `trees/<task>.json` (the Contract in DESIGN.md).
 * The root has depth 0, an empty response/action and the first observation.
 */
export interface TreeNode {
  id: string;
  depth: number;
  response: string;
  action: string;
  observation: string;
  reward: number;
  done: boolean;
  terminal: boolean;
  visits: number;
  value: number;
  judgement: Judgement;
  children: TreeNode[];
}

export const treeNodeSchema: z.ZodType<TreeNode> = z.lazy(() =>
  z.object({
    id: z.string(),
    depth: z.number().int().nonnegative(),
    response: z.string(),
    action: z.string(),
    observation: z.string(),
    reward: z.number(),
    done: z.boolean(),
    terminal: z.boolean(),
    visits: z.number().int().nonnegative(),
    value: z.number(),
    judgement: judgementSchema,
    children: z.array(treeNodeSchema),
  }),
);

/** The whole file `trees/<task>.json`. */
export const treeFileSchema = z.object({
  task: z.number().int().nonnegative(),
  root: treeNodeSchema,
});
export type TreeFile = z.infer<typeof treeFileSchema>;
