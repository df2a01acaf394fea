//! The kinds of record `pledge check --format jsonl` writes and their fields, so that a test
//! file naming a field no record has is an error, not an expectation that can never match (or
//! an `absent` entry that can never fail).

/// Every kind of record a check gives, the summary last.
pub const RECORD_KINDS: &[&str] = &[
    "verdict", "action", "finding", "rejected", "unopened", "sample", "target", "repeat", "summary",
];

/// The fields whose values are instants (or null, which a test leaves out): an expectation
/// must give them as instants, since any other text could never match.
pub const INSTANT_FIELDS: &[&str] = &["start", "due", "stop", "at", "now"];

/// The fields of each kind, in the order the record writes them.
const FIELDS: &[(&str, &[&str])] = &[
    (
        "verdict",
        &[
            "record",
            "ticket",
            "policy",
            "clause",
            "cycle",
            "status",
            "start",
            "due",
            "stop",
            "paused",
            "paused_seconds",
            "overdue_seconds",
            "left_seconds",
        ],
    ),
    (
        "action",
        &[
            "record", "ticket", "policy", "clause", "cycle", "stage", "action", "role", "channels",
            "message", "at", "status", "evidence",
        ],
    ),
    (
        "finding",
        &[
            "record", "ticket", "policy", "clause", "code", "at", "message",
        ],
    ),
    ("rejected", &["record", "line", "reason", "text"]),
    ("unopened", &["record", "ticket", "events", "first_line"]),
    (
        "sample",
        &[
            "record",
            "policy",
            "clause",
            "period",
            "group",
            "role",
            "population",
            "required",
            "done",
            "status",
            "missing",
        ],
    ),
    (
        "target",
        &[
            "record",
            "policy",
            "clause",
            "period",
            "group",
            "hits",
            "total",
            "ratio_percent",
            "bound",
            "bound_percent",
            "status",
            "measure",
            "obligation",
        ],
    ),
    (
        "repeat",
        &[
            "record", "policy", "clause", "ticket", "at", "key", "cases", "action", "role",
            "channels", "message",
        ],
    ),
    (
        "summary",
        &[
            "record",
            "now",
            "lines",
            "events",
            "accepted",
            "rejected",
            "duplicates",
            "late",
            "expired",
            "after_now",
            "cases",
            "unopened",
            "breached",
            "actions_missed",
            "findings",
            "uncovered",
            "clauses",
        ],
    ),
];

/// The fields a record of `kind` may have; without a kind, those of any record.
pub fn fields_of(kind: Option<&str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (k, fields) in FIELDS {
        if kind.is_none_or(|kind| kind == *k) {
            for f in *fields {
                if !out.contains(f) {
                    out.push(f);
                }
            }
        }
    }
    out
}
