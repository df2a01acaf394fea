//! The native module `pledge._pledge`: the library's embedding API for Python. The package
//! `pledge` (python/pledge/__init__.py) re-exports it with a few pure-Python conveniences.
//!
//! Values cross as JSON: an event dict becomes one JSON Lines line, validated exactly as
//! `pledge check` validates a line of a file, and records come back as the dicts of
//! `pledge check --format json`. No panic crosses into Python: every input error is a Python
//! exception or a rejected record.

use chrono::{DateTime, Duration, Utc};
use pledge::{Options, PolicySet, Record, Report};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Named in the module `pledge`, which exports it: that is where pickle finds it again (a pool
// worker's exception crosses processes that way).
create_exception!(
    pledge,
    PolicyError,
    pyo3::exceptions::PyValueError,
    "A policy that does not parse or check. `str()` is the rendered report; `diagnostics` \
     lists each problem with its code, file, line, column, message and help."
);

/// Nesting of event values deeper than this is refused (the event format has two levels).
const MAX_DEPTH: usize = 32;

// ---------------------------------------------------------------- values

fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into_bound_py_any(py)?,
            (None, Some(i)) => i.into_bound_py_any(py)?,
            _ => n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)?,
        },
        Value::String(s) => s.into_bound_py_any(py)?,
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value of an event as JSON. `field` names it in errors (`attrs.score`).
fn py_to_json(obj: &Bound<'_, PyAny>, field: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "`{field}` is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: a Python bool is an int.
    if let Ok(b) = obj.downcast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.downcast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = i.extract::<u64>() {
            return Ok(Value::from(v));
        }
        // Beyond 64 bits: as a float, which an int past 1.8e308 is not.
        let v: f64 = i.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "`{field}` is an int too large for an event's number"
            ))
        })?;
        return Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
    }
    if let Ok(f) = obj.downcast::<PyFloat>() {
        let v = f.value();
        return serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| {
                PyValueError::new_err(format!("`{field}` is {v}, not a finite number"))
            });
    }
    if let Ok(s) = obj.downcast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.downcast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k.downcast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{} has a key of type {}, not str",
                    field_or_event(field),
                    type_name(&k)
                ))
            })?;
            let key = key.to_cow()?.into_owned();
            let inner = if field.is_empty() {
                key.clone()
            } else {
                format!("{field}.{key}")
            };
            map.insert(key, py_to_json(&v, &inner, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.downcast::<PyList>().is_ok() || obj.downcast::<PyTuple>().is_ok() {
        let mut items = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            items.push(py_to_json(&item?, &format!("{field}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    // datetime.datetime and datetime.date: their ISO form, which the event format reads (a
    // naive datetime has no offset and is rejected unless a `tz` is given, as on the command
    // line).
    if obj.hasattr("isoformat")? && obj.hasattr("year")? {
        let text: String = obj.call_method0("isoformat")?.extract()?;
        return Ok(Value::String(text));
    }
    Err(PyTypeError::new_err(format!(
        "`{field}` is of type {}: an event holds str, int, float, bool, None, lists, dicts and \
         datetimes",
        type_name(obj)
    )))
}

/// `field` as errors name it: `` `attrs.where` ``, or "an event" for the event itself.
fn field_or_event(field: &str) -> String {
    if field.is_empty() {
        "an event".to_string()
    } else {
        format!("`{field}`")
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// One event dict as a line of JSON Lines, written into `out` (cleared first).
fn event_line(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let Ok(dict) = obj.downcast::<PyDict>() else {
        return Err(PyTypeError::new_err(format!(
            "an event is a dict with `ticket`, `at`, `type` and optionally `id` and `attrs`, \
             not {}",
            type_name(obj)
        )));
    };
    out.clear();
    write_dict(dict, "", 0, out)
}

/// A dict as JSON, straight into `out`: what [`py_to_json`] gives, without building the value
/// (pushing events one by one spends most of its time here).
fn write_dict(
    dict: &Bound<'_, PyDict>,
    field: &str,
    depth: usize,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "`{field}` is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    out.push(b'{');
    for (i, (k, v)) in dict.iter().enumerate() {
        let key = k.downcast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{} has a key of type {}, not str",
                field_or_event(field),
                type_name(&k)
            ))
        })?;
        let key = key.to_cow()?;
        if i > 0 {
            out.push(b',');
        }
        write_json(&Value::from(&*key), out)?;
        out.push(b':');
        if let Ok(s) = v.downcast::<PyString>() {
            write_json(&Value::from(&*s.to_cow()?), out)?;
        } else if let Ok(d) = v.downcast::<PyDict>() {
            let inner = if field.is_empty() {
                key.into_owned()
            } else {
                format!("{field}.{key}")
            };
            write_dict(d, &inner, depth + 1, out)?;
        } else {
            let inner = if field.is_empty() {
                key.into_owned()
            } else {
                format!("{field}.{key}")
            };
            write_json(&py_to_json(&v, &inner, depth + 1)?, out)?;
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_json(value: &Value, out: &mut Vec<u8>) -> PyResult<()> {
    serde_json::to_writer(out, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn records_to_py<'py>(py: Python<'py>, records: &[Record]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for r in records {
        list.append(json_to_py(py, &r.to_json())?)?;
    }
    Ok(list)
}

/// A report as `pledge._report.Report`: the records stay native values ([`RecordList`]) until
/// Python reads them, the summary is a dict.
fn report_to_py<'py>(py: Python<'py>, report: Report) -> PyResult<Bound<'py, PyAny>> {
    let summary = json_to_py(py, &report.summary_json())?;
    let records = Bound::new(
        py,
        RecordList {
            records: report.records,
        },
    )?;
    py.import("pledge._report")?
        .getattr("Report")?
        .call1((records, summary))
}

/// The records of a check, kept as the engine's values and turned into dicts when read, so that
/// a check of a large file returns at the command's speed and a host pays only for the
/// records it reads. `pledge.Records` wraps it as a Python sequence.
#[pyclass(module = "pledge._pledge", frozen)]
struct RecordList {
    records: Vec<Record>,
}

#[pymethods]
impl RecordList {
    fn __len__(&self) -> usize {
        self.records.len()
    }

    /// The record at `index` (negative counts from the end) as a dict.
    fn get<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        let len = self.records.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(pyo3::exceptions::PyIndexError::new_err(
                "record index out of range",
            ));
        }
        json_to_py(py, &self.records[i as usize].to_json())
    }

    /// The records `start..end` (clamped to the list) as a list of dicts: written as one JSON
    /// array without the GIL and decoded by Python's own decoder, the fastest way to many
    /// dicts.
    fn range<'py>(&self, py: Python<'py>, start: usize, end: usize) -> PyResult<Bound<'py, PyAny>> {
        let end = end.min(self.records.len());
        let start = start.min(end);
        let records = &self.records[start..end];
        let text = py.allow_threads(|| -> Result<Vec<u8>, serde_json::Error> {
            let mut out = Vec::with_capacity(256 * records.len() + 2);
            out.push(b'[');
            for (i, record) in records.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, record)?;
            }
            out.push(b']');
            Ok(out)
        });
        let text = text.map_err(|e| PyValueError::new_err(e.to_string()))?;
        py.import("json")?
            .call_method1("loads", (pyo3::types::PyBytes::new(py, &text),))
    }
}

// ---------------------------------------------------------------- options

fn instant(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<DateTime<Utc>> {
    let text: String = if let Ok(s) = obj.downcast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if obj.hasattr("isoformat")? {
        obj.call_method0("isoformat")?.extract()?
    } else {
        return Err(PyTypeError::new_err(format!(
            "`{field}` must be a datetime or an RFC 3339 string, not {}",
            type_name(obj)
        )));
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            PyValueError::new_err(format!(
                "`{field}` = {text:?} is not an instant with a UTC offset: {e}"
            ))
        })
}

fn duration(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Duration> {
    let seconds: f64 = if obj.hasattr("total_seconds")? {
        obj.call_method0("total_seconds")?.extract()?
    } else if obj.downcast::<PyBool>().is_err()
        && (obj.downcast::<PyInt>().is_ok() || obj.downcast::<PyFloat>().is_ok())
    {
        obj.extract()?
    } else {
        return Err(PyTypeError::new_err(format!(
            "`{field}` must be a timedelta or a number of seconds, not {}",
            type_name(obj)
        )));
    };
    if !(0.0..=1e12).contains(&seconds) {
        return Err(PyValueError::new_err(format!(
            "`{field}` must be between 0 and 10^12 seconds, not {seconds}"
        )));
    }
    Ok(Duration::milliseconds((seconds * 1000.0).round() as i64))
}

fn options(
    now: Option<&Bound<'_, PyAny>>,
    reorder_window: Option<&Bound<'_, PyAny>>,
    retain: Option<&Bound<'_, PyAny>>,
    tz: Option<&str>,
) -> PyResult<Options> {
    let mut o = Options::default();
    if let Some(now) = now.filter(|n| !n.is_none()) {
        o = o.now(instant(now, "now")?);
    }
    if let Some(w) = reorder_window.filter(|n| !n.is_none()) {
        o = o.reorder_window(duration(w, "reorder_window")?);
    }
    if let Some(r) = retain.filter(|n| !n.is_none()) {
        o = o.retain(duration(r, "retain")?);
    }
    if let Some(tz) = tz {
        let zone: chrono_tz::Tz = tz
            .parse()
            .map_err(|_| PyValueError::new_err(format!("`tz` = {tz:?} is not an IANA zone")))?;
        o = o.tz(zone);
    }
    Ok(o)
}

// ---------------------------------------------------------------- policies

/// One problem of a policy source.
#[pyclass(module = "pledge", frozen, get_all)]
#[derive(Clone)]
struct Diagnostic {
    /// The stable code, e.g. `pledge::syntax::unexpected`.
    code: String,
    /// `error` or `warning`.
    severity: String,
    message: String,
    help: Option<String>,
    file: String,
    /// 1-based line of the first label (0: none).
    line: usize,
    /// 1-based column, in characters (0: none).
    column: usize,
    label: Option<String>,
}

#[pymethods]
impl Diagnostic {
    #[new]
    #[pyo3(signature = (code, severity, message, help, file, line, column, label))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        code: String,
        severity: String,
        message: String,
        help: Option<String>,
        file: String,
        line: usize,
        column: usize,
        label: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message,
            help,
            file,
            line,
            column,
            label,
        }
    }

    /// Pickled as its fields (with a `PolicyError` that crosses processes).
    #[allow(clippy::type_complexity)]
    fn __getnewargs__(
        &self,
    ) -> (
        String,
        String,
        String,
        Option<String>,
        String,
        usize,
        usize,
        Option<String>,
    ) {
        (
            self.code.clone(),
            self.severity.clone(),
            self.message.clone(),
            self.help.clone(),
            self.file.clone(),
            self.line,
            self.column,
            self.label.clone(),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostic(code={:?}, file={:?}, line={}, column={}, message={:?})",
            self.code, self.file, self.line, self.column, self.message
        )
    }
}

fn policy_error(py: Python<'_>, e: &pledge::PolicyError) -> PyErr {
    let err = PolicyError::new_err(e.rendered().to_string());
    let diagnostics: Vec<Diagnostic> = e
        .diagnostics()
        .iter()
        .map(|d| Diagnostic {
            code: d.code.clone(),
            severity: d.severity.to_string(),
            message: d.message.clone(),
            help: d.help.clone(),
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            label: d.label.clone(),
        })
        .collect();
    if let Err(set) = err.value(py).setattr("diagnostics", diagnostics) {
        return set;
    }
    err
}

/// A policy file: its clauses and calendars, parsed and checked.
#[pyclass(module = "pledge", frozen)]
#[derive(Clone)]
struct Policy {
    set: PolicySet,
}

#[pymethods]
impl Policy {
    /// Reads and parses a policy file (includes resolve relative to it). Raises PolicyError.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Policy> {
        PolicySet::from_file(&path)
            .map(|set| Policy { set })
            .map_err(|e| policy_error(py, &e))
    }

    /// Parses a policy from its text; `name` names it in diagnostics. Raises PolicyError.
    #[staticmethod]
    #[pyo3(signature = (text, name = "<text>"))]
    fn from_text(py: Python<'_>, text: &str, name: &str) -> PyResult<Policy> {
        PolicySet::from_text(text, name)
            .map(|set| Policy { set })
            .map_err(|e| policy_error(py, &e))
    }

    /// The policy's name (`policy "NAME" { ... }`).
    #[getter]
    fn name(&self) -> String {
        self.set.names().next().unwrap_or_default().to_string()
    }

    /// The names of its clauses, in order.
    #[getter]
    fn clauses(&self) -> Vec<String> {
        self.set.clauses().map(|(_, c)| c.to_string()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Policy({:?}, {} clauses)",
            self.name(),
            self.clauses().len()
        )
    }
}

/// A Policy or an iterable of them, as one set.
fn policy_set(policies: &Bound<'_, PyAny>) -> PyResult<PolicySet> {
    if let Ok(p) = policies.downcast::<Policy>() {
        return Ok(p.get().set.clone());
    }
    let not = || {
        PyTypeError::new_err(format!(
            "`policies` must be a Policy or a list of them, not {}",
            type_name(policies)
        ))
    };
    if policies.downcast::<PyString>().is_ok() {
        return Err(not());
    }
    let mut sets = Vec::new();
    for item in policies.try_iter().map_err(|_| not())? {
        let item = item?;
        let p = item.downcast::<Policy>().map_err(|_| {
            PyTypeError::new_err(format!(
                "`policies` holds a {}, not a Policy",
                type_name(&item)
            ))
        })?;
        sets.push(p.get().set.clone());
    }
    PolicySet::combine(sets).map_err(|e| policy_error(policies.py(), &e))
}

// ---------------------------------------------------------------- checks

/// Checks events against policies; returns a `pledge.Report`: `report["records"]` (the
/// records, decoded into the dicts of `pledge check --format json` as they are read) and
/// `report["summary"]`. `events` is a path (JSON Lines, or CSV by its
/// `.csv` extension) or an iterable of event dicts.
#[pyfunction]
#[pyo3(signature = (policies, events, *, now = None, reorder_window = None, retain = None, tz = None))]
fn check<'py>(
    py: Python<'py>,
    policies: &Bound<'py, PyAny>,
    events: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
    reorder_window: Option<&Bound<'py, PyAny>>,
    retain: Option<&Bound<'py, PyAny>>,
    tz: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let set = policy_set(policies)?;
    let opts = options(now, reorder_window, retain, tz)?;
    let is_path = events.downcast::<PyString>().is_ok() || events.hasattr("__fspath__")?;
    if is_path {
        let path: std::path::PathBuf = events.extract()?;
        // The whole check runs without the GIL; the records cross into Python as they are read.
        let report = py
            .allow_threads(|| pledge::check_path(&set, &path, &opts))
            .map_err(|e| match e.raw_os_error() {
                // OSError(errno, strerror, filename) is the subclass the errno names
                // (FileNotFoundError, PermissionError, ...), as Python's own `open` raises.
                Some(errno) => pyo3::exceptions::PyOSError::new_err((
                    errno,
                    e.to_string(),
                    path.display().to_string(),
                )),
                None => pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display())),
            })?;
        return report_to_py(py, report);
    }
    let iter = events.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "`events` must be a path or an iterable of event dicts, not {}",
            type_name(events)
        ))
    })?;
    let mut engine = pledge::Engine::new(&set, &opts);
    let mut records = Vec::new();
    let mut line = Vec::new();
    for item in iter {
        // An exception of the caller's iterator propagates as it is.
        event_line(&item?, &mut line)?;
        records.extend(engine.push_json(&line));
    }
    let mut report = engine.finish();
    records.append(&mut report.records);
    report.records = records;
    report_to_py(py, report)
}

/// The streaming evaluator: push events as they come; each call returns the records (dicts)
/// that became final.
#[pyclass(module = "pledge")]
struct Engine {
    inner: Option<pledge::Engine>,
    /// The line each pushed dict is written into, kept between calls.
    line: Vec<u8>,
    /// Records that became final in a call that then raised (an `extend` whose iterator
    /// failed part-way): the next call that returns records returns them first, so that none
    /// is lost.
    held: Vec<pledge::Record>,
}

impl Engine {
    fn new_running(engine: pledge::Engine) -> Engine {
        Engine {
            inner: Some(engine),
            line: Vec::new(),
            held: Vec::new(),
        }
    }

    fn running(&mut self) -> PyResult<&mut pledge::Engine> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("the engine is finished"))
    }

    /// Pushes every event of `events` into `line`, the records into `records`.
    fn extend_into(
        &mut self,
        events: &Bound<'_, PyAny>,
        line: &mut Vec<u8>,
        records: &mut Vec<pledge::Record>,
    ) -> PyResult<()> {
        let engine = self.running()?;
        for item in events.try_iter()? {
            event_line(&item?, line)?;
            records.extend(engine.push_json(line));
        }
        Ok(())
    }

    /// The records held from a call that raised, then `records`.
    fn after_held(&mut self, records: Vec<pledge::Record>) -> Vec<pledge::Record> {
        let mut all = std::mem::take(&mut self.held);
        if all.is_empty() {
            return records;
        }
        all.extend(records);
        all
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (policies, *, now = None, reorder_window = None, retain = None, tz = None, explain = false))]
    fn new(
        policies: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
        reorder_window: Option<&Bound<'_, PyAny>>,
        retain: Option<&Bound<'_, PyAny>>,
        tz: Option<&str>,
        explain: bool,
    ) -> PyResult<Engine> {
        let set = policy_set(policies)?;
        let opts = options(now, reorder_window, retain, tz)?.explain(explain);
        Ok(Engine::new_running(pledge::Engine::new(&set, &opts)))
    }

    /// One event dict. A dict the command would reject as a line (a missing `ticket`, an `at`
    /// that is not a time) gives a rejected record; a value that is not an event's (a set, an
    /// object) raises TypeError naming the field.
    fn push<'py>(
        &mut self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut line = std::mem::take(&mut self.line);
        let pushed =
            event_line(event, &mut line).and_then(|()| Ok(self.running()?.push_json(&line)));
        self.line = line;
        let records = self.after_held(pushed?);
        records_to_py(py, &records)
    }

    /// Every event of an iterable, in order. An exception of the iterator (or an item that is
    /// not an event dict) propagates; the events before it stay pushed, the records they made
    /// are returned first by the next call that returns records (`push`, `extend`, `advance`,
    /// or in `finish`'s report), and the engine stays usable.
    fn extend<'py>(
        &mut self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut line = std::mem::take(&mut self.line);
        let mut records = std::mem::take(&mut self.held);
        let pushed = self.extend_into(events, &mut line, &mut records);
        self.line = line;
        match pushed {
            Ok(()) => records_to_py(py, &records),
            Err(e) => {
                self.held = records;
                Err(e)
            }
        }
    }

    /// Moves stream time to `now` (a datetime with a zone, or RFC 3339): events that waited
    /// out the reorder window are applied, cases past their retention settle. Returns
    /// `(records, alerts)`: the records that became final, and the alerts since the previous
    /// call (cycles that passed their due time while running, stages that fired), each a verdict or
    /// action dict with an `alert` key, `"breached"` or `"stage"`.
    fn advance<'py>(
        &mut self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let now = instant(now, "now")?;
        let mut advanced = self.running()?.advance(now);
        advanced.records = self.after_held(std::mem::take(&mut advanced.records));
        let alerts = PyList::empty(py);
        for a in &advanced.alerts {
            let json = serde_json::to_value(a)
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
            alerts.append(json_to_py(py, &json)?)?;
        }
        Ok((records_to_py(py, &advanced.records)?, alerts))
    }

    /// Ends the stream: a `pledge.Report` with the records still to come and the summary.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self
            .inner
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("the engine is finished"))?;
        let mut report = engine.finish();
        report.records = self.after_held(std::mem::take(&mut report.records));
        report_to_py(py, report)
    }

    /// The engine's whole state as bytes, to persist and continue from with `Engine.restore`.
    fn snapshot<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let bytes = self
            .running()?
            .snapshot()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }

    /// An engine in the state of a snapshot, with the options it had. Raises ValueError when
    /// the bytes are not a snapshot of this version or were taken with other policies.
    #[staticmethod]
    fn restore(policies: &Bound<'_, PyAny>, snapshot: &[u8]) -> PyResult<Engine> {
        let set = policy_set(policies)?;
        let engine = pledge::Engine::restore(&set, snapshot)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Engine::new_running(engine))
    }

    /// A copy of the engine as it is now, made in memory: what `Engine.restore(policies,
    /// engine.snapshot())` gives, far cheaper. Finish the copy to see what a check ending now
    /// would write, while this engine goes on with the stream.
    fn fork(&mut self) -> PyResult<Engine> {
        let fork = Engine::new_running(self.running()?.fork());
        Ok(Engine {
            held: self.held.clone(),
            ..fork
        })
    }

    /// What a check ending now would add about one ticket: the records (dicts) that finishing
    /// a fork would give about it, at the cost of that ticket's case rather than of every case
    /// kept. Records already returned by `push`, `extend` or `advance` are not repeated; a
    /// ticket the engine keeps no case of gives none. The engine goes on unchanged.
    fn judge<'py>(&mut self, py: Python<'py>, ticket: &str) -> PyResult<Bound<'py, PyList>> {
        let report = self.running()?.fork_ticket(ticket).finish_ticket(ticket);
        records_to_py(py, &report.records)
    }

    /// What the REPL's `:why TICKET all` says about a ticket the engine keeps (made with
    /// `explain=True`); None otherwise.
    fn explain(&mut self, ticket: &str) -> PyResult<Option<String>> {
        Ok(self.running()?.explain(ticket))
    }

    /// Cases kept: open, or closed within the retention.
    #[getter]
    fn open_cases(&self) -> usize {
        self.inner.as_ref().map_or(0, |e| e.open_cases())
    }
}

#[pymodule]
fn _pledge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PolicyError", m.py().get_type::<PolicyError>())?;
    m.add_class::<Policy>()?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<Engine>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    Ok(())
}
