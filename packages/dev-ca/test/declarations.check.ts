// Compile-time only (`npm run typecheck`): the hand-written src/index.d.ts, which TypeScript
// consumers see, describes what src/index.cjs really exports, in both directions.
import type * as declared from '../src/index';
import type * as implemented from '../src/index.cjs';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const declarationsMatch: Same<typeof declared, typeof implemented> = true;
