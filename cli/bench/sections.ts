import type { BenchSection } from './section';
import { platformOpsSection } from './platform-ops-section';
import { scaleSection } from './scale-section';
import { deepTreeSection } from './deep-tree';

/** The extra sections of bench.json, in the order they run (see section.ts). */
export const benchSections: BenchSection[] = [scaleSection, platformOpsSection, deepTreeSection];
