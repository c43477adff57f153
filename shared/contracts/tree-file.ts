import { z } from 'zod';

/**
 * A step's judgement by the critic (null: not judged). `failed`: the judge could not be asked
 * (its prompt never fit, or every attempt failed); the reason is kept as the step's feedback and
 * the cut goes on past the step as for Uncertain, but the run counts it (`judge_failures`).
 */
export const judgementSchema = z.enum(['good', 'bad', 'uncertain', 'failed']).nullable();
export type Judgement = z.infer<typeof judgementSchema>;

/** A search tree node's own fields, without its children (shared by the tree file and live updates). */
export const treeNodeFieldsSchema = z.object({
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
});
export type TreeNodeFields = z.infer<typeof treeNodeFieldsSchema>;

/**
 * One node of a search tree as written to `trees/<task>.json` (the Contract in DESIGN.md).
 * The root has depth 0, an empty response/action and the first observation.
 */
export interface TreeNode extends TreeNodeFields {
  children: TreeNode[];
}

export const treeNodeSchema: z.ZodType<TreeNode> = z.lazy(() =>
  treeNodeFieldsSchema.extend({ children: z.array(treeNodeSchema) }),
);

/**
 * The Contract node extended (never renamed) with optional fields that appear only when set:
 * `failed` (a disaster child, negative raw reward), `error` (why expanding the node failed;
 * consumers pairing leaf paths skip such nodes) and `rawAction` (the action as the policy wrote
 * it, when the env client sent another). The schema above does not list them: parsing drops them.
 */
export const treeNodeExtrasSchema = z.object({
  failed: z.literal(true).optional(),
  error: z.string().optional(),
  rawAction: z.string().optional(),
});
export type TreeNodeExtras = z.infer<typeof treeNodeExtrasSchema>;

/** A node as the tree file and GET .../tree hold it: the Contract fields plus the extras. */
export interface ExportedTreeNode extends TreeNodeFields, TreeNodeExtras {
  children: ExportedTreeNode[];
}

export const exportedTreeNodeSchema: z.ZodType<ExportedTreeNode> = z.lazy(() =>
  treeNodeFieldsSchema
    .extend(treeNodeExtrasSchema.shape)
    .extend({ children: z.array(exportedTreeNodeSchema) }),
);

/** The whole file `trees/<task>.json`. */
export const treeFileSchema = z.object({
  task: z.number().int().nonnegative(),
  root: treeNodeSchema,
});
export type TreeFile = z.infer<typeof treeFileSchema>;

/** GET /v1/runs/:id/tasks/:task/tree: the tree file with its nodes' extras. */
export const exportedTreeFileSchema = z.object({
  task: z.number().int().nonnegative(),
  root: exportedTreeNodeSchema,
});
