//! The HTTP JSON API (documented, with an example per endpoint, in the README).
//!
//! Errors are JSON too: `{"error": "..."}` with the status (400 bad query, 401 no or wrong
//! token, 404 no such route or ticket, 405 wrong method, 409 POST to a service that follows a
//! file, 413 body too large, 503 stopping).

use super::Shared;
use crate::agenda::{to_json, AgendaSink};
use serde_json::{json, Value};
use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server};

/// An answer: status, content type, body.
struct Answer(u16, &'static str, String);

fn answer_json(status: u16, value: &Value) -> Answer {
    let mut body = serde_json::to_string_pretty(value).unwrap_or_default();
    body.push('\n');
    Answer(status, "application/json", body)
}

fn error(status: u16, message: &str) -> Answer {
    answer_json(status, &json!({ "error": message }))
}

/// Answers requests until the service stops.
pub fn serve(server: &Server, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(err) => {
                eprintln!("warning: HTTP: {err}");
                continue;
            }
        };
        // A fault answering one request must not take a thread of the service's few with it.
        let handled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(request, shared)));
        if handled.is_err() {
            eprintln!("warning: HTTP: a request could not be answered (see the message above)");
        }
    }
}

fn handle(mut request: Request, shared: &Shared) {
    let posts_only = query(request.url()).0 == "/events";
    let Answer(status, kind, body) = route(&mut request, shared);
    let mut headers = vec![("Content-Type", kind)];
    match status {
        // What a client is to send instead (RFC 9110 and RFC 6750 ask for these).
        401 => headers.push(("WWW-Authenticate", "Bearer")),
        405 => headers.push(("Allow", if posts_only { "POST" } else { "GET" })),
        _ => {}
    }
    let mut response = Response::from_string(body).with_status_code(status);
    for (name, value) in headers {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response = response.with_header(h);
        }
    }
    // A client that went away is no concern of the service.
    let _ = request.respond(response);
}

/// Whether the request carries the service's token (always true without one, except POST).
fn authorized(request: &Request, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return false;
    };
    request.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && h.value
                .as_str()
                .strip_prefix("Bearer ")
                .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes()))
    })
}

/// Compares without stopping at the first difference, so that timing tells nothing of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes `%XX` of a query or path part, and `+` as a space in a query only (in a path a
/// `+` is itself: `/cases/T+1` is the case `T+1`).
fn decode(text: &str, plus_is_space: bool) -> String {
    String::from_utf8_lossy(&decode_bytes(text, plus_is_space)).into_owned()
}

/// The bytes `%XX` escapes stand for (see [`decode`]).
fn decode_bytes(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn query(url: &str) -> (String, Vec<(String, String)>) {
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    let params = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect();
    (path.to_string(), params)
}

fn route(request: &mut Request, shared: &Shared) -> Answer {
    let token = shared.config.token.as_deref();
    let post = *request.method() == Method::Post;
    if (token.is_some() || post) && !authorized(request, token) {
        return if token.is_none() {
            error(
                401,
                "POST needs a token: start the service with --token-file",
            )
        } else {
            error(401, "missing or wrong `Authorization: Bearer TOKEN`")
        };
    }
    let (path, params) = query(request.url());
    let result = match (request.method(), path.as_str()) {
        (Method::Post, "/events") => return post_events(request, shared),
        (Method::Get, "/healthz") => Ok(answer_json(200, &json!({ "status": "ok" }))),
        (Method::Get, "/summary") => Ok(Answer(
            200,
            "application/json",
            shared.fork().finish_summary().summary_pretty() + "\n",
        )),
        (Method::Get, "/agenda") => agenda(shared, &params),
        (Method::Get, "/metrics") => {
            super::metrics::render(shared).map(|m| Answer(200, "text/plain; version=0.0.4", m))
        }
        (Method::Get, "/records") => records(shared, &params),
        (Method::Get, p) if p.starts_with("/cases/") => {
            match String::from_utf8(decode_bytes(&p["/cases/".len()..], false)) {
                Ok(ticket) => case(shared, &ticket),
                Err(_) => Ok(error(
                    400,
                    "the ticket in the path is not UTF-8 once decoded",
                )),
            }
        }
        (_, "/events" | "/healthz" | "/summary" | "/agenda" | "/metrics" | "/records") => {
            Ok(error(405, "method not allowed"))
        }
        _ => Ok(error(404, "no such endpoint")),
    };
    result.unwrap_or_else(|e| error(500, &e))
}

fn post_events(request: &mut Request, shared: &Shared) -> Answer {
    let limit = shared.config.max_body;
    if request.body_length().is_some_and(|n| n > limit) {
        return error(413, &format!("the body is larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    if let Err(e) = request
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
    {
        return error(400, &format!("cannot read the body: {e}"));
    }
    if body.len() > limit {
        return error(413, &format!("the body is larger than {limit} bytes"));
    }
    let mut lines: Vec<Vec<u8>> = body.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in &mut lines {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if lines.is_empty() && shared.post_only() {
        // An empty body (or none) has nothing to commit.
        return answer_json(200, &json!({ "accepted": 0, "rejected": [] }));
    }
    match super::post(shared, lines) {
        Ok(posted) => answer_json(
            200,
            &json!({
                "accepted": posted.accepted,
                "rejected": posted.rejected.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect::<Vec<_>>(),
            }),
        ),
        Err(e) if shared.post_only() => error(503, &e),
        Err(e) => error(409, &e),
    }
}

/// The value of a query parameter.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn agenda(shared: &Shared, params: &[(String, String)]) -> Result<Answer, String> {
    let within = match param(params, "within") {
        Some(w) => match crate::input::parse_typed_duration(w) {
            Ok(d) if d >= chrono::Duration::zero() => d,
            Ok(_) => return Ok(error(400, "`within` must not be negative")),
            Err(e) => return Ok(error(400, &e)),
        },
        None => chrono::Duration::hours(4),
    };
    let include_closed = match param(params, "include_closed") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Ok(error(
                400,
                &format!("`include_closed` is `true` or `false`, not `{other}`"),
            ))
        }
    };
    let limit = match param(params, "limit") {
        None => Some(AGENDA_LIMIT),
        Some("all") => None,
        Some(n) => match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Ok(error(
                    400,
                    &format!("`limit` is a number of items or `all`, not `{n}`"),
                ))
            }
        },
    };
    let project = param(params, "project");
    // A copy judged straight into the agenda: no record is kept but the agenda's items.
    let policies = shared.policies.policies();
    let sink = AgendaSink::new(policies, None, within).including_closed(include_closed);
    let fork = shared.engine().fork_into(policies, sink);
    let (summary, sink) = fork.finish();
    let Some(now) = summary.now else {
        return Ok(error(
            404,
            "no events yet: there is no instant to draw the agenda at",
        ));
    };
    let mut agenda = sink.into_agenda(now);
    if let Some(project) = project {
        agenda
            .items
            .retain(|item| item.project.as_deref() == Some(project));
    }
    let mut agenda = to_json(&agenda);
    // The counts cover every item; the list, the soonest `limit`.
    if let Some(items) = agenda.get_mut("items").and_then(|i| i.as_array_mut()) {
        let total = items.len();
        if let Some(limit) = limit {
            items.truncate(limit);
        }
        agenda["total_items"] = json!(total);
    }
    Ok(answer_json(200, &agenda))
}

/// How many items `GET /agenda` lists unless asked for another `limit`: what a duty desk
/// reads (the default of `pledge agenda --limit`); the counts cover every item.
const AGENDA_LIMIT: usize = 50;

/// A record's JSON as it was written (keys in the order of `pledge check --format jsonl`).
type Raw = Box<serde_json::value::RawValue>;

fn raw(line: String) -> Option<Raw> {
    serde_json::value::RawValue::from_string(line).ok()
}

/// The kind of a record line: its first key is `record`.
fn kind_of(line: &str) -> &str {
    line.strip_prefix("{\"record\":\"")
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
}

fn pretty<T: serde::Serialize>(value: &T) -> Answer {
    let mut body = serde_json::to_string_pretty(value).unwrap_or_default();
    body.push('\n');
    Answer(200, "application/json", body)
}

fn case(shared: &Shared, ticket: &str) -> Result<Answer, String> {
    let mut lines = shared.store.records_of(ticket).map_err(|e| e.to_string())?;
    let (why, fork) = {
        let engine = shared.engine();
        let events = shared.kept_events(&engine, ticket)?;
        let why = (!events.is_empty())
            .then(|| engine.explain_events(ticket, &events))
            .flatten();
        // A case kept is judged as of now; so is a settled one's cycle still running. The
        // copy holds what the ticket's records come of, not every case kept.
        let judged = why.is_some() || engine.settled_awaiting_now(ticket);
        (why, judged.then(|| engine.fork_ticket(ticket)))
    };
    if let Some(fork) = fork {
        lines.extend(
            fork.finish_ticket(ticket)
                .records
                .iter()
                .map(|r| serde_json::to_string(r).unwrap_or_default()),
        );
    }
    if lines.is_empty() && why.is_none() {
        return Ok(error(404, &format!("no case `{ticket}`")));
    }
    #[derive(serde::Serialize)]
    struct Case<'a> {
        ticket: &'a str,
        open: bool,
        verdicts: Vec<Raw>,
        actions: Vec<Raw>,
        findings: Vec<Raw>,
        why: Option<String>,
    }
    let of = |kind: &str| -> Vec<Raw> {
        lines
            .iter()
            .filter(|l| kind_of(l) == kind)
            .filter_map(|l| raw(l.clone()))
            .collect()
    };
    Ok(pretty(&Case {
        ticket,
        open: why.is_some(),
        verdicts: of("verdict"),
        actions: of("action"),
        findings: of("finding"),
        why,
    }))
}

fn records(shared: &Shared, params: &[(String, String)]) -> Result<Answer, String> {
    let since = match param(params, "since").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Ok(error(400, "`since` is a record number")),
    };
    let page = shared
        .store
        .records(since, 1000)
        .map_err(|e| e.to_string())?;
    #[derive(serde::Serialize)]
    struct Page {
        records: Vec<Raw>,
        next: u64,
    }
    let next = page.last().map_or(since, |(n, _)| n + 1);
    Ok(pretty(&Page {
        records: page.into_iter().filter_map(|(_, l)| raw(l)).collect(),
        next,
    }))
}

#[cfg(test)]
mod tests {
    use super::{decode, decode_bytes};

    #[test]
    fn a_plus_is_a_space_in_a_query_and_itself_in_a_path() {
        assert_eq!(decode("T+1", false), "T+1");
        assert_eq!(decode("T%2B1", false), "T+1");
        assert_eq!(decode("a+b", true), "a b");
        assert_eq!(decode("a%2Bb", true), "a+b");
        assert_eq!(decode("%E5%B7%A5%E5%8D%95", false), "工单");
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%4", false), "%4");
        assert_eq!(decode_bytes("%FF", false), [0xff]);
    }
}
