import { onExit } from 'signal-exit';

// Last-resort cleanup for when a process exits without running its teardowns: an uncaught
// error, Ctrl-C, or tap's timeout sending SIGTERM. Actions must be synchronous (the process
// is exiting). signal-exit re-raises the signal afterwards, so default exit behaviour holds.
const actions = new Set<() => void>();
let installed = false;

/** Registers a synchronous action to run if the process exits; returns its unregister. */
export function onEmergencyExit(action: () => void): () => void {
  if (!installed) {
    installed = true;
    onExit(
      () => {
        for (const run of [...actions].reverse()) {
          try {
            run();
          } catch {
            // Keep going: the remaining actions matter more than this one's error.
          }
        }
      },
      { alwaysLast: true },
    );
  }
  actions.add(action);
  return () => actions.delete(action);
}
