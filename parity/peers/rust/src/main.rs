//! The Rust reference producer of session.iterate.v1, written the way a Rust service naturally
//! writes the row: a serde struct in schema order, `Option` fields skipped when `None`, the
//! artifact as `serde_json::Value` (keys sorted: serde_json's default map is a BTreeMap).
//!
//!   session-log-peer                       fixture on stdin -> row on stdout (timestamp pinned)
//!   session-log-peer append FILE DAEMON    NDJSON fixtures on stdin -> one write per row to FILE
//!
//! A fixture it refuses: `bad fixture: …` on stderr, exit status 1.
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fs::OpenOptions;
use std::io::{self, BufRead, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

// The row caps every producer of the log applies (packages/session-log/README.md, "Row caps").
const MAX_PROMPT_CODE_POINTS: usize = 4000;
const MAX_ERROR_CODE_POINTS: usize = 4000;
const MAX_LABEL_CODE_POINTS: usize = 256;
const MAX_ATTEMPTS: usize = 100;
const MAX_ARTIFACT_BYTES: usize = 262_144;
const MAX_ARTIFACT_DEPTH: usize = 128;
const PINNED_TIMESTAMP: &str = "2026-01-01T00:00:00+00:00";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FinalVerdict {
    Accepted,
    MaxIterExhausted,
    InfraError,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AttemptVerdict {
    Accepted,
    ValidationFailed,
    NoJson,
    InfraError,
}

#[derive(Serialize, Deserialize)]
struct SessionAttemptRecord {
    iteration: u32,
    verdict_kind: AttemptVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    #[serde(default)]
    schema: String,
    session_id: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    daemon: String,
    kind: String,
    model: String,
    provider: String,
    prompt: String,
    iterations: u32,
    max_iterations: u32,
    final_verdict: FinalVerdict,
    attempts: Vec<SessionAttemptRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact: Option<Value>,
    grounded_in_roster: Option<bool>,
    duration_ms: u64,
}

fn truncate_code_points(text: &mut String, max: usize) {
    if let Some((end, _)) = text.char_indices().nth(max) {
        text.truncate(end);
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Bounds every field the row takes from its input.
fn apply_caps(r: &mut SessionRecord) {
    truncate_code_points(&mut r.session_id, MAX_LABEL_CODE_POINTS);
    truncate_code_points(&mut r.kind, MAX_LABEL_CODE_POINTS);
    truncate_code_points(&mut r.model, MAX_LABEL_CODE_POINTS);
    truncate_code_points(&mut r.provider, MAX_LABEL_CODE_POINTS);
    truncate_code_points(&mut r.prompt, MAX_PROMPT_CODE_POINTS);
    r.attempts.truncate(MAX_ATTEMPTS);
    for attempt in &mut r.attempts {
        if let Some(error) = attempt.error.as_mut() {
            truncate_code_points(error, MAX_ERROR_CODE_POINTS);
        }
        if let Some(span_id) = attempt.span_id.as_mut() {
            truncate_code_points(span_id, MAX_LABEL_CODE_POINTS);
        }
    }
    if let Some(artifact) = r.artifact.as_mut() {
        if depth(artifact) > MAX_ARTIFACT_DEPTH {
            *artifact = json!({"$truncated": {"reason": "depth", "cap": MAX_ARTIFACT_DEPTH}});
            return;
        }
        let bytes = serde_json::to_vec(artifact).map(|v| v.len()).unwrap_or(0);
        if bytes > MAX_ARTIFACT_BYTES {
            *artifact =
                json!({"$truncated": {"reason": "size", "bytes": bytes, "cap": MAX_ARTIFACT_BYTES}});
        }
    }
}

// The parity script counts a refusal only with the `bad fixture:` marker (anything else is a crash).
fn decode(text: &str, timestamp: &str, daemon: &str) -> Result<SessionRecord, String> {
    let mut r: SessionRecord =
        serde_json::from_str(text).map_err(|e| format!("bad fixture: {e}"))?;
    r.schema = "session.iterate.v1".to_string();
    r.timestamp = timestamp.to_string();
    r.daemon = daemon.to_string();
    apply_caps(&mut r);
    Ok(r)
}

fn encode(r: &SessionRecord) -> Result<Vec<u8>, String> {
    let mut row = serde_json::to_vec(r).map_err(|e| e.to_string())?;
    row.push(b'\n');
    Ok(row)
}

fn probe() -> Result<(), String> {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => format!("bad fixture: {e}"),
        _ => e.to_string(),
    })?;
    let row = encode(&decode(&input, PINNED_TIMESTAMP, "gateway")?)?;
    io::stdout().write_all(&row).map_err(|e| e.to_string())
}

/// RFC 3339 UTC with microseconds, e.g. 2026-05-02T07:30:00.123456Z (civil-from-days, no crates).
fn now_rfc3339() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

fn append(path: &str, daemon: &str) -> Result<(), String> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        // One write per row on the O_APPEND descriptor keeps rows whole across processes; the
        // leading newline keeps a fragment another producer left (killed mid-write) off this row.
        let mut row = vec![b'\n'];
        row.extend(encode(&decode(&line, &now_rfc3339(), daemon)?)?);
        let written = (&file).write(&row).map_err(|e| e.to_string())?;
        if written != row.len() {
            return Err(format!("short write: {written} of {} bytes", row.len()));
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.as_slice() {
        [_] => probe(),
        [_, command, path, daemon] if command == "append" => append(path, daemon),
        _ => Err("usage: session-log-peer [append FILE DAEMON]".to_string()),
    };
    if let Err(message) = result {
        eprintln!("session-log-peer (rust): {message}");
        std::process::exit(1);
    }
}
