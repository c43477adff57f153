import { describe, expect, it } from 'vitest';
import {
  focusInSight,
  mapSciWorldAction,
  normaliseSciWorldAction,
  sciWorldCandidates,
} from '../../../shared/env/agentgym/sciworld-actions';

// The hint the real AgentGym SciWorld server (3ef9235) answered for GET /action_hint right after
// POST /reset {data_idx: 0} (task "boil", variation 0, the agent in the hallway).
const HALLWAY = {
  possibleActions: [
    'activate OBJ',
    'close OBJ',
    'connect OBJ to OBJ',
    'deactivate OBJ',
    'disconnect OBJ',
    'dunk OBJ in OBJ',
    'eat OBJ',
    'flush OBJ',
    'focus on OBJ',
    'go OBJ',
    'inventory',
    'look around',
    'look at OBJ',
    'look in OBJ',
    'mix OBJ',
    'move OBJ to OBJ',
    'open OBJ',
    'pick up OBJ',
    'pour OBJ in OBJ',
    'put down OBJ',
    'read OBJ',
    'reset task',
    'task',
    'use OBJ on OBJ',
    'wait',
    'wait1',
  ],
  possibleObjects: [
    'agent',
    'air',
    'art studio',
    'art studio door',
    'bedroom',
    'bedroom door',
    'door to greenhouse',
    'door to kitchen',
    'door to living room',
    'door to workshop',
    'greenhouse',
    'hallway',
    'kitchen',
    'living room',
    'picture',
    'workshop',
  ],
};

describe('SciWorld action mapping', () => {
  const candidates = sciWorldCandidates(HALLWAY);

  it('builds the candidates from the templates and objects, with the rules of the reference', () => {
    expect(candidates).toContain('look around');
    expect(candidates).toContain('go kitchen');
    expect(candidates).toContain('go to kitchen');
    expect(candidates).toContain('open door to kitchen');
    expect(candidates).toContain('move picture to kitchen');
    expect(candidates).not.toContain('move picture to picture');
    expect(candidates).not.toContain('reset task');
    expect(candidates).not.toContain('focus on air');
    expect(candidates).not.toContain('focus on kitchen');
    expect(candidates).toContain('focus on picture');
    expect(candidates).not.toContain('open door to greenhouse door'); // doors only via "open door to ROOM"
    expect(candidates.filter((c) => /\bdoor\b/.test(c)).every((c) => c.startsWith('open door to '))).toBe(
      true,
    );
    expect(new Set(candidates).size).toBe(candidates.length);
  });

  it('sends a valid action unchanged (after normalising case, spaces and "green house")', () => {
    expect(mapSciWorldAction('look around', candidates)).toEqual({ action: 'look around', via: 'exact' });
    expect(mapSciWorldAction('  Open door to  Green House ', candidates)).toEqual({
      action: 'open door to greenhouse',
      via: 'exact',
    });
    expect(normaliseSciWorldAction('Go  TO kitchen')).toBe('go to kitchen');
  });

  it('maps a near miss to the candidate sharing the most words, the shorter on a tie', () => {
    expect(mapSciWorldAction('pick up the picture', candidates)).toEqual({
      action: 'pick up picture',
      via: 'overlap',
    });
    expect(mapSciWorldAction('walk to the kitchen', candidates)).toEqual({
      action: 'go to kitchen',
      via: 'overlap',
    });
    expect(mapSciWorldAction('open the kitchen door', candidates).action).toBe('open door to kitchen');
  });

  it('keeps an action that shares no word with any candidate', () => {
    expect(mapSciWorldAction('xyzzy', candidates)).toEqual({ action: 'xyzzy', via: 'unmatched' });
  });

  it('keeps a focus only on objects in sight (a free look-around plus the inventory), as the reference', () => {
    const focus = [
      'focus on adult pea plant',
      'focus on bee',
      'focus on soil in flower pot 5',
      'look at bee',
    ];
    // The real server's /state look-around in the greenhouse of find-living-thing variation 0 (abridged).
    const sight =
      'This room is called the greenhouse. In it, you see:\n\ta bee hive. The bee hive door is closed.\n' +
      '\ta flower pot 5 (containing a pea plant in the adult stage with a tall height, soil)\n' +
      'In your inventory, you see:\n\tan orange\n';
    expect(focusInSight(focus, sight)).toEqual([
      'focus on adult pea plant',
      'focus on bee', // "bee" occurs in "bee hive": a substring, as the reference checks
      'focus on soil in flower pot 5',
      'look at bee',
    ]);
    expect(focusInSight(['focus on red box', 'focus on orange'], sight)).toEqual(['focus on orange']);
  });
});
