/** This library's version, as package.json has it (test/tuning.test.ts holds them equal): tuning tables are keyed by it. */
export const LIBRARY_VERSION = '0.1.0';
