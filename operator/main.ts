/** Operator entry point (`node dist/operator/main.js` in the image); see run-operator.ts for the environment. */
import { runOperator } from './run-operator.ts';

await runOperator();
