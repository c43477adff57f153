import type { BenchSection } from './section';
import { scaleSection } from './scale-section';
import { deepTreeSection } from './deep-tree';

/** The extra sections of bench.json, in the order they run (see section.ts). */
export const benchSections: BenchSection[] = [scaleSection, deepTreeSection];
