//! `:save`: the working copy of a policy as source text.
//!
//! The loaded file is the starting point, so its comments, order and layout survive: each clause
//! the working copy changed is replaced in place by its canonical form
//! ([`crate::syntax::format_clause`]), each redefined calendar by the text typed for it, and new
//! clauses and calendars go at the end of the policy. The caller parses the result back before
//! writing it.

use super::text::block_range;
use crate::policy::{Clause, Policy};
use std::collections::BTreeMap;

/// The source of `working`, edited from `source` (the text `baseline` was loaded from).
/// `calendar_texts` holds the typed text of each redefined or new calendar.
pub fn saved_source(
    source: &str,
    baseline: &Policy,
    working: &Policy,
    calendar_texts: &BTreeMap<String, String>,
) -> String {
    // (start, end, replacement), applied from the end so offsets stay valid.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut appended = String::new();
    let versions = |p: &Policy, name: &str| -> Vec<Clause> {
        p.clauses
            .iter()
            .filter(|c| c.name == name)
            .cloned()
            .collect()
    };
    let mut seen: Vec<&str> = Vec::new();
    for clause in &working.clauses {
        if seen.contains(&clause.name.as_str()) {
            continue;
        }
        seen.push(&clause.name);
        let new = versions(working, &clause.name);
        let old = versions(baseline, &clause.name);
        if new == old {
            continue;
        }
        let text = new
            .iter()
            .map(|c| crate::syntax::format_clause(c).trim().to_string())
            .collect::<Vec<_>>()
            .join("\n\n  ");
        if old.is_empty() {
            appended.push_str(&format!("\n  {text}\n"));
            continue;
        }
        for (i, o) in old.iter().enumerate() {
            let (start, end) = (o.span.start, o.span.end.min(source.len()));
            edits.push((
                start,
                end,
                if i == 0 { text.clone() } else { String::new() },
            ));
        }
    }
    for cal in &working.calendars {
        let Some(typed) = calendar_texts.get(&cal.name) else {
            continue;
        };
        let typed = reindent(typed);
        match block_range(source, "calendar", &cal.name) {
            Some((start, end)) => edits.push((start, end, typed)),
            None => appended.push_str(&format!("\n  {typed}\n")),
        }
    }
    let mut out = source.to_string();
    if !appended.is_empty() {
        let close = out.rfind('}').unwrap_or(out.len());
        let before = out[..close].trim_end().len();
        out.replace_range(before..close, &format!("\n{appended}"));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, text) in edits {
        if start <= end && end <= out.len() {
            out.replace_range(start..end, &text);
        }
    }
    out
}

/// A typed block indented as a policy member: first line as is (it replaces text that starts
/// after the indentation), the following lines with their common indentation set to 4 spaces, and
/// the closing brace at 2.
fn reindent(text: &str) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    let common = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && l.trim() != "}")
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str(line.trim());
        } else if line.trim() == "}" {
            out.push_str("\n  }");
        } else if line.trim().is_empty() {
            out.push('\n');
        } else {
            let cut = common.min(line.len() - line.trim_start().len());
            out.push_str("\n    ");
            out.push_str(line[cut..].trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_blocks_are_indented_as_members() {
        assert_eq!(
            reindent("calendar office {\nhours mon..fri 09:00-17:00\n}"),
            "calendar office {\n    hours mon..fri 09:00-17:00\n  }"
        );
        assert_eq!(
            reindent("calendar x { hours mon 09:00-10:00 }"),
            "calendar x { hours mon 09:00-10:00 }"
        );
    }
}
