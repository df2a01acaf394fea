//! The editor support in `editors/` against the language it highlights.
//!
//! Highlighting files are written by hand and drift silently: a keyword added to the grammar
//! stays plain text in every editor, and nobody notices a misspelt word in a list that never
//! matches. So every keyword literal of `grammar/pledge.pest` must be in the word lists of the
//! TextMate grammar and of the Vim syntax file, in the category its grammar rule gives it, and
//! those lists may hold no word the grammar lacks. The TextMate grammar's expressions are
//! compiled and run over the shipped policies, and the copies of it for VS Code and Sublime Text
//! must be the grammar as it stands.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

const TEXTMATE: &str = "editors/pledge.tmLanguage.json";
const VSCODE_COPY: &str = "editors/vscode/syntaxes/pledge.tmLanguage.json";
const SUBLIME_COPY: &str = "editors/sublime/pledge.tmLanguage";
const VIM_SYNTAX: &str = "editors/vim/syntax/pledge.vim";

/// Set to rewrite the copies of the TextMate grammar instead of failing on them.
const UPDATE_VAR: &str = "PLEDGE_UPDATE_EDITORS";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// -------------------------------------------------------------------------------------------
// Categories
// -------------------------------------------------------------------------------------------

/// How an editor shows a word of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    /// Starts a policy, a calendar or a clause.
    Clause,
    /// Starts or continues an item inside a block (`within`, `from`, `escalate`, `all`).
    Item,
    /// Combines or tests conditions (`and`, `not`, `in`, `has`).
    Operator,
    /// A literal value spelt as a word (`true`, `null`, a verdict).
    Constant,
    /// Part of a literal: the unit of a duration or period.
    Unit,
    /// Part of a literal: a day of the week.
    Weekday,
    /// A letter after `\` in a string: highlighted by the escape pattern, not as a word.
    Escape,
}
use Category::*;

/// The categories the literals of a grammar rule may be shown in; `None` for a rule nobody has
/// classified yet, which fails the tests rather than guessing.
fn rule_categories(rule: &str) -> Option<&'static [Category]> {
    Some(match rule {
        "clause_kind" | "k_policy" | "k_calendar" => &[Clause],
        "k_and" | "k_or" | "k_not" | "k_in" | "k_has" => &[Operator],
        // The words no name may take: the operators above and the constants below.
        "reserved" => &[Operator, Constant],
        "boolean" | "null" | "verdict_word" | "type_name" => &[Constant],
        "action" | "quantifier" => &[Item],
        "time_unit" | "period_unit" => &[Unit],
        "weekday" => &[Weekday],
        "escape" => &[Escape],
        rule if rule.starts_with("k_") => &[Item],
        _ => return None,
    })
}

/// The category a TextMate scope shows its words in, by the conventional scope names.
fn scope_category(scope: &str) -> Option<Category> {
    if scope.starts_with("storage.type.") {
        Some(Clause)
    } else if scope.starts_with("keyword.other.unit.") {
        Some(Unit)
    } else if scope.starts_with("keyword.operator.") {
        Some(Operator)
    } else if scope.starts_with("keyword.") {
        Some(Item)
    } else if scope.starts_with("constant.language.weekday.") {
        Some(Weekday)
    } else if scope.starts_with("constant.language.") {
        Some(Constant)
    } else {
        None
    }
}

/// The category a Vim syntax group shows its words in.
fn vim_group_category(group: &str) -> Option<Category> {
    Some(match group {
        "pledgeClause" => Clause,
        "pledgeItem" | "pledgeQuantifier" => Item,
        "pledgeOperator" => Operator,
        "pledgeBoolean" | "pledgeConstant" | "pledgeVerdict" => Constant,
        "pledgeUnit" | "pledgePeriod" => Unit,
        "pledgeWeekday" => Weekday,
        _ => return None,
    })
}

// -------------------------------------------------------------------------------------------
// The grammar's keywords
// -------------------------------------------------------------------------------------------

/// An alphabetic literal of the pest grammar.
#[derive(Debug, PartialEq)]
struct Literal {
    rule: String,
    word: String,
    /// Written `^"..."`: matches in any case.
    case_insensitive: bool,
}

/// Every alphabetic string literal of a pest grammar, with the rule it is in.
fn pest_literals(grammar: &str) -> Vec<Literal> {
    let mut literals = Vec::new();
    let mut rule = String::new();
    for line in grammar.lines() {
        // A rule starts at the beginning of a line: `name = ...`.
        let head: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !head.is_empty() && line[head.len()..].trim_start().starts_with('=') {
            rule = head;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => break,
                '"' => {
                    let case_insensitive = i > 0 && chars[i - 1] == '^';
                    let mut text = String::new();
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' {
                            // `\t`, `\n`, `\u{3000}` are not letters; `\"` and `\\` are
                            // themselves.
                            i += 1;
                            match chars.get(i) {
                                Some('u') => {
                                    while i < chars.len() && chars[i] != '}' {
                                        i += 1;
                                    }
                                    text.push('\u{fffd}');
                                }
                                Some('n' | 't' | 'r' | '0') => text.push('\n'),
                                Some(&c) => text.push(c),
                                None => {}
                            }
                        } else {
                            text.push(chars[i]);
                        }
                        i += 1;
                    }
                    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic()) {
                        literals.push(Literal {
                            rule: rule.clone(),
                            word: text,
                            case_insensitive,
                        });
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    literals
}

/// The grammar's keyword literals, each with the categories it may be shown in.
fn grammar_words() -> BTreeMap<String, BTreeSet<Category>> {
    let mut words: BTreeMap<String, BTreeSet<Category>> = BTreeMap::new();
    let mut unclassified = BTreeSet::new();
    for literal in pest_literals(&read("grammar/pledge.pest")) {
        match rule_categories(&literal.rule) {
            Some(categories) => words
                .entry(literal.word)
                .or_default()
                .extend(categories.iter().copied()),
            None => {
                unclassified.insert(literal.rule);
            }
        }
    }
    assert!(
        unclassified.is_empty(),
        "grammar rules with keyword literals but no editor category (add them to \
         `rule_categories`): {unclassified:?}"
    );
    words
}

// -------------------------------------------------------------------------------------------
// Word lists in regular expressions
// -------------------------------------------------------------------------------------------

/// A group of a regular expression that is nothing but alternatives of words: `(a|b|c)`.
#[derive(Debug, PartialEq)]
struct WordGroup {
    words: Vec<String>,
    /// The numbers of the capture groups around the words, innermost first (the group itself
    /// when it captures).
    captures: Vec<usize>,
}

/// What a scan of an expression finds: its word groups, and the runs of two or more letters
/// outside any word group (a keyword written so that the tests cannot read it).
#[derive(Debug, Default, PartialEq)]
struct Scan {
    groups: Vec<WordGroup>,
    stray: Vec<String>,
}

fn alternatives(content: &str, separator: &str) -> Option<Vec<String>> {
    let words: Vec<String> = content.split(separator).map(str::to_owned).collect();
    let all_words = words
        .iter()
        .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()));
    all_words.then_some(words)
}

/// Letter runs of two or more letters that no word group covers.
fn stray_runs(chars: &[char], letters: &[(usize, usize)], spans: &[(usize, usize)]) -> Vec<String> {
    letters
        .iter()
        .filter(|&&(start, end)| end - start >= 2)
        .filter(|&&(start, end)| !spans.iter().any(|&(s, e)| s <= start && end <= e))
        .map(|&(start, end)| chars[start..end].iter().collect())
        .collect()
}

/// Skips a bracket expression starting at `i` (`[`), returning the index after its `]`.
fn skip_class(chars: &[char], mut i: usize) -> usize {
    i += 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() && chars[i] != ']' {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// Scans a TextMate (Oniguruma) expression for its word groups.
fn scan_textmate(re: &str) -> Scan {
    let chars: Vec<char> = re.chars().collect();
    let mut scan = Scan::default();
    let mut open: Vec<(Option<usize>, usize)> = Vec::new(); // (capture number, content start)
    let mut next_capture = 1;
    let mut letters = Vec::new();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' => i = skip_class(&chars, i),
            '(' if chars.get(i + 1) == Some(&'?') => {
                assert_eq!(
                    chars.get(i + 2),
                    Some(&':'),
                    "`{re}`: only `(?:` groups (no look-around: the tests compile the grammar \
                     with Rust's regex crate)"
                );
                open.push((None, i + 3));
                i += 3;
            }
            '(' => {
                open.push((Some(next_capture), i + 1));
                next_capture += 1;
                i += 1;
            }
            ')' => {
                let (capture, start) = open.pop().unwrap_or_else(|| panic!("`{re}`: unbalanced"));
                let content: String = chars[start..i].iter().collect();
                if let Some(words) = alternatives(&content, "|") {
                    let captures = capture
                        .into_iter()
                        .chain(open.iter().rev().filter_map(|(c, _)| *c))
                        .collect();
                    scan.groups.push(WordGroup { words, captures });
                    spans.push((start, i));
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                letters.push((start, i));
            }
            _ => i += 1,
        }
    }
    assert!(open.is_empty(), "`{re}`: unbalanced");
    scan.stray = stray_runs(&chars, &letters, &spans);
    scan
}

/// Scans a Vim pattern (magic) for its word groups (`\%(a\|b\)` or `\(a\|b\)`).
fn scan_vim(pattern: &str) -> Scan {
    let chars: Vec<char> = pattern.chars().collect();
    let mut scan = Scan::default();
    let mut open: Vec<usize> = Vec::new();
    let mut letters = Vec::new();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1).copied()) {
            ('\\', Some('(')) => {
                open.push(i + 2);
                i += 2;
            }
            ('\\', Some('%')) if chars.get(i + 2) == Some(&'(') => {
                open.push(i + 3);
                i += 3;
            }
            ('\\', Some(')')) => {
                let start = open
                    .pop()
                    .unwrap_or_else(|| panic!("`{pattern}`: unbalanced"));
                let content: String = chars[start..i].iter().collect();
                if let Some(words) = alternatives(&content, "\\|") {
                    scan.groups.push(WordGroup {
                        words,
                        captures: Vec::new(),
                    });
                    spans.push((start, i));
                }
                i += 2;
            }
            ('\\', Some('{')) => {
                while i < chars.len() && chars[i] != '}' {
                    i += 1;
                }
                i += 1;
            }
            // `\zs`, `\ze`: two letters after the backslash.
            ('\\', Some('z')) => i += 3,
            ('\\', Some('@')) => {
                i += 2;
                while i < chars.len() && "<=!>".contains(chars[i]) {
                    i += 1;
                }
            }
            ('\\', _) => i += 2,
            ('[', _) => i = skip_class(&chars, i),
            (c, _) if c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                letters.push((start, i));
            }
            _ => i += 1,
        }
    }
    assert!(open.is_empty(), "`{pattern}`: unbalanced");
    scan.stray = stray_runs(&chars, &letters, &spans);
    scan
}

// -------------------------------------------------------------------------------------------
// The TextMate grammar
// -------------------------------------------------------------------------------------------

fn textmate() -> Value {
    serde_json::from_str(&read(TEXTMATE)).expect("the TextMate grammar is JSON")
}

/// Every rule object of a TextMate grammar (those with `match`, `begin` or `patterns`).
fn textmate_rules(grammar: &Value) -> Vec<&Value> {
    fn walk<'a>(rule: &'a Value, out: &mut Vec<&'a Value>) {
        out.push(rule);
        if let Some(Value::Array(items)) = rule.get("patterns") {
            for item in items {
                walk(item, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(Value::Object(repository)) = grammar.get("repository") {
        for rule in repository.values() {
            walk(rule, &mut out);
        }
    }
    for rule in grammar["patterns"].as_array().expect("top-level patterns") {
        walk(rule, &mut out);
    }
    out
}

/// The scope a rule gives capture `n` of its expression, if it names one.
fn capture_scope(rule: &Value, captures_key: &str, n: usize) -> Option<String> {
    [captures_key, "captures"].into_iter().find_map(|key| {
        rule.get(key)
            .and_then(|c| c.get(n.to_string()))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

/// Every regular expression of the grammar, with the key holding its capture scopes.
fn textmate_expressions(rule: &Value) -> Vec<(&str, &'static str)> {
    [
        ("match", "captures"),
        ("begin", "beginCaptures"),
        ("end", "endCaptures"),
    ]
    .into_iter()
    .filter_map(|(key, captures)| {
        rule.get(key)
            .and_then(Value::as_str)
            .map(|re| (re, captures))
    })
    .collect()
}

/// The words of the TextMate grammar's word lists, each with the categories it is shown in,
/// and the stray words (letters outside a word list) of its expressions.
fn textmate_words(grammar: &Value) -> (BTreeMap<String, BTreeSet<Category>>, Vec<String>) {
    let mut words: BTreeMap<String, BTreeSet<Category>> = BTreeMap::new();
    let mut problems = Vec::new();
    for rule in textmate_rules(grammar) {
        for (re, captures_key) in textmate_expressions(rule) {
            let scan = scan_textmate(re);
            problems.extend(
                scan.stray
                    .iter()
                    .map(|w| format!("`{w}` outside a word list in `{re}`")),
            );
            for group in scan.groups {
                // The innermost capture with a scope, else the whole match's.
                let scope = group
                    .captures
                    .iter()
                    .chain([&0])
                    .find_map(|&n| capture_scope(rule, captures_key, n))
                    .or_else(|| rule.get("name").and_then(Value::as_str).map(str::to_owned));
                match scope.as_deref().and_then(scope_category) {
                    Some(category) => {
                        for word in group.words {
                            words.entry(word).or_default().insert(category);
                        }
                    }
                    None => problems.push(format!(
                        "the words {:?} of `{re}` have the scope {scope:?}, which no category \
                         has",
                        group.words
                    )),
                }
            }
        }
    }
    (words, problems)
}

// -------------------------------------------------------------------------------------------
// The Vim syntax file
// -------------------------------------------------------------------------------------------

/// Options of `:syn keyword`, which Vim reads as options wherever they stand in the list.
const VIM_KEYWORD_OPTIONS: [&str; 12] = [
    "contained",
    "transparent",
    "skipwhite",
    "skipnl",
    "skipempty",
    "display",
    "fold",
    "conceal",
    "concealends",
    "extend",
    "keepend",
    "excludenl",
];

/// The pattern starting at the delimiter `chars[i]`, and the index after its closing delimiter.
fn vim_pattern(chars: &[char], i: usize) -> (String, usize) {
    let delimiter = chars[i];
    let mut j = i + 1;
    while j < chars.len() && chars[j] != delimiter {
        j += if chars[j] == '\\' { 2 } else { 1 };
    }
    (chars[i + 1..j.min(chars.len())].iter().collect(), j + 1)
}

/// One `:syn keyword`, `:syn match` or `:syn region` line: its group, its keywords and its
/// patterns.
struct VimItem {
    group: String,
    keywords: Vec<String>,
    patterns: Vec<String>,
}

fn vim_items(syntax: &str) -> Vec<VimItem> {
    let mut items = Vec::new();
    for line in syntax.lines() {
        let mut parts = line.split_whitespace();
        if !matches!(parts.next(), Some("syn" | "syntax")) {
            continue;
        }
        let kind = parts.next().unwrap_or_default();
        let Some(group) = parts.next() else { continue };
        let rest_start = line.find(group).expect("group in line") + group.len();
        let rest: Vec<char> = line[rest_start..].chars().collect();
        let mut item = VimItem {
            group: group.to_owned(),
            keywords: Vec::new(),
            patterns: Vec::new(),
        };
        match kind {
            "keyword" => {
                item.keywords = rest
                    .iter()
                    .collect::<String>()
                    .split_whitespace()
                    .filter(|w| !w.contains('=') && !VIM_KEYWORD_OPTIONS.contains(w))
                    .map(str::to_owned)
                    .collect();
            }
            "match" => {
                let start = rest
                    .iter()
                    .position(|c| !c.is_whitespace())
                    .expect("a pattern");
                item.patterns.push(vim_pattern(&rest, start).0);
            }
            "region" => {
                // `start=+...+ skip=+...+ end=+...+`, among other arguments.
                let mut i = 0;
                while i < rest.len() {
                    if rest[i].is_whitespace() {
                        i += 1;
                        continue;
                    }
                    let key: String = rest[i..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .collect();
                    let after = i + key.len();
                    if ["start", "skip", "end"].contains(&key.as_str())
                        && rest.get(after) == Some(&'=')
                    {
                        let (pattern, next) = vim_pattern(&rest, after + 1);
                        item.patterns.push(pattern);
                        i = next;
                    } else {
                        while i < rest.len() && !rest[i].is_whitespace() {
                            i += 1;
                        }
                    }
                }
            }
            _ => continue,
        }
        items.push(item);
    }
    items
}

/// The words of the Vim file's keyword lists and word groups, with the categories they are
/// shown in, and the problems found (stray words, groups without a category).
fn vim_words(syntax: &str) -> (BTreeMap<String, BTreeSet<Category>>, Vec<String>) {
    let mut words: BTreeMap<String, BTreeSet<Category>> = BTreeMap::new();
    let mut problems = Vec::new();
    for item in vim_items(syntax) {
        let mut listed = item.keywords.clone();
        for pattern in &item.patterns {
            let scan = scan_vim(pattern);
            problems.extend(
                scan.stray
                    .iter()
                    .map(|w| format!("`{w}` outside a word list in `{pattern}`")),
            );
            listed.extend(scan.groups.into_iter().flat_map(|g| g.words));
        }
        if listed.is_empty() {
            continue;
        }
        match vim_group_category(&item.group) {
            Some(category) => {
                for word in listed {
                    words.entry(word).or_default().insert(category);
                }
            }
            None => problems.push(format!(
                "the words {listed:?} of group `{}` have no category",
                item.group
            )),
        }
    }
    (words, problems)
}

// -------------------------------------------------------------------------------------------
// The drift checks
// -------------------------------------------------------------------------------------------

/// The grammar's keywords (escape letters aside) that `listed` misses in every category the
/// grammar allows.
fn missing(
    grammar: &BTreeMap<String, BTreeSet<Category>>,
    listed: &BTreeMap<String, BTreeSet<Category>>,
) -> Vec<String> {
    grammar
        .iter()
        .filter(|(_, allowed)| !allowed.contains(&Escape))
        .filter(|(word, allowed)| {
            listed
                .get(*word)
                .is_none_or(|shown| shown.is_disjoint(allowed))
        })
        .map(|(word, allowed)| format!("{word} (as {allowed:?})"))
        .collect()
}

/// The words of `listed` the grammar does not have, or has in no category they are shown in.
fn invented(
    grammar: &BTreeMap<String, BTreeSet<Category>>,
    listed: &BTreeMap<String, BTreeSet<Category>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (word, shown) in listed {
        match grammar.get(word) {
            None => out.push(format!("{word}: not a literal of the grammar")),
            Some(allowed) => {
                for category in shown.difference(allowed) {
                    out.push(format!(
                        "{word}: shown as {category:?}, the grammar has it as {allowed:?}"
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn the_grammar_has_keywords_in_every_category() {
    // The extraction itself: were it to find nothing, every drift check would pass.
    let words = grammar_words();
    for (word, category) in [
        ("deadline", Clause),
        ("policy", Clause),
        ("within", Item),
        ("escalate", Item),
        ("and", Operator),
        ("true", Constant),
        ("breached", Constant),
        ("hours", Unit),
        ("quarter", Unit),
        ("mon", Weekday),
        ("n", Escape),
    ] {
        assert!(
            words.get(word).is_some_and(|c| c.contains(&category)),
            "{word} as {category:?}: {:?}",
            words.get(word)
        );
    }
    assert!(words.len() > 80, "{}", words.len());
}

#[test]
fn the_pest_extraction_reads_literals_as_pest_does() {
    let grammar = r#"// "comment" is not a literal
a_rule = @{ "alpha" ~ ^"Beta" ~ "==" ~ "u{" ~ "it's" }
other  = { "\"" ~ "x" ~ "\t" ~ "\u{3000}" } // "trailing"
"#;
    let literal = |rule: &str, word: &str, case_insensitive| Literal {
        rule: rule.into(),
        word: word.into(),
        case_insensitive,
    };
    assert_eq!(
        pest_literals(grammar),
        vec![
            literal("a_rule", "alpha", false),
            literal("a_rule", "Beta", true),
            literal("other", "x", false),
        ]
    );
}

#[test]
fn no_keyword_of_the_grammar_is_case_insensitive() {
    // The editors match keywords in their case; a `^"..."` keyword would need `(?i)` in the
    // TextMate grammar and `syn case ignore` in Vim.
    let insensitive: Vec<_> = pest_literals(&read("grammar/pledge.pest"))
        .into_iter()
        .filter(|l| l.case_insensitive)
        .collect();
    assert!(insensitive.is_empty(), "{insensitive:?}");
}

#[test]
fn every_keyword_of_the_grammar_is_in_the_textmate_grammar() {
    let (listed, _) = textmate_words(&textmate());
    let missing = missing(&grammar_words(), &listed);
    assert!(
        missing.is_empty(),
        "not highlighted in {TEXTMATE}: {missing:#?}"
    );
}

#[test]
fn the_textmate_grammar_lists_no_word_the_grammar_lacks() {
    let (listed, problems) = textmate_words(&textmate());
    let invented = invented(&grammar_words(), &listed);
    assert!(problems.is_empty(), "{TEXTMATE}: {problems:#?}");
    assert!(invented.is_empty(), "{TEXTMATE}: {invented:#?}");
}

#[test]
fn every_keyword_of_the_grammar_is_in_the_vim_syntax() {
    let (listed, _) = vim_words(&read(VIM_SYNTAX));
    let missing = missing(&grammar_words(), &listed);
    assert!(
        missing.is_empty(),
        "not highlighted in {VIM_SYNTAX}: {missing:#?}"
    );
}

#[test]
fn the_vim_syntax_lists_no_word_the_grammar_lacks() {
    let (listed, problems) = vim_words(&read(VIM_SYNTAX));
    let invented = invented(&grammar_words(), &listed);
    assert!(problems.is_empty(), "{VIM_SYNTAX}: {problems:#?}");
    assert!(invented.is_empty(), "{VIM_SYNTAX}: {invented:#?}");
}

#[test]
fn the_drift_checks_fail_on_a_missing_or_invented_keyword() {
    let grammar = grammar_words();
    // A listing that is right, then three mistakes.
    let mut listed = grammar.clone();
    listed.retain(|_, categories| !categories.contains(&Escape));
    assert!(missing(&grammar, &listed).is_empty());
    assert!(invented(&grammar, &listed).is_empty());
    listed.remove("within");
    listed.insert("wihtin".into(), [Item].into());
    listed.get_mut("hours").expect("hours").insert(Clause);
    assert_eq!(missing(&grammar, &listed), ["within (as {Item})"]);
    assert_eq!(
        invented(&grammar, &listed),
        [
            "hours: shown as Clause, the grammar has it as {Item, Unit}",
            "wihtin: not a literal of the grammar"
        ]
    );

    // A word outside a word list, and one in a scope without a category, are reported.
    let tm: Value = serde_json::from_str(
        r#"{"patterns": [{"match": "\\bfoo\\b", "name": "keyword.other.x"},
                         {"match": "\\b(bar|baz)\\b", "name": "comment.x"}]}"#,
    )
    .expect("json");
    let (words, problems) = textmate_words(&tm);
    assert!(words.is_empty(), "{words:?}");
    assert_eq!(problems.len(), 2, "{problems:?}");

    let vim = "syn keyword pledgeItem within contained nextgroup=x\n\
               syn match pledgeUnit \"\\<\\d\\+\\s*\\%(hours\\|days\\)\\>\"\n\
               syn match pledgeName \"\\<foo\\>\"\n\
               syn keyword pledgeTodo TODO\n";
    let (words, problems) = vim_words(vim);
    assert_eq!(
        words.into_iter().collect::<Vec<_>>(),
        [
            ("days".to_owned(), [Unit].into()),
            ("hours".to_owned(), [Unit].into()),
            ("within".to_owned(), [Item].into()),
        ]
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn the_expression_scanners_find_word_groups_and_stray_words() {
    assert_eq!(
        scan_textmate(r"^\s*(?:(per)\s+(day|week))\b[a-z]+\d{1,2}\w"),
        Scan {
            groups: vec![
                WordGroup {
                    words: vec!["per".into()],
                    captures: vec![1],
                },
                WordGroup {
                    words: vec!["day".into(), "week".into()],
                    captures: vec![2],
                },
            ],
            stray: vec![],
        }
    );
    assert_eq!(scan_textmate(r"\bnotify\b|(x)").stray, ["notify"]);
    assert_eq!(
        scan_vim(r"^\s*\%(notify\|every\)\>\zs\h\w*\@<=\{1,2}[abc]ok").groups,
        [WordGroup {
            words: vec!["notify".into(), "every".into()],
            captures: vec![],
        }]
    );
    assert_eq!(scan_vim(r"\<per\s\+\zs\%(day\)").stray, ["per"]);
}

#[test]
fn string_escapes_of_the_grammar_are_highlighted() {
    let grammar = grammar_words();
    let letters: Vec<&String> = grammar
        .iter()
        .filter(|(_, c)| c.contains(&Escape))
        .map(|(w, _)| w)
        .collect();
    assert!(!letters.is_empty());

    let tm = textmate();
    let escape = textmate_rules(&tm)
        .into_iter()
        .find(|r| r["name"].as_str() == Some("constant.character.escape.pledge"))
        .and_then(|r| r["match"].as_str())
        .map(|re| Regex::new(&format!("^(?:{re})$")).expect("compiles"))
        .expect("an escape pattern");
    for letter in &letters {
        assert!(escape.is_match(&format!("\\{letter}")), "\\{letter}");
    }
    for good in [r#"\""#, r"\\", r"\u{4e86}"] {
        assert!(escape.is_match(good), "{good}");
    }
    for bad in [r"\q", r"\u{}", r"\u{1234567}"] {
        assert!(!escape.is_match(bad), "{bad}");
    }

    let vim = vim_items(&read(VIM_SYNTAX))
        .into_iter()
        .find(|i| i.group == "pledgeEscape")
        .expect("a Vim escape pattern");
    let class: String = vim.patterns[0]
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("a class of escape letters")
        .0
        .into();
    for letter in &letters {
        assert!(class.contains(letter.as_str()), "\\{letter} in `{class}`");
    }
}

// -------------------------------------------------------------------------------------------
// The TextMate grammar at work
// -------------------------------------------------------------------------------------------

/// A rule of the grammar, compiled.
enum Rule {
    Match {
        name: Option<String>,
        re: Regex,
        captures: HashMap<usize, String>,
    },
    Region {
        name: Option<String>,
        content_name: Option<String>,
        begin: Regex,
        begin_captures: HashMap<usize, String>,
        end: Regex,
        end_captures: HashMap<usize, String>,
        patterns: Vec<usize>,
    },
}

/// The TextMate grammar compiled into rules, its include references resolved: enough of a
/// TextMate engine to tokenize a policy line by line as the editors do.
struct Engine {
    rules: Vec<Rule>,
    top: Vec<usize>,
}

impl Engine {
    fn new(grammar: &Value) -> Engine {
        let mut engine = Engine {
            rules: Vec::new(),
            top: Vec::new(),
        };
        let mut done = HashMap::new();
        engine.top = engine.compile_list(grammar, &grammar["patterns"], &mut done, 0);
        engine
    }

    fn compile_list(
        &mut self,
        grammar: &Value,
        list: &Value,
        done: &mut HashMap<String, Vec<usize>>,
        depth: usize,
    ) -> Vec<usize> {
        assert!(depth < 20, "include cycle");
        let mut ids = Vec::new();
        for rule in list.as_array().expect("a list of patterns") {
            ids.extend(self.compile(grammar, rule, done, depth + 1));
        }
        ids
    }

    fn compile(
        &mut self,
        grammar: &Value,
        rule: &Value,
        done: &mut HashMap<String, Vec<usize>>,
        depth: usize,
    ) -> Vec<usize> {
        let regex = |key: &str| {
            let re = rule[key].as_str().expect("an expression");
            Regex::new(re).unwrap_or_else(|e| panic!("`{re}` does not compile: {e}"))
        };
        let captures = |key: &str| -> HashMap<usize, String> {
            rule.get(key)
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(n, c)| {
                            (
                                n.parse().expect("a capture number"),
                                c["name"].as_str().expect("a capture scope").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let name = rule.get("name").and_then(Value::as_str).map(str::to_owned);
        if let Some(include) = rule.get("include").and_then(Value::as_str) {
            let key = include
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("only local includes: {include}"));
            if let Some(ids) = done.get(key) {
                return ids.clone();
            }
            let target = grammar["repository"]
                .get(key)
                .unwrap_or_else(|| panic!("`{include}` is not in the repository"));
            let ids = self.compile(grammar, target, done, depth + 1);
            done.insert(key.to_owned(), ids.clone());
            return ids;
        }
        let rule_out = if rule.get("match").is_some() {
            Rule::Match {
                name,
                re: regex("match"),
                captures: captures("captures"),
            }
        } else if rule.get("begin").is_some() {
            let patterns = match rule.get("patterns") {
                Some(list) => self.compile_list(grammar, list, done, depth),
                None => Vec::new(),
            };
            let mut begin_captures = captures("captures");
            begin_captures.extend(captures("beginCaptures"));
            let mut end_captures = captures("captures");
            end_captures.extend(captures("endCaptures"));
            Rule::Region {
                name,
                content_name: rule
                    .get("contentName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                begin: regex("begin"),
                begin_captures,
                end: regex("end"),
                end_captures,
                patterns,
            }
        } else {
            return self.compile_list(grammar, &rule["patterns"], done, depth);
        };
        self.rules.push(rule_out);
        vec![self.rules.len() - 1]
    }

    /// The scopes of every byte of every line of `source` (without `source.pledge`), as a
    /// TextMate engine finds them: at each place the earliest match wins, at the same place
    /// the open region's end and then the first pattern.
    fn tokenize(&self, source: &str) -> Vec<(String, Vec<Vec<String>>)> {
        let mut stack: Vec<usize> = Vec::new(); // the open regions, innermost last
        let mut out = Vec::new();
        for line in source.lines() {
            let mut scopes: Vec<Vec<String>> = vec![Vec::new(); line.len()];
            let mut pos = 0;
            for _ in 0..10_000 {
                let Some((id, caps)) = self.next_match(&stack, line, pos) else {
                    break;
                };
                let whole = caps.get(0).expect("a match");
                let inside = self.region_scopes(&stack, true);
                for s in &mut scopes[pos..whole.start()] {
                    s.clone_from(&inside);
                }
                let paint = |scopes: &mut [Vec<String>],
                             base: &[String],
                             captures: &HashMap<usize, String>| {
                    for s in &mut scopes[whole.range()] {
                        s.clear();
                        s.extend_from_slice(base);
                    }
                    let mut numbers: Vec<_> = captures.keys().copied().collect();
                    numbers.sort_unstable();
                    for n in numbers {
                        if let Some(m) = caps.get(n) {
                            for s in &mut scopes[m.range()] {
                                s.push(captures[&n].clone());
                            }
                        }
                    }
                };
                let mut progress = !whole.is_empty();
                match id.map(|id| &self.rules[id]) {
                    None => {
                        let end_captures = match stack.last().map(|&id| &self.rules[id]) {
                            Some(Rule::Region { end_captures, .. }) => end_captures,
                            _ => unreachable!("an end without a region"),
                        };
                        paint(
                            &mut scopes,
                            &self.region_scopes(&stack, false),
                            end_captures,
                        );
                        stack.pop();
                        progress = true;
                    }
                    Some(Rule::Match { name, captures, .. }) => {
                        let mut base = inside.clone();
                        base.extend(name.clone());
                        paint(&mut scopes, &base, captures);
                    }
                    Some(Rule::Region { begin_captures, .. }) => {
                        stack.push(id.expect("a rule"));
                        paint(
                            &mut scopes,
                            &self.region_scopes(&stack, false),
                            begin_captures,
                        );
                        progress = true;
                    }
                }
                pos = whole.end();
                if !progress {
                    // An empty match that changes nothing: step over one character.
                    match line[pos..].chars().next() {
                        Some(c) => pos += c.len_utf8(),
                        None => break,
                    }
                }
            }
            let rest = self.region_scopes(&stack, true);
            for s in &mut scopes[pos..] {
                s.clone_from(&rest);
            }
            out.push((line.to_owned(), scopes));
        }
        out
    }

    /// The scopes of the open regions; `inner` for text between the innermost one's begin and
    /// end (its `contentName` too).
    fn region_scopes(&self, stack: &[usize], inner: bool) -> Vec<String> {
        let mut scopes = Vec::new();
        for (depth, &id) in stack.iter().enumerate() {
            if let Rule::Region {
                name, content_name, ..
            } = &self.rules[id]
            {
                scopes.extend(name.clone());
                if inner || depth + 1 < stack.len() {
                    scopes.extend(content_name.clone());
                }
            }
        }
        scopes
    }

    /// The match that wins at or after `pos`: the rule (`None` for the open region's end) and
    /// its captures.
    fn next_match<'h>(
        &self,
        stack: &[usize],
        line: &'h str,
        pos: usize,
    ) -> Option<(Option<usize>, regex::Captures<'h>)> {
        let (end, candidates) = match stack.last().map(|&id| &self.rules[id]) {
            Some(Rule::Region { end, patterns, .. }) => (Some(end), patterns.as_slice()),
            Some(Rule::Match { .. }) => unreachable!("a match is never open"),
            None => (None, self.top.as_slice()),
        };
        let start = |c: &regex::Captures| c.get(0).expect("a match").start();
        let mut best = end
            .and_then(|end| end.captures_at(line, pos))
            .map(|c| (None, c));
        for &id in candidates {
            let re = match &self.rules[id] {
                Rule::Match { re, .. } => re,
                Rule::Region { begin, .. } => begin,
            };
            if let Some(c) = re.captures_at(line, pos) {
                if best.as_ref().is_none_or(|(_, b)| start(&c) < start(b)) {
                    best = Some((Some(id), c));
                }
            }
        }
        best
    }

    /// The tokens of one line: runs of bytes with the same innermost scope, blanks left out.
    fn tokens(&self, line: &str) -> Vec<(String, String)> {
        let (line, scopes) = self.tokenize(line).pop().expect("one line");
        let mut tokens: Vec<(String, String)> = Vec::new();
        let mut last: Option<&[String]> = None;
        for (i, c) in line.char_indices() {
            let scope = scopes[i].last().cloned().unwrap_or_default();
            match tokens.last_mut() {
                Some((text, s)) if last == Some(scopes[i].as_slice()) && *s == scope => {
                    text.push(c)
                }
                _ => tokens.push((c.to_string(), scope)),
            }
            last = Some(scopes[i].as_slice());
        }
        tokens.retain(|(text, _)| !text.trim().is_empty());
        tokens
    }
}

#[test]
fn the_textmate_grammar_is_valid_and_compiles() {
    let grammar = textmate();
    assert_eq!(grammar["scopeName"], "source.pledge");
    assert_eq!(grammar["name"], "pledge");
    assert_eq!(grammar["fileTypes"], serde_json::json!(["pledge"]));
    // Compiling resolves every include and compiles every expression.
    let engine = Engine::new(&grammar);
    assert!(engine.rules.len() > 30, "{}", engine.rules.len());
    for rule in textmate_rules(&grammar) {
        for (re, _) in textmate_expressions(rule) {
            Regex::new(re).unwrap_or_else(|e| panic!("`{re}`: {e}"));
        }
    }
}

/// Whitespace as the grammar has it (`WHITESPACE`): the only text that needs no scope.
fn blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{3000}' | '\u{feff}')
}

fn shipped_policies() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["policies", "examples"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "pledge") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    files
}

#[test]
fn every_token_of_the_shipped_policies_is_highlighted() {
    let engine = Engine::new(&textmate());
    let mut seen = BTreeSet::new();
    for path in shipped_policies() {
        let source = std::fs::read_to_string(&path).expect("a policy");
        for (number, (line, scopes)) in engine.tokenize(&source).iter().enumerate() {
            for (i, c) in line.char_indices() {
                assert!(
                    blank(c) || !scopes[i].is_empty(),
                    "{}:{}: `{c}` at byte {i} has no scope in `{line}`",
                    path.strip_prefix(root()).unwrap_or(&path).display(),
                    number + 1
                );
                if let Some(category) = scopes[i].iter().rev().find_map(|s| scope_category(s)) {
                    seen.insert(category);
                }
            }
        }
    }
    // The word lists are not shadowed: each kind of word is found in the shipped policies.
    let expected: BTreeSet<_> = [Clause, Item, Operator, Constant, Unit, Weekday].into();
    assert_eq!(seen, expected);
}

#[test]
fn words_that_depend_on_their_place_get_the_scope_of_their_place() {
    let engine = Engine::new(&textmate());
    let clause = "storage.type.clause.pledge";
    let item = "keyword.other.pledge";
    let unit = "keyword.other.unit.pledge";
    let number = "constant.numeric.pledge";
    let time = "constant.numeric.time.pledge";
    let name = "variable.other.pledge";
    let cases: [(&str, &[(&str, &str)]); 14] = [
        (
            r#"policy "a\"b\q" {"#,
            &[
                ("policy", "storage.type.policy.pledge"),
                ("\"", "punctuation.definition.string.begin.pledge"),
                ("a", "entity.name.section.pledge"),
                ("\\\"", "constant.character.escape.pledge"),
                ("b", "entity.name.section.pledge"),
                ("\\q", "invalid.illegal.unrecognized-escape.pledge"),
                ("\"", "punctuation.definition.string.end.pledge"),
                ("{", "punctuation.section.block.begin.pledge"),
            ],
        ),
        (
            r#"  include calendar "../c.toml" as cn_2026"#,
            &[
                ("include", item),
                ("calendar", "storage.type.pledge"),
                ("\"", "punctuation.definition.string.begin.pledge"),
                ("../c.toml", "string.quoted.double.pledge"),
                ("\"", "punctuation.definition.string.end.pledge"),
                ("as", item),
                ("cn_2026", "entity.name.type.calendar.pledge"),
            ],
        ),
        (
            "    hours mon..fri 08:30-12:00, 13:30-18:00",
            &[
                ("hours", item),
                ("mon", "constant.language.weekday.pledge"),
                ("..", "keyword.operator.range.pledge"),
                ("fri", "constant.language.weekday.pledge"),
                ("08:30", time),
                ("-", "punctuation.separator.range.pledge"),
                ("12:00", time),
                (",", "punctuation.separator.comma.pledge"),
                ("13:30", time),
                ("-", "punctuation.separator.range.pledge"),
                ("18:00", time),
            ],
        ),
        (
            r#"  deadline reply_2h "两小时 # 内" { # why"#,
            &[
                ("deadline", clause),
                ("reply_2h", "entity.name.function.clause.pledge"),
                ("\"", "punctuation.definition.string.begin.pledge"),
                ("两小时 # 内", "entity.name.section.pledge"),
                ("\"", "punctuation.definition.string.end.pledge"),
                ("{", "punctuation.section.block.begin.pledge"),
                ("#", "punctuation.definition.comment.pledge"),
                (" why", "comment.line.number-sign.pledge"),
            ],
        ),
        (
            r#"    cite s001-quality-fix-same-day "seed""#,
            &[
                ("cite", item),
                ("s001-quality-fix-same-day", "constant.other.row-id.pledge"),
                ("\"", "punctuation.definition.string.begin.pledge"),
                ("seed", "string.quoted.double.pledge"),
                ("\"", "punctuation.definition.string.end.pledge"),
            ],
        ),
        (
            "    within 4 business hours on office",
            &[
                ("within", item),
                ("4", number),
                ("business", item),
                ("hours", unit),
                ("on", item),
                ("office", name),
            ],
        ),
        (
            "    workday length 1 hour 30 minutes",
            &[
                ("workday", item),
                ("length", item),
                ("1", number),
                ("hour", unit),
                ("30", number),
                ("minutes", unit),
            ],
        ),
        (
            "    by 08:00 next day on office",
            &[
                ("by", item),
                ("08:00", time),
                ("next", item),
                ("day", item),
                ("on", item),
                ("office", name),
            ],
        ),
        (
            "    drilled at least 1 per day",
            &[
                ("drilled", name),
                ("at", item),
                ("least", item),
                ("1", number),
                ("per", item),
                ("day", unit),
            ],
        ),
        (
            r#"    when kind != "x" and not done in [-2.5, true, null] or has photo"#,
            &[
                ("when", item),
                ("kind", name),
                ("!=", "keyword.operator.comparison.pledge"),
                ("\"", "punctuation.definition.string.begin.pledge"),
                ("x", "string.quoted.double.pledge"),
                ("\"", "punctuation.definition.string.end.pledge"),
                ("and", "keyword.operator.word.pledge"),
                ("not", "keyword.operator.word.pledge"),
                ("done", name),
                ("in", "keyword.operator.word.pledge"),
                ("[", "punctuation.section.brackets.begin.pledge"),
                ("-2.5", number),
                (",", "punctuation.separator.comma.pledge"),
                ("true", "constant.language.boolean.pledge"),
                (",", "punctuation.separator.comma.pledge"),
                ("null", "constant.language.null.pledge"),
                ("]", "punctuation.section.brackets.end.pledge"),
                ("or", "keyword.operator.word.pledge"),
                ("has", "keyword.operator.word.pledge"),
                ("photo", name),
            ],
        ),
        (
            "    at 80% notify supervisor",
            &[
                ("at", item),
                ("80%", "constant.numeric.percentage.pledge"),
                ("notify", "keyword.other.action.pledge"),
                ("supervisor", name),
            ],
        ),
        (
            "  every patrol {",
            &[
                ("every", clause),
                ("patrol", "entity.name.function.clause.pledge"),
                ("{", "punctuation.section.block.begin.pledge"),
            ],
        ),
        (
            "    patrolled every 2 days",
            &[
                ("patrolled", name),
                ("every", item),
                ("2", number),
                ("days", unit),
            ],
        ),
        (
            "    ratio breached of x per month inspected only 04-01..05-31 effective 2026-01-01..",
            &[
                ("ratio", item),
                ("breached", "constant.language.verdict.pledge"),
                ("of", item),
                ("x", name),
                ("per", item),
                ("month", unit),
                ("inspected", name),
                ("only", item),
                ("04-01", "constant.numeric.date.month-day.pledge"),
                ("..", "keyword.operator.range.pledge"),
                ("05-31", "constant.numeric.date.month-day.pledge"),
                ("effective", item),
                ("2026-01-01", "constant.numeric.date.pledge"),
                ("..", "keyword.operator.range.pledge"),
            ],
        ),
    ];
    for (line, expected) in cases {
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(t, s)| (t.to_string(), s.to_string()))
            .collect();
        assert_eq!(engine.tokens(line), expected, "`{line}`");
    }
    assert_eq!(
        engine.tokens("    channels all [sms]"),
        [
            ("channels", item),
            ("all", "keyword.other.quantifier.pledge"),
            ("[", "punctuation.section.brackets.begin.pledge"),
            ("sms", name),
            ("]", "punctuation.section.brackets.end.pledge"),
        ]
        .map(|(t, s)| (t.to_owned(), s.to_owned()))
    );
}

// -------------------------------------------------------------------------------------------
// The copies for each editor
// -------------------------------------------------------------------------------------------

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A JSON value as an Apple property list, the form of TextMate grammar Sublime Text reads.
fn plist(value: &Value) -> String {
    fn write(value: &Value, depth: usize, out: &mut String) {
        let indent = "\t".repeat(depth);
        match value {
            Value::Object(map) => {
                out.push_str(&format!("{indent}<dict>\n"));
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    out.push_str(&format!("{indent}\t<key>{}</key>\n", escape_xml(key)));
                    write(&map[key], depth + 1, out);
                }
                out.push_str(&format!("{indent}</dict>\n"));
            }
            Value::Array(items) => {
                out.push_str(&format!("{indent}<array>\n"));
                for item in items {
                    write(item, depth + 1, out);
                }
                out.push_str(&format!("{indent}</array>\n"));
            }
            Value::String(s) => {
                out.push_str(&format!("{indent}<string>{}</string>\n", escape_xml(s)))
            }
            Value::Bool(b) => out.push_str(&format!("{indent}<{b}/>\n")),
            Value::Number(n) => out.push_str(&format!("{indent}<integer>{n}</integer>\n")),
            Value::Null => panic!("a property list has no null"),
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n",
    );
    write(value, 0, &mut out);
    out.push_str("</plist>\n");
    out
}

/// Compares a copy with what it should hold; rewrites it instead when `PLEDGE_UPDATE_EDITORS`
/// is set.
fn check_copy(path: &str, expected: &str) {
    let full = root().join(path);
    if std::env::var_os(UPDATE_VAR).is_some() {
        std::fs::write(&full, expected).expect("write the copy");
        return;
    }
    let actual = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        actual == expected,
        "{path} is not the grammar in {TEXTMATE}; run `{UPDATE_VAR}=1 cargo test --test editors`"
    );
}

#[test]
fn the_copies_for_vscode_and_sublime_text_are_the_grammar() {
    let source = read(TEXTMATE);
    check_copy(VSCODE_COPY, &source);
    check_copy(SUBLIME_COPY, &plist(&textmate()));
}

#[test]
fn the_property_list_escapes_and_orders() {
    let value = serde_json::json!({"b": ["<=", true], "a": "x & y"});
    assert_eq!(
        plist(&value).lines().skip(3).collect::<Vec<_>>(),
        [
            "<dict>",
            "\t<key>a</key>",
            "\t<string>x &amp; y</string>",
            "\t<key>b</key>",
            "\t<array>",
            "\t\t<string>&lt;=</string>",
            "\t\t<true/>",
            "\t</array>",
            "</dict>",
            "</plist>",
        ]
    );
}

#[test]
fn the_vscode_extension_contributes_the_language_and_grammar() {
    let dir = root().join("editors/vscode");
    let json = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let manifest = json("package.json");
    // No build step: nothing to install, no code to run.
    for key in [
        "main",
        "browser",
        "scripts",
        "dependencies",
        "devDependencies",
    ] {
        assert!(manifest.get(key).is_none(), "package.json has `{key}`");
    }
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "pledge");
    assert_eq!(language["extensions"], serde_json::json!([".pledge"]));
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "pledge");
    assert_eq!(grammar["scopeName"], textmate()["scopeName"]);
    let path = |v: &Value| Path::new(v.as_str().expect("a path")).to_owned();
    assert_eq!(dir.join(path(&grammar["path"])), root().join(VSCODE_COPY));

    let configuration = json(path(&language["configuration"]).to_str().expect("utf-8"));
    assert_eq!(configuration["comments"]["lineComment"], "#");
    assert_eq!(
        configuration["brackets"],
        serde_json::json!([["{", "}"], ["[", "]"], ["(", ")"]])
    );
    let pairs = configuration["autoClosingPairs"].as_array().expect("pairs");
    assert!(pairs
        .iter()
        .any(|p| p["open"] == "\"" && p["close"] == "\""));
}

#[test]
fn vim_detects_policy_files() {
    let detect = read("editors/vim/ftdetect/pledge.vim");
    assert!(detect.contains("*.pledge") && detect.contains("setfiletype pledge"));
    let syntax = read(VIM_SYNTAX);
    assert!(syntax.contains("let b:current_syntax = \"pledge\""));
}
