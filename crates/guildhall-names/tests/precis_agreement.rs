//! Checks our PRECIS enforcement against python `precis_i18n`, an independent
//! implementation, over a fixed corpus of a few thousand names (`corpus/mod.rs`).
//!
//! Where Python accepts a name, ours must give the identical string; where Python rejects,
//! ours must reject. One kind of difference is allowed and reported on every run: we
//! reject a name that contains (or maps to) a code point that `precis-core`'s Unicode 6.3
//! tables do not know but Python's newer Unicode does. That is the stricter side of a
//! version difference, not a bug, and the test checks Python really knows the character.

mod corpus;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use guildhall_names::{
    DisplayName, NameError, Username, enforce_nickname, enforce_nickname_case_mapped,
    enforce_username_precis, first_unassigned, is_control_or_format,
};
use serde_json::Value;

struct Oracle {
    results: Vec<Value>,
    categories: HashMap<String, String>,
    control_or_format: Vec<u32>,
    versions: String,
}

fn run_oracle(corpus: &[String]) -> Option<Oracle> {
    let python = guildhall_testkit::python()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("corpus.json");
    std::fs::write(&input, serde_json::to_vec(corpus).expect("corpus JSON")).expect("write corpus");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/precis_oracle.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&input)
        .output()
        .expect("run the Python oracle");
    assert!(
        out.status.success(),
        "{} {} failed ({}):\n{}",
        python.display(),
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut json: Value = serde_json::from_slice(&out.stdout).expect("oracle output is JSON");
    let results = json["results"].as_array().cloned().expect("results");
    assert_eq!(results.len(), corpus.len(), "one result per corpus name");
    let categories = serde_json::from_value(json["categories"].take()).expect("categories");
    let control_or_format =
        serde_json::from_value(json["control_or_format"].take()).expect("control_or_format");
    let versions = format!(
        "precis_i18n {} on Unicode {}",
        json["precis_i18n_version"].as_str().unwrap_or("?"),
        json["unicode_version"].as_str().unwrap_or("?")
    );
    Some(Oracle {
        results,
        categories,
        control_or_format,
        versions,
    })
}

fn code_points(s: &str) -> String {
    let cps: Vec<String> = s
        .chars()
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    format!("[{}]", cps.join(" "))
}

fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        format!(
            "{}… ({} chars)",
            s.chars().take(40).collect::<String>(),
            s.chars().count()
        )
    } else {
        s.to_owned()
    }
}

/// Python's verdict: `Ok(enforced)` or `Err(reason)`.
fn python_verdict(row: &Value, profile: &str) -> Result<String, String> {
    let outcome = &row[profile];
    match (outcome["ok"].as_str(), outcome["err"].as_str()) {
        (Some(ok), _) => Ok(ok.to_owned()),
        (None, Some(err)) => Err(err.to_owned()),
        _ => panic!("malformed oracle outcome for {profile}: {outcome}"),
    }
}

#[derive(Default)]
struct Tally {
    checks: usize,
    both_accept: usize,
    both_reject: usize,
    newer_unicode: Vec<String>,
    newer_code_points: std::collections::BTreeSet<char>,
    disagreements: Vec<String>,
}

impl Tally {
    fn compare(
        &mut self,
        oracle: &Oracle,
        profile: &str,
        name: &str,
        python: Result<String, String>,
        ours: Result<String, NameError>,
    ) {
        self.checks += 1;
        let detail = |what: &str| {
            format!(
                "{profile}: {:?} {}: {what}",
                short(name),
                code_points(&short(name))
            )
        };
        match (python, ours) {
            (Ok(p), Ok(o)) if p == o => self.both_accept += 1,
            (Err(_), Err(_)) => self.both_reject += 1,
            (Ok(p), Ok(o)) => self.disagreements.push(detail(&format!(
                "python {:?} {} vs ours {:?} {}",
                p,
                code_points(&p),
                o,
                code_points(&o)
            ))),
            (Err(p), Ok(o)) => self.disagreements.push(detail(&format!(
                "python rejects ({p}), ours accepts as {o:?} {}",
                code_points(&o)
            ))),
            (Ok(p), Err(o)) => {
                // Stricter only because of a character our Unicode 6.3 tables lack and
                // Python's Unicode knows (category other than Cn)?
                let unknown = first_unassigned(name).or_else(|| first_unassigned(&p));
                let python_knows = unknown.is_some_and(|c| {
                    let key = format!("{:04X}", u32::from(c));
                    oracle.categories.get(&key).is_some_and(|cat| cat != "Cn")
                });
                match unknown {
                    Some(c) if python_knows => {
                        self.newer_code_points.insert(c);
                        self.newer_unicode.push(detail(&format!(
                            "U+{:04X} is unassigned in Unicode 6.3",
                            u32::from(c)
                        )))
                    }
                    _ => self.disagreements.push(detail(&format!(
                        "python accepts as {p:?} {}, ours rejects: {o}",
                        code_points(&p)
                    ))),
                }
            }
        }
    }
}

#[test]
fn enforcement_agrees_with_python_precis_i18n() {
    let corpus = corpus::build();
    assert!(
        corpus.len() >= 1000,
        "corpus has only {} names",
        corpus.len()
    );
    let Some(oracle) = run_oracle(&corpus) else {
        return;
    };

    let mut tally = Tally::default();
    let mut extra_rule_violations = Vec::new();
    let (mut display_ok, mut username_ok) = (0, 0);
    for (name, row) in corpus.iter().zip(&oracle.results) {
        let nick = python_verdict(row, "nickname");
        let lower = python_verdict(row, "nickname_lower");
        let user = python_verdict(row, "username");
        tally.compare(
            &oracle,
            "NicknameCasePreserved",
            name,
            nick.clone(),
            enforce_nickname(name),
        );
        tally.compare(
            &oracle,
            "NicknameCaseMapped:ToLower",
            name,
            lower.clone(),
            enforce_nickname_case_mapped(name),
        );
        tally.compare(
            &oracle,
            "UsernameCaseMapped",
            name,
            user.clone(),
            enforce_username_precis(name),
        );
        // A display name is stored enforced and compared by the key of that stored form,
        // which is not always the key of the raw input (U+03F9 Ϲ enforces to Σ, whose
        // key is σ, while lowercasing the raw Ϲ first gives ϲ and then NFKC ς).
        let key = row
            .get("nickname_key")
            .map(|_| python_verdict(row, "nickname_key"));
        if let (Some(key), Ok(enforced)) = (&key, &nick) {
            tally.compare(
                &oracle,
                "ToLower(CasePreserved)",
                name,
                key.clone(),
                enforce_nickname_case_mapped(enforced),
            );
        }

        // Guildhall's own rules may only reject more: whatever the public types accept,
        // Python accepts too, with the same result.
        if let Ok(d) = DisplayName::parse(name) {
            display_ok += 1;
            let python_key = key.as_ref().and_then(|k| k.as_deref().ok());
            if nick.as_deref() != Ok(d.as_str()) || python_key != Some(d.comparison_key().as_str())
            {
                extra_rule_violations.push(format!(
                    "DisplayName {:?} {} accepted as {:?} / key {:?}; python {nick:?} / {key:?}",
                    short(name),
                    code_points(&short(name)),
                    d.as_str(),
                    d.comparison_key()
                ));
            }
        }
        if let Ok(u) = Username::parse(name) {
            username_ok += 1;
            if user.as_deref() != Ok(u.as_str()) {
                extra_rule_violations.push(format!(
                    "Username {:?} {} accepted as {:?}; python {user:?}",
                    short(name),
                    code_points(&short(name)),
                    u.as_str()
                ));
            }
        }
    }

    println!(
        "precis agreement ({}): corpus {} names, {} checks: {} agree ({} accepted identically, \
         {} rejected by both), {} stricter (we reject, Python accepts) because of {} code points \
         newer than Unicode 6.3, {} disagreements; \
         DisplayName accepted {}, Username accepted {}, {} extra-rule violations",
        oracle.versions,
        corpus.len(),
        tally.checks,
        tally.both_accept + tally.both_reject,
        tally.both_accept,
        tally.both_reject,
        tally.newer_unicode.len(),
        tally.newer_code_points.len(),
        tally.disagreements.len(),
        display_ok,
        username_ok,
        extra_rule_violations.len(),
    );
    for line in tally.newer_unicode.iter().take(10) {
        println!("  stricter (newer Unicode): {line}");
    }
    for line in tally.disagreements.iter().take(20) {
        println!("  DISAGREEMENT {line}");
    }
    for line in extra_rule_violations.iter().take(20) {
        println!("  EXTRA-RULE VIOLATION {line}");
    }
    assert!(
        tally.disagreements.is_empty() && extra_rule_violations.is_empty(),
        "{} disagreements and {} extra-rule violations with python precis_i18n; the first are printed above",
        tally.disagreements.len(),
        extra_rule_violations.len()
    );
    // Guard against a corpus that silently stopped exercising acceptance or rejection.
    assert!(
        tally.both_accept > 1000 && tally.both_reject > 1000,
        "corpus lost its balance"
    );
    assert!(
        display_ok > 500 && username_ok > 200,
        "too few names accepted by the public types"
    );
}

#[test]
fn control_and_format_table_matches_python_unicodedata() {
    let Some(oracle) = run_oracle(&["x".to_owned()]) else {
        return;
    };
    let python: std::collections::HashSet<u32> = oracle.control_or_format.iter().copied().collect();
    assert!(
        python.len() > 150,
        "python listed only {} Cc/Cf code points",
        python.len()
    );
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let cp = u32::from(c);
        match (python.contains(&cp), is_control_or_format(c)) {
            (true, false) => missing.push(format!("U+{cp:04X}")),
            (false, true) => extra.push(c),
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "Cc/Cf code points our table lacks: {missing:?}"
    );
    // Ours may be newer than Python's Unicode, but only by characters Python has not
    // assigned yet; ask it about each one.
    let python_bin = guildhall_testkit::python().expect("checked above");
    let list: Vec<String> = extra
        .iter()
        .map(|c| format!("{:X}", u32::from(*c)))
        .collect();
    let out = Command::new(python_bin)
        .args([
            "-c",
            "import sys, unicodedata; print(' '.join(unicodedata.category(chr(int(x, 16))) for x in sys.argv[1:]))",
        ])
        .args(&list)
        .output()
        .expect("run python");
    let categories = String::from_utf8_lossy(&out.stdout);
    for (cp, cat) in list.iter().zip(categories.split_whitespace()) {
        assert_eq!(cat, "Cn", "U+{cp} is Cc/Cf to us but {cat} to Python");
    }
    assert_eq!(
        categories.split_whitespace().count(),
        list.len(),
        "python answered for each"
    );
    println!(
        "Cc/Cf table: {} code points agree with {}; {} more are newer than it",
        python.len(),
        oracle.versions,
        extra.len()
    );
}
