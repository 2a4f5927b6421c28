//! Importing guest profiles from a legacy store (seed: head-service-plan, workstreams 2
//! and 7).
//!
//! A legacy row is `(legacy_id, display_name, created_at)`. Each becomes a guest profile
//! whose user id is derived from the legacy id (UUID v5), so importing the same file twice
//! changes nothing and a game server can map its old ids to Guildhall ids without a
//! lookup table. Names go through the same rules as live display names; a name the rules
//! change is imported changed and reported, a name they refuse is not imported and
//! reported. Every import is one batch id, and a rollback removes exactly that batch.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use guildhall_names::{DisplayName, ReservedNames};
use serde::Deserialize;
use uuid::Uuid;

/// The namespace legacy ids are hashed in to make user ids.
pub const LEGACY_NAMESPACE: Uuid = Uuid::from_u128(0x6775_696c_6468_616c_6c2d_6c65_6761_6379);

/// One row as read from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyRow {
    pub legacy_id: String,
    pub display_name: String,
    /// RFC 3339 or Unix seconds; missing means "now".
    #[serde(default)]
    pub created_at: Option<serde_json::Value>,
}

/// A row ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub legacy_id: String,
    pub user_id: Uuid,
    pub name: DisplayName,
    /// The name as the legacy store had it, when the rules changed it.
    pub changed_from: Option<String>,
    pub created_at: i64,
}

/// A row that will not be imported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// 1-based line (or record) number in the file.
    pub line: usize,
    pub legacy_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub planned: Vec<Planned>,
    pub rejected: Vec<Rejected>,
}

/// Reads a `.csv` (with a header) or JSON-lines file.
pub fn read(path: &Path) -> anyhow::Result<Vec<(usize, Result<LegacyRow, String>)>> {
    let file = std::fs::File::open(path)?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut rows = Vec::new();
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::None)
            .from_reader(file);
        for (i, record) in reader.records().enumerate() {
            let line = i + 2; // after the header
            rows.push((
                line,
                record.map_err(|e| e.to_string()).and_then(|r| {
                    if r.len() < 2 || r.len() > 3 {
                        return Err(format!("expected 2 or 3 fields, found {}", r.len()));
                    }
                    Ok(LegacyRow {
                        legacy_id: r[0].to_owned(),
                        display_name: r[1].to_owned(),
                        created_at: r
                            .get(2)
                            .filter(|v| !v.is_empty())
                            .map(|v| serde_json::Value::String(v.to_owned())),
                    })
                }),
            ));
        }
    } else {
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line_no = i + 1;
            match line {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => rows.push((
                    line_no,
                    serde_json::from_str::<LegacyRow>(&text).map_err(|e| e.to_string()),
                )),
                Err(err) => rows.push((line_no, Err(err.to_string()))),
            }
        }
    }
    Ok(rows)
}

/// Decides, row by row, what an import would do. `username_taken` answers whether a
/// display name imitates an existing account's username.
pub fn plan(
    rows: Vec<(usize, Result<LegacyRow, String>)>,
    reserved: &ReservedNames,
    username_taken: impl Fn(&DisplayName) -> bool,
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    for (line, row) in rows {
        let row = match row {
            Ok(row) => row,
            Err(reason) => {
                plan.rejected.push(Rejected {
                    line,
                    legacy_id: None,
                    reason: format!("unreadable: {reason}"),
                });
                continue;
            }
        };
        let reject = |reason: String| Rejected {
            line,
            legacy_id: Some(row.legacy_id.clone()),
            reason,
        };
        let legacy_id = row.legacy_id.trim();
        if legacy_id.is_empty() || legacy_id.len() > 128 || legacy_id.chars().any(char::is_control)
        {
            plan.rejected.push(reject(
                "legacy_id must be 1-128 characters without control characters".into(),
            ));
            continue;
        }
        if !seen.insert(legacy_id.to_owned()) {
            plan.rejected
                .push(reject("duplicate legacy_id in this file".into()));
            continue;
        }
        let name = match DisplayName::parse(&row.display_name) {
            Ok(name) => name,
            Err(err) => {
                plan.rejected.push(reject(format!("display name: {err}")));
                continue;
            }
        };
        if reserved.is_reserved(&name) || username_taken(&name) {
            plan.rejected.push(reject(
                "display name is reserved or imitates an account".into(),
            ));
            continue;
        }
        let created_at = match parse_time(row.created_at.as_ref(), now) {
            Ok(t) => t,
            Err(reason) => {
                plan.rejected.push(reject(reason));
                continue;
            }
        };
        let changed_from = (name.as_str() != row.display_name).then(|| row.display_name.clone());
        plan.planned.push(Planned {
            user_id: Uuid::new_v5(&LEGACY_NAMESPACE, legacy_id.as_bytes()),
            legacy_id: legacy_id.to_owned(),
            name,
            changed_from,
            created_at,
        });
    }
    plan
}

fn parse_time(value: Option<&serde_json::Value>, now: i64) -> Result<i64, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(now),
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .filter(|t| (0..=now + 86_400).contains(t))
            .ok_or_else(|| "created_at out of range".into()),
        Some(serde_json::Value::String(s)) => {
            if let Ok(t) = s.parse::<i64>() {
                return parse_time(Some(&serde_json::Value::from(t)), now);
            }
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|e| format!("created_at `{s}` is not RFC 3339 or Unix seconds: {e}"))
        }
        Some(other) => Err(format!("created_at has the wrong type: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: &str, at: Option<&str>) -> (usize, Result<LegacyRow, String>) {
        (
            1,
            Ok(LegacyRow {
                legacy_id: id.into(),
                display_name: name.into(),
                created_at: at.map(|a| a.into()),
            }),
        )
    }

    #[test]
    fn plans_changes_rejections_and_stable_ids() {
        let reserved = ReservedNames::with_defaults(&[]);
        let rows = vec![
            row("1", "Plain", Some("2020-01-02T03:04:05Z")),
            row("2", "  Ｗｉｄｅ   name ", Some("1600000000")),
            row("3", "", None),
            row("4", "admin", None),
            row("1", "Again", None),
            row("5", "Taken", None),
            row("6", "ok", Some("yesterday")),
            (9, Err("bad json".into())),
        ];
        let plan = plan(rows, &reserved, |n| n.as_str() == "Taken", 1_700_000_000);
        let ids: Vec<&str> = plan.planned.iter().map(|p| p.legacy_id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(plan.planned[0].created_at, 1_577_934_245);
        assert_eq!(plan.planned[0].changed_from, None);
        assert_eq!(plan.planned[1].name.as_str(), "Wide name");
        assert_eq!(
            plan.planned[1].changed_from.as_deref(),
            Some("  Ｗｉｄｅ   name ")
        );
        assert_eq!(plan.planned[1].created_at, 1_600_000_000);
        assert_eq!(
            plan.planned[0].user_id,
            Uuid::new_v5(&LEGACY_NAMESPACE, b"1"),
            "same id every run"
        );
        let reasons: Vec<String> = plan.rejected.iter().map(|r| r.reason.clone()).collect();
        assert_eq!(plan.rejected.len(), 6, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("duplicate")));
        assert!(reasons.iter().any(|r| r.contains("reserved")));
        assert!(reasons.iter().any(|r| r.contains("RFC 3339")));
        assert!(reasons.iter().any(|r| r.contains("unreadable")));
    }
}
