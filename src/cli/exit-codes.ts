/** Exit codes: 0 done; 1 a problem the user can fix; 3 finished, but some model calls failed. */
export const EXIT_USER_ERROR = 1;
export const EXIT_SOME_CALLS_FAILED = 3;
export const EXIT_INTERNAL = 70;
export const EXIT_INTERRUPTED = 130;
