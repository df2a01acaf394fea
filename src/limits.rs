//! Every size and depth limit of the language and the reader, in one place.
//!
//! The language has no loops and no recursion, so evaluation always terminates; these limits
//! keep parsing and lowering of hostile input bounded as well.

/// Deepest nesting of parentheses and `not` in a condition.
pub const MAX_CONDITION_DEPTH: usize = 64;
/// Largest policy source accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;
/// Most clauses in one policy.
pub const MAX_CLAUSES: usize = 10_000;
/// Longest event line accepted, in bytes; longer lines are rejected, not read into memory.
pub const MAX_EVENT_LINE_BYTES: usize = 1024 * 1024;
/// Most rejected lines kept verbatim for reports (all are counted).
pub const MAX_REJECTS_LISTED: usize = 10_000;
