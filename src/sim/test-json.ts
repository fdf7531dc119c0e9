/** Response bodies in tests are read loosely, then asserted field by field. */
// biome-ignore lint/suspicious/noExplicitAny: one loose type for JSON under test
export type Json = any;
