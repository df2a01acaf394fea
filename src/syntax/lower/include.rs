//! What every `include … "PATH" as NAME` declaration shares, whatever the file holds (a holiday
//! schedule, a register): the path and the name it is known by, the rule that the path is
//! relative to the policy file (so a policy given as text, in the REPL or from a host, can
//! include nothing), the file's extension, and reading it. Each kind of file then parses its
//! text its own way and reports its own errors against the file it came from.

use crate::policy::Span;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;
use std::path::PathBuf;

use super::Lowerer;

/// The parts of an `include` declaration, before the file is read.
pub(super) struct Include {
    /// The whole declaration.
    pub span: Span,
    /// The path as written, unescaped.
    pub path: String,
    pub path_span: Span,
    /// The name the policy uses for the file's content.
    pub alias: String,
    pub alias_span: Span,
}

/// How one kind of included file is named and checked: its messages and codes.
pub(super) struct FileKind {
    /// The extension the file must have, with its dot (`.csv`).
    pub extension: &'static str,
    /// Said when the policy has no file to be relative to.
    pub unavailable: &'static str,
    pub unavailable_help: &'static str,
    /// Code, message (`{path}` is replaced), label and help when the extension is wrong.
    pub wrong_extension: (&'static str, &'static str, &'static str, &'static str),
    /// Code and message prefix (`cannot read …`) when the file cannot be read.
    pub unreadable: (&'static str, &'static str),
}

impl Lowerer<'_> {
    /// Splits an `include` declaration into its path and name; `None` only on a parse tree
    /// the grammar cannot produce.
    pub(super) fn include_parts(&mut self, pair: Pair<'_, Rule>) -> Option<Include> {
        let span = Self::span(&pair);
        let mut inner = pair
            .into_inner()
            .filter(|p| matches!(p.as_rule(), Rule::string | Rule::name));
        let (path_pair, alias_pair) = (inner.next()?, inner.next()?);
        let path_span = Self::span(&path_pair);
        let alias_span = Self::span(&alias_pair);
        let path = self.string(path_pair);
        Some(Include {
            span,
            path,
            path_span,
            alias: alias_pair.as_str().to_string(),
            alias_span,
        })
    }

    /// Reads an included file relative to the policy file, reporting (and returning `None`
    /// for) a policy with no file, a wrong extension and an unreadable file.
    pub(super) fn read_include(
        &mut self,
        include: &Include,
        kind: &FileKind,
    ) -> Option<(PathBuf, String)> {
        let Some(base) = self.base_dir else {
            self.err(
                "pledge::include::unavailable",
                include.span,
                kind.unavailable,
                "include",
            )
            .set_help(kind.unavailable_help);
            return None;
        };
        let path = &include.path;
        if !path.ends_with(kind.extension) {
            let (code, message, label, help) = kind.wrong_extension;
            self.err(
                code,
                include.path_span,
                message.replace("{path}", path),
                label,
            )
            .set_help(help);
            return None;
        }
        let full = base.join(path);
        match crate::limits::read_text_at_most(&full, crate::limits::MAX_INCLUDED_BYTES) {
            Ok(text) => Some((full, text)),
            Err(e) => {
                let (code, what) = kind.unreadable;
                self.err(
                    code,
                    include.path_span,
                    format!("cannot read {what}`{path}`: {e}"),
                    "this file",
                )
                .set_help("the path is relative to the policy file");
                None
            }
        }
    }
}
