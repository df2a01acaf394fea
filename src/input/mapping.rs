//! Mapping files: how the columns of a work-order export (one row per ticket) become events.
//!
//! Ticketing systems export work orders as one row per ticket, with one column per step
//! (报修时间, 派单时间, 到场时间, 完成时间, 回访时间...) and columns for the case's attributes (类型,
//! 项目, 满意度...). A mapping is a small TOML file a quality officer writes once per export
//! layout; column names are written as the header shows them:
//!
//! ```toml
//! sheet = "工单"             # xlsx only; default: the first sheet
//! header_row = 1             # the row of column names, as the spreadsheet numbers it
//! zone = "Asia/Shanghai"     # local times of the export
//! ticket = "工单号"
//! numbers = ["满意度"]        # text cells read as numbers
//!
//! [[event]]
//! type = "opened"
//! at = "报修时间"
//! attrs = { kind = "类型", project = "项目" }
//!
//! [[event]]
//! type = "rated"
//! at = "回访时间"
//! attrs = { score = "满意度" }
//!
//! [values."类型"]            # cell text -> attribute value
//! "投诉" = "complaint"
//! "报修" = "repair"
//! ```
//!
//! A mapping is checked twice: on its own when it is read (TOML syntax, known keys, a zone that
//! exists, values that are scalars), and against the header of the export when that is read
//! (every column it names exists, once). Both report the line and column of the mapping file.

use crate::syntax::closest as closest_name;
use crate::value::Value;
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// A mapping file, read and checked on its own (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// The file's name, for messages.
    pub name: String,
    /// The sheet of a workbook to read; `None`: the first.
    pub sheet: Option<String>,
    /// The 1-based row of column names, as the spreadsheet numbers rows.
    pub header_row: u32,
    /// Zone of local times in the export; `None`: the command's `--tz`.
    pub zone: Option<Tz>,
    /// The column holding the ticket number.
    pub ticket: Column,
    /// The events each row makes, in the order written.
    pub events: Vec<EventMap>,
    /// Per column, what a cell's text stands for.
    pub values: BTreeMap<String, BTreeMap<String, Value>>,
    /// Columns whose text cells are read as numbers.
    pub numbers: Vec<Column>,
}

/// A column named in a mapping, with where the mapping names it (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header text.
    pub name: String,
    /// 1-based line and column in the mapping file.
    pub at: (usize, usize),
}

/// One `[[event]]` table: a timestamp column making events of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMap {
    /// The event type (`opened`, `dispatched`, ...).
    pub kind: String,
    /// The column of its timestamp; an empty cell makes no event.
    pub at: Column,
    /// Attributes taken from columns: key and column.
    pub attrs: Vec<(String, Column)>,
    /// Attributes with a fixed value on every event made (`set = { by = "engineering" }`).
    pub set: Vec<(String, Value)>,
}

/// A mapping that cannot be used, with the place in the mapping file it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The mapping file's name.
    pub name: String,
    /// 1-based line and column in it, when the problem has a place.
    pub at: Option<(usize, usize)>,
    /// What is wrong, one lowercase line.
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(
                f,
                "mapping `{}` line {line}, column {column}: {}",
                self.name, self.message
            ),
            None => write!(f, "mapping `{}`: {}", self.name, self.message),
        }
    }
}

impl std::error::Error for MappingError {}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    sheet: Option<String>,
    header_row: Option<Spanned<i64>>,
    zone: Option<Spanned<String>>,
    ticket: Spanned<String>,
    #[serde(default)]
    numbers: Vec<Spanned<String>>,
    #[serde(default, rename = "event")]
    events: Vec<RawEvent>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    at: Spanned<String>,
    #[serde(default)]
    attrs: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<String, Spanned<toml::Value>>,
}

impl Mapping {
    /// Reads a mapping from its text; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Mapping, MappingError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| MappingError {
            name: name.to_string(),
            at: span.map(|s| line_column(text, s.start)),
            message,
        };
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            error(
                e.span(),
                crate::calendar::holidays::first_line_lowercase(e.message(), "invalid mapping"),
            )
        })?;
        let column = |s: &Spanned<String>| -> Result<Column, MappingError> {
            let trimmed = s.get_ref().trim();
            if trimmed.is_empty() {
                return Err(error(Some(s.span()), "a column name is empty".to_string()));
            }
            Ok(Column {
                name: trimmed.to_string(),
                at: line_column(text, s.span().start),
            })
        };
        let header_row = match &raw.header_row {
            None => 1,
            Some(row) => match u32::try_from(*row.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(error(
                        Some(row.span()),
                        format!(
                            "`header_row` must be a row number from 1, not {}",
                            row.get_ref()
                        ),
                    ))
                }
            },
        };
        let zone = match &raw.zone {
            None => None,
            Some(z) => Some(z.get_ref().parse::<Tz>().map_err(|_| {
                error(
                    Some(z.span()),
                    format!(
                        "`{}` is not an IANA time zone, like `Asia/Shanghai`",
                        z.get_ref()
                    ),
                )
            })?),
        };
        if raw.events.is_empty() {
            return Err(error(
                None,
                "no `[[event]]` table: name at least the column that makes `opened` events"
                    .to_string(),
            ));
        }
        let mut events = Vec::with_capacity(raw.events.len());
        for e in &raw.events {
            let kind = e.kind.get_ref().trim();
            if kind.is_empty() {
                return Err(error(
                    Some(e.kind.span()),
                    "an event `type` is empty".to_string(),
                ));
            }
            let mut attrs = Vec::with_capacity(e.attrs.len());
            for (key, col) in &e.attrs {
                attrs.push((key.clone(), column(col)?));
            }
            let mut set = Vec::with_capacity(e.set.len());
            for (key, value) in &e.set {
                set.push((
                    key.clone(),
                    scalar(value).map_err(|m| error(Some(value.span()), m))?,
                ));
            }
            events.push(EventMap {
                kind: kind.to_string(),
                at: column(&e.at)?,
                attrs,
                set,
            });
        }
        let mut values = BTreeMap::new();
        for (col, map) in &raw.values {
            let mut out = BTreeMap::new();
            for (text_value, value) in map {
                let v = scalar(value).map_err(|m| error(Some(value.span()), m))?;
                out.insert(text_value.trim().to_string(), v);
            }
            values.insert(col.trim().to_string(), out);
        }
        let numbers = raw.numbers.iter().map(column).collect::<Result<_, _>>()?;
        Ok(Mapping {
            name: name.to_string(),
            sheet: raw.sheet.map(|s| s.trim().to_string()),
            header_row,
            zone,
            ticket: column(&raw.ticket)?,
            events,
            values,
            numbers,
        })
    }

    /// Reads a mapping file: `Mapping::from_file("orders.toml")`.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Mapping, MappingError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingError {
            name: name.clone(),
            at: None,
            message: format!("cannot be read: {e}"),
        })?;
        Mapping::parse(&text, &name)
    }

    /// Every column the mapping reads, each with its first place in the mapping file.
    pub fn columns(&self) -> Vec<&Column> {
        let mut out: Vec<&Column> = vec![&self.ticket];
        for e in &self.events {
            out.push(&e.at);
            out.extend(e.attrs.iter().map(|(_, c)| c));
        }
        out.extend(&self.numbers);
        out
    }

    /// The index of every column the mapping names in `header` (trimmed header texts), or the
    /// first column it names that the header lacks or holds twice, with a did-you-mean.
    /// `where_` says where the header is, for the message ("row 1 of sheet `工单`").
    pub fn resolve(
        &self,
        header: &[String],
        where_: &str,
    ) -> Result<BTreeMap<String, usize>, MappingError> {
        let mut out = BTreeMap::new();
        let value_columns = self.values.keys().map(|k| (k, None));
        let named = self
            .columns()
            .into_iter()
            .map(|c| (&c.name, Some(c.at)))
            .chain(value_columns);
        for (name, at) in named {
            if out.contains_key(name) {
                continue;
            }
            let mut found = header.iter().enumerate().filter(|(_, h)| *h == name);
            let err = |message: String| MappingError {
                name: self.name.clone(),
                at,
                message,
            };
            match (found.next(), found.next()) {
                (Some((i, _)), None) => {
                    out.insert(name.clone(), i);
                }
                (Some(_), Some(_)) => {
                    return Err(err(format!(
                        "column `{name}` appears twice in the header ({where_})"
                    )))
                }
                (None, _) => {
                    let hint = match closest_name(name, header.iter().map(String::as_str)) {
                        Some(c) => format!("; did you mean `{c}`?"),
                        None => String::new(),
                    };
                    let place = if at.is_some() {
                        ""
                    } else {
                        " (a `[values]` table)"
                    };
                    return Err(err(format!(
                        "no column `{name}`{place} in the header ({where_}){hint}"
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// A TOML value usable as an attribute value: a string, number or boolean.
fn scalar(value: &Spanned<toml::Value>) -> Result<Value, String> {
    Ok(match value.get_ref() {
        toml::Value::String(s) => Value::String(s.as_str().into()),
        toml::Value::Integer(n) => Value::Number(*n as f64),
        toml::Value::Float(f) => Value::Number(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        other => {
            return Err(format!(
                "an attribute value must be a string, number or boolean, not {}",
                other.type_str()
            ))
        }
    })
}

/// 1-based line and column (in characters) of byte `offset` of `text` (toml's spans fall on
/// character boundaries; one that did not would count from the line's start).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
zone = "Asia/Shanghai"
ticket = "工单号"
numbers = ["满意度"]

[[event]]
type = "opened"
at = "报修时间"
attrs = { kind = "类型" }

[[event]]
type = "rated"
at = "回访时间"
attrs = { score = "满意度" }
set = { channel = "phone" }

[values."类型"]
"投诉" = "complaint"
"#;

    #[test]
    fn a_mapping_reads_and_resolves_against_its_header() {
        let m = Mapping::parse(GOOD, "m.toml").unwrap();
        assert_eq!(m.header_row, 1);
        assert_eq!(m.events.len(), 2);
        assert_eq!(
            m.events[1].set,
            [("channel".to_string(), Value::String("phone".into()))]
        );
        let header: Vec<String> = ["工单号", "报修时间", "类型", "回访时间", "满意度"]
            .map(String::from)
            .to_vec();
        let idx = m.resolve(&header, "row 1").unwrap();
        assert_eq!(idx["满意度"], 4);
    }

    #[test]
    fn an_unknown_column_is_named_with_its_place_and_a_suggestion() {
        let m = Mapping::parse(GOOD, "m.toml").unwrap();
        let header: Vec<String> = ["工单号", "报修时间", "类型", "回访时候", "满意度"]
            .map(String::from)
            .to_vec();
        let e = m.resolve(&header, "row 1 of sheet `工单`").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mapping `m.toml` line 13, column 6: no column `回访时间` in the header (row 1 of \
             sheet `工单`); did you mean `回访时候`?"
        );
    }

    #[test]
    fn bad_toml_unknown_keys_and_bad_zones_have_places() {
        let e = Mapping::parse("ticket = \n", "m.toml").unwrap_err();
        assert_eq!(e.at, Some((1, 10)), "{e}");
        let e = Mapping::parse("ticket = \"a\"\ncolour = 1\n", "m.toml").unwrap_err();
        assert!(e.message.starts_with("unknown field `colour`"), "{e}");
        assert_eq!(e.at.map(|a| a.0), Some(2));
        let e = Mapping::parse(
            "zone = \"Asia/Shanghia\"\nticket = \"a\"\n[[event]]\ntype = \"opened\"\nat = \"b\"\n",
            "m.toml",
        )
        .unwrap_err();
        assert_eq!(e.at, Some((1, 8)));
        assert!(e.message.contains("not an IANA time zone"), "{e}");
        let e = Mapping::parse("ticket = \"a\"\n", "m.toml").unwrap_err();
        assert!(e.message.starts_with("no `[[event]]` table"), "{e}");
        let e = Mapping::parse(
            "ticket = \"a\"\n[[event]]\ntype = \"opened\"\nat = \"b\"\nset = { x = [1] }\n",
            "m.toml",
        )
        .unwrap_err();
        assert_eq!(e.at, Some((5, 13)));
    }
}
