//! The PRECIS pipelines alone, without Guildhall's own length and invisible-character
//! rules, so they can be checked code point for code point against python `precis_i18n`.
//!
//! `precis-profiles` gets the individual rules right but composes them differently from
//! RFC 8264 section 7 and from `precis_i18n`, so the profiles' own `enforce` is not used:
//!
//! * it checks the string class on the *input* (in `prepare`) instead of on the *output*
//!   of the mapping rules, so "ｌ·ｌ" (fullwidth l, whose NFKC is "l·l") and decomposed
//!   Hangul jamo (which NFKC composes into a syllable) are rejected although the enforced
//!   result is valid;
//! * its case mapping lowercases one `char` at a time, which misses the context-dependent
//!   final sigma ("ΟΔΟΣ" must become "οδος", as Unicode toLowerCase and Python do);
//! * its Bidi rule refuses a nonspacing mark anywhere but at the end of a right-to-left
//!   label, so pointed Hebrew and vowelled Arabic ("שָׁלוֹם", "مُحَمَّد") fail, although
//!   RFC 5893 rule 2 allows NSM throughout the label.
//!
//! So the space, width and NFC rules are taken from `precis-profiles` (through its public
//! `Rules` trait), NFKC from `unicode-normalization` (as `precis-profiles` does it), case
//! mapping is `str::to_lowercase`, the Bidi rule is written out below from RFC 5893, the
//! string class check comes from `precis-core` and is applied to the final string, and
//! the idempotence check repeats the rules exactly as many times as `precis_i18n` does.
//! The agreement test (`tests/precis_agreement.rs`) finds about 200 differences from
//! Python with the profiles' own `enforce` over its corpus, and none with this.
//!
//! `precis-core` derives its string classes from Unicode 6.3 (the version in the IANA
//! PRECIS registry), while Python, `unicode-normalization` and the standard library use
//! newer versions. Input containing a code point that 6.3 does not know is rejected up
//! front: otherwise a character newer than every table (say a Unicode 16 outlined digit)
//! could be normalized by one library into something another library then accepts.

use std::borrow::Cow;

use precis_core::profile::Rules;
use precis_core::{DerivedPropertyValue, Error, FreeformClass, IdentifierClass, StringClass};
use precis_profiles::{Nickname, UsernameCaseMapped};
use unicode_bidi::{BidiClass, bidi_class};
use unicode_normalization::UnicodeNormalization;

use crate::NameError;

/// The first code point of `s` that `precis-core`'s Unicode 6.3 tables list as unassigned.
///
/// Every enforcement function rejects such input; this tells a caller (or a test) why.
pub fn first_unassigned(s: &str) -> Option<char> {
    let class = FreeformClass::default();
    s.chars()
        .find(|&c| class.get_value_from_char(c) == DerivedPropertyValue::Unassigned)
}

/// RFC 8266 `NicknameCasePreserved` enforcement: map non-ASCII spaces to SPACE, trim,
/// collapse runs of spaces, NFKC, then the FreeformClass check.
///
/// PRECIS only: no length limit and no Guildhall rules. It is linear in the input, but
/// untrusted input should go through [`crate::DisplayName::parse`], which bounds it first.
pub fn enforce_nickname(input: &str) -> Result<String, NameError> {
    enforce_nickname_with(input, false)
}

/// `NicknameCaseMapped:ToLower` enforcement: [`enforce_nickname`] plus lowercasing
/// (Unicode toLowerCase) before normalization. Display names compare equal when these match.
pub fn enforce_nickname_case_mapped(input: &str) -> Result<String, NameError> {
    enforce_nickname_with(input, true)
}

/// RFC 8265 `UsernameCaseMapped` enforcement: width mapping, lowercasing, NFC, the Bidi
/// rule when the string has right-to-left characters, then the IdentifierClass check.
///
/// PRECIS only, without length limits; see [`crate::Username::parse`].
pub fn enforce_username_precis(input: &str) -> Result<String, NameError> {
    reject_unassigned(input)?;
    // precis_i18n applies the rules once and then requires a second pass to change
    // nothing; a string that keeps changing is not a stable identifier.
    let once = username_rules(input)?;
    let twice = username_rules(&once)?;
    if twice != once {
        return Err(not_idempotent());
    }
    if once.is_empty() {
        return Err(NameError::Empty);
    }
    IdentifierClass::default()
        .allows(&once)
        .map_err(|e| precis_error(&once, e))?;
    Ok(once)
}

/// The nickname mapping rules repeated until they stop changing the string (at most
/// three passes), without the string class check. It never fails, so keys can be made
/// for any text, for instance reserved names that are not themselves valid display names.
pub(crate) fn best_effort_key(input: &str) -> String {
    let mut current = nickname_rules(input, true);
    for _ in 0..2 {
        let next = nickname_rules(&current, true);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn enforce_nickname_with(input: &str, lowercase: bool) -> Result<String, NameError> {
    reject_unassigned(input)?;
    // The space, case and NFKC rules do not commute (NFKC can create spaces and capitals,
    // lowercasing can undo a composition), so RFC 8266 section 2.4 applies them again
    // until the result is stable; precis_i18n allows two passes and checks a third.
    let first = nickname_rules(input, lowercase);
    let second = nickname_rules(&first, lowercase);
    if nickname_rules(&second, lowercase) != second {
        return Err(not_idempotent());
    }
    if second.is_empty() {
        return Err(NameError::Empty);
    }
    FreeformClass::default()
        .allows(&second)
        .map_err(|e| precis_error(&second, e))?;
    Ok(second)
}

fn nickname_rules(s: &str, lowercase: bool) -> String {
    // The space rule of precis-profiles maps and never validates, so it always returns
    // Ok; the fallback only keeps this function total.
    let s = Nickname::new()
        .additional_mapping_rule(s)
        .unwrap_or(Cow::Borrowed(s));
    if lowercase {
        s.to_lowercase().nfkc().collect()
    } else {
        s.nfkc().collect()
    }
}

fn username_rules(s: &str) -> Result<String, NameError> {
    let profile = UsernameCaseMapped::new();
    let s = profile
        .width_mapping_rule(s)
        .map_err(|e| precis_error(s, e))?;
    let s = s.to_lowercase();
    let s = profile
        .normalization_rule(s.as_str())
        .map_err(|e| precis_error(&s, e))?
        .into_owned();
    if has_rtl(&s) && !satisfies_bidi_rule(&s) {
        return Err(NameError::disallowed(
            "it mixes left-to-right and right-to-left text in a way the Bidi rule (RFC 5893) forbids",
        ));
    }
    Ok(s)
}

/// Whether the string has right-to-left characters: the Bidi rule applies only then
/// (RFC 8265 section 3.4.5 via RFC 5893).
fn has_rtl(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(bidi_class(c), BidiClass::R | BidiClass::AL | BidiClass::AN))
}

/// RFC 5893 section 2: the six conditions of the Bidi rule.
fn satisfies_bidi_rule(s: &str) -> bool {
    use BidiClass::*;
    let classes: Vec<BidiClass> = s.chars().map(bidi_class).collect();
    let Some(&first) = classes.first() else {
        return true;
    };
    // Condition 1 decides the direction; 2 and 5 list what may follow; 3 and 6 what the
    // label may end with, ignoring trailing nonspacing marks.
    let rtl = match first {
        R | AL => true,
        L => false,
        _ => return false,
    };
    let allowed = |c: &BidiClass| match rtl {
        true => matches!(c, R | AL | AN | EN | ES | CS | ET | ON | BN | NSM),
        false => matches!(c, L | EN | ES | CS | ET | ON | BN | NSM),
    };
    // `first` is not NSM, so a last non-NSM class always exists.
    let end = classes.iter().rposition(|&c| c != NSM).unwrap_or(0);
    let last_ok = match rtl {
        true => matches!(classes[end], R | AL | EN | AN),
        false => matches!(classes[end], L | EN),
    };
    // Condition 4: European and Arabic-Indic digits may not be mixed in an RTL label.
    let mixed_digits = rtl && classes.contains(&EN) && classes.contains(&AN);
    last_ok && !mixed_digits && classes.iter().all(allowed)
}

fn reject_unassigned(input: &str) -> Result<(), NameError> {
    match first_unassigned(input) {
        Some(c) => Err(NameError::disallowed(format!(
            "{} is not a character this service recognises (unassigned in Unicode 6.3)",
            describe(c)
        ))),
        None => Ok(()),
    }
}

fn not_idempotent() -> NameError {
    NameError::disallowed("normalizing it does not give a stable result")
}

fn precis_error(s: &str, error: Error) -> NameError {
    match error {
        Error::BadCodepoint(info) => {
            let what = char::from_u32(info.cp)
                .map(describe)
                .unwrap_or_else(|| format!("U+{:04X}", info.cp));
            let why = match info.property {
                DerivedPropertyValue::Unassigned => "is unassigned in Unicode 6.3",
                DerivedPropertyValue::ContextJ | DerivedPropertyValue::ContextO => {
                    "is only allowed next to particular characters"
                }
                _ => "is not allowed",
            };
            NameError::disallowed(format!("{what} at position {} {why}", info.position + 1))
        }
        Error::Invalid if s.is_empty() => NameError::Empty,
        Error::Invalid | Error::Unexpected(_) => {
            NameError::disallowed("it is not a valid PRECIS string")
        }
    }
}

/// "U+200B" for invisible characters, "'é' (U+00E9)" for the rest, so a message never
/// shows a character the reader cannot see.
pub(crate) fn describe(c: char) -> String {
    if is_control_or_format(c) || c.is_whitespace() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("'{c}' (U+{:04X})", u32::from(c))
    }
}

/// General Category Cc (controls) or Cf (format characters: zero-width spaces and
/// joiners, bidi embeddings, overrides and isolates, word joiner, BOM, tags...).
///
/// The standard library has no general-category lookup, and Cf is small and rarely
/// grows, so it is listed here (Unicode 17). A test checks it against Python's tables.
pub fn is_control_or_format(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let cp = u32::from(c);
    c.is_control() || FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_newer_than_every_table_are_rejected_before_mapping() {
        // U+1CCF6 OUTLINED DIGIT SIX (Unicode 16): unicode-normalization folds it to "6",
        // which the string class would then accept, while Python (Unicode 14) rejects it
        // as unassigned. Only the input check keeps us on the strict side.
        assert_eq!("\u{1CCF6}".nfkc().collect::<String>(), "6");
        assert_eq!(first_unassigned("ab\u{1CCF6}"), Some('\u{1CCF6}'));
        assert!(enforce_nickname("ab\u{1CCF6}").is_err());
        assert!(enforce_username_precis("ab\u{1CCF6}").is_err());
        assert_eq!(first_unassigned("admin \u{1F600}"), None);
    }

    #[test]
    fn class_is_checked_on_the_output_not_the_input() {
        // Fullwidth l is not l, so the MIDDLE DOT context fails on the input; after NFKC it
        // holds. RFC 8264 section 7 (and precis_i18n) check the output.
        assert_eq!(
            enforce_nickname("\u{FF4C}\u{00B7}\u{FF4C}").as_deref(),
            Ok("l\u{00B7}l")
        );
        assert!(enforce_nickname("a\u{00B7}b").is_err());
        // Conjoining jamo are disallowed, the syllable NFKC composes them into is not.
        assert_eq!(
            enforce_nickname("\u{1100}\u{1161}").as_deref(),
            Ok("\u{AC00}")
        );
        assert!(enforce_nickname("\u{1100}").is_err());
    }

    #[test]
    fn unstable_mappings_are_repeated_until_stable() {
        // NFKC turns U+00A8 DIAERESIS into SPACE + combining diaeresis, so the leading
        // space only appears after the first pass and is trimmed by the second.
        assert_eq!(
            enforce_nickname("\u{00A8}abc").as_deref(),
            Ok("\u{0308}abc")
        );
    }

    #[test]
    fn bidi_rule() {
        assert!(satisfies_bidi_rule("\u{05E9}\u{05B8}\u{05DC}")); // NSM inside RTL
        assert!(satisfies_bidi_rule("\u{05D0}1")); // RTL may end with EN
        assert!(!satisfies_bidi_rule("1\u{05D0}")); // must start with L, R or AL
        assert!(!satisfies_bidi_rule("\u{05D0}a")); // L inside RTL
        assert!(!satisfies_bidi_rule("\u{0627}1\u{0661}")); // EN and AN mixed
        assert!(!satisfies_bidi_rule("a\u{05D0}")); // R inside LTR
        assert!(satisfies_bidi_rule("ab\u{0301}c"));
        assert!(satisfies_bidi_rule(""));
    }
}
