//! Reading policy text without parsing it: whether braces balance (multi-line input ends when
//! they do), which clauses and calendars an input declares, and where a declaration's block is.
//! Braces inside strings and `#` comments never count.

use crate::syntax::for_each_code_byte as code_bytes;

/// The clause keywords, `calendar` and `alert`, which begin a declaration a what-if may type.
pub const DECLARATION_KEYWORDS: &[&str] = &[
    "deadline", "notify", "sample", "target", "repeat", "every", "window", "record", "calendar",
    "alert",
];

/// `{` minus `}` outside strings and comments: input is complete when this is not positive.
pub fn open_braces(text: &str) -> i64 {
    let mut depth = 0i64;
    code_bytes(text, |_, b| {
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ => {}
        }
        true
    });
    depth
}

/// `text` without its leading blank lines and lines holding only a comment: what a comment
/// pasted above a clause (as every clause of the shipped policies has) leaves to read.
pub fn skip_leading_comments(text: &str) -> &str {
    let mut rest = text.trim_start();
    while rest.starts_with('#') {
        rest = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest
}

/// Lines a what-if may hold before its clauses: declarations of its events, lints allowed.
const SNIPPET_KEYWORDS: &[&str] = &["events", "allow"];

/// Whether `text` (without leading comments) starts with a declaration keyword followed by a
/// space (or `events`, `allow`): the start of a what-if, however its name or body is wrong.
pub fn starts_a_declaration(text: &str) -> bool {
    let text = skip_leading_comments(text);
    DECLARATION_KEYWORDS
        .iter()
        .chain(SNIPPET_KEYWORDS)
        .any(|k| {
            text.strip_prefix(*k)
                .is_some_and(|after| after.starts_with(char::is_whitespace))
        })
}

/// The declarations an input makes, as (keyword, name), in order: `deadline dispatch_30min`,
/// `calendar office`. Only top-level ones (outside any braces).
pub fn declared_names(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (start, _) in top_level_words(text) {
        let rest = &text[start..];
        let Some(kw) = DECLARATION_KEYWORDS.iter().find(|k| {
            rest.starts_with(*k)
                && rest[k.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_whitespace)
        }) else {
            continue;
        };
        let name: String = rest[kw.len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push((kw.to_string(), name));
        }
    }
    out
}

/// Offsets of words that start at brace depth 0.
fn top_level_words(text: &str) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut depth = 0i64;
    let bytes = text.as_bytes();
    code_bytes(text, |i, b| {
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ if depth == 0
                && b.is_ascii_alphabetic()
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')) =>
            {
                out.push((i, b))
            }
            _ => {}
        }
        true
    });
    out
}

/// The byte range of the block `keyword name ... { ... }` in `text`, from the keyword to the
/// closing brace, searching declarations at any depth (a calendar inside a `policy { }`).
pub fn block_range(text: &str, keyword: &str, name: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = None;
    code_bytes(text, |i, _| {
        let rest = &text[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if boundary && rest.starts_with(keyword) {
            let after = &rest[keyword.len()..];
            if after.starts_with(char::is_whitespace) {
                let after = after.trim_start();
                if after.starts_with(name)
                    && !after[name.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                {
                    found = Some(i);
                    return false;
                }
            }
        }
        true
    });
    let start = found?;
    let mut depth = 0i64;
    let mut end = None;
    code_bytes(&text[start..], |i, b| {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(start + i + 1);
                    return false;
                }
            }
            _ => {}
        }
        true
    });
    Some((start, end?))
}

/// The text of the block `keyword name { ... }` in `text`.
pub fn block_of<'t>(text: &'t str, keyword: &str, name: &str) -> Option<&'t str> {
    block_range(text, keyword, name).map(|(s, e)| &text[s..e])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_above_a_clause_are_skipped_and_a_clause_is_known_by_its_keyword() {
        assert_eq!(
            skip_leading_comments("\n  # one\n# two\n  deadline x"),
            "deadline x"
        );
        assert_eq!(skip_leading_comments("# only a comment"), "");
        assert_eq!(
            skip_leading_comments("deadline x # not leading"),
            "deadline x # not leading"
        );
        assert!(starts_a_declaration("# note\ndeadline 派单 \"中文\" {"));
        assert!(starts_a_declaration("calendar office {"));
        assert!(starts_a_declaration(
            "events raised, lifted alert typhoon \"x\" {"
        ));
        assert!(!starts_a_declaration("deadlines x {"));
        assert!(!starts_a_declaration("hello {"));
        assert!(!starts_a_declaration("{"));
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        assert_eq!(open_braces("deadline a \"{\" {"), 1);
        assert_eq!(open_braces("deadline a { # }\n"), 1);
        assert_eq!(open_braces("deadline a {\n within 1 hour\n}"), 0);
        assert_eq!(open_braces(r#"deadline a "\"{" {}"#), 0);
    }

    #[test]
    fn declarations_are_found_at_the_top_level_only() {
        let text = "calendar office { hours mon..fri 09:00-18:00 }\ndeadline dispatch { until dispatched\n within 1 hour }";
        assert_eq!(
            declared_names(text),
            vec![
                ("calendar".to_string(), "office".to_string()),
                ("deadline".to_string(), "dispatch".to_string())
            ]
        );
        assert!(declared_names("# deadline x {}\n").is_empty());
        assert!(declared_names("kind == \"x\"").is_empty());
    }

    #[test]
    fn a_block_runs_to_its_closing_brace() {
        let text = "policy \"p\" {\n  calendar office { hours mon 09:00-10:00 } # {\n  calendar office2 { }\n}";
        assert_eq!(
            block_of(text, "calendar", "office"),
            Some("calendar office { hours mon 09:00-10:00 }")
        );
        assert_eq!(
            block_of(text, "calendar", "office2"),
            Some("calendar office2 { }")
        );
        assert_eq!(block_of(text, "calendar", "off"), None);
    }
}

/// The file arguments of a command line: words separated by whitespace, where a word in double
/// or single quotes may hold spaces (`:load "my policies/repairs.pledge"`), and so may an
/// unquoted word whose spaces are escaped (`my\ policies/repairs.pledge`, as file completion
/// writes them). Otherwise a backslash is kept, so Windows paths keep theirs; quotes have no
/// escapes, and a path holding a double quote is written in single quotes. An unclosed quote is
/// an error naming it.
pub fn file_args(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == first {
                    closed = true;
                    break;
                }
                word.push(c);
            }
            if !closed {
                return Err(format!("the quote {first}{word} is not closed"));
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                // `my\ file.pledge`, as the terminal's file completion escapes a space.
                if c == '\\' {
                    if let Some(space) = chars.next_if(|c| c.is_whitespace()) {
                        word.push(space);
                        continue;
                    }
                }
                word.push(c);
            }
        }
        out.push(word);
    }
}

/// `path` as one file argument of a command line: quoted when it holds whitespace.
pub fn quote_file_arg(path: &str) -> String {
    if !path.chars().any(char::is_whitespace) && !path.starts_with(['"', '\'']) {
        path.to_string()
    } else if !path.contains('"') {
        format!("\"{path}\"")
    } else {
        format!("'{path}'")
    }
}

#[cfg(test)]
mod file_arg_tests {
    use super::*;

    #[test]
    fn quoted_paths_keep_their_spaces() {
        assert_eq!(
            file_args(r#"a.pledge "my file.pledge"  'it"s.pledge'"#).unwrap(),
            vec!["a.pledge", "my file.pledge", "it\"s.pledge"]
        );
        assert_eq!(
            file_args(r"my\ dir\a.pledge C:\x\y.pledge").unwrap(),
            vec![r"my dir\a.pledge", r"C:\x\y.pledge"]
        );
        assert_eq!(file_args("  ").unwrap(), Vec::<String>::new());
        assert!(file_args("\"open.pledge").is_err());
        for p in ["plain.pledge", "my file.pledge", "say \"hi\" x.pledge"] {
            assert_eq!(file_args(&quote_file_arg(p)).unwrap(), vec![p]);
        }
    }
}
