//! Display names: RFC 8266 Nickname, case preserved, plus Guildhall's rules.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::precis::{self, describe};
use crate::{MAX_INPUT_BYTES, NameError};

/// A display name in its enforced form, the form to store and show.
///
/// Deserializing validates, so a `DisplayName` read from JSON is as trustworthy as one
/// from [`DisplayName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The fewest characters a display name may have.
    pub const MIN_CHARS: usize = 1;
    /// The most characters a display name may have.
    pub const MAX_CHARS: usize = 32;

    /// Enforces `input` and checks Guildhall's rules; see the crate documentation.
    pub fn parse(input: &str) -> Result<DisplayName, NameError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(NameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let enforced = precis::enforce_nickname(input)?;
        let chars = enforced.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(NameError::Empty);
        }
        if chars > Self::MAX_CHARS {
            return Err(NameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if let Some(c) = enforced.chars().find(|&c| precis::is_control_or_format(c)) {
            return Err(NameError::disallowed(format!(
                "it contains the invisible or control character {}",
                describe(c)
            )));
        }
        // comparison_key() must not be able to fail on a parsed name; this is where a
        // name whose lowercase form PRECIS rejects (a character whose lowercase was
        // assigned after Unicode 6.3, for one) is turned away instead.
        precis::enforce_nickname_case_mapped(&enforced)?;
        Ok(DisplayName(enforced))
    }

    /// The enforced name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two display names are compared in (`NicknameCaseMapped:ToLower`): names
    /// with equal keys are the same name.
    ///
    /// It is the key of the *enforced* name, which is what gets stored, so keys computed
    /// now and later agree. That is not always the key of the raw input: "Ϲ" (U+03F9)
    /// enforces to "Σ" with key "σ", while lowercasing the raw input first gives "ϲ",
    /// which NFKC turns into the final form "ς".
    pub fn comparison_key(&self) -> String {
        precis::enforce_nickname_case_mapped(&self.0)
            .unwrap_or_else(|_| precis::best_effort_key(&self.0))
    }

    /// The confusable skeleton of [`DisplayName::comparison_key`]; see [`crate::skeleton_key`].
    pub fn skeleton_key(&self) -> String {
        crate::skeleton_key(&self.0)
    }

    /// The enforced name, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for DisplayName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DisplayName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DisplayName::parse(s)
    }
}

impl TryFrom<String> for DisplayName {
    type Error = NameError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        DisplayName::parse(&s)
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        match DisplayName::parse(input) {
            Ok(name) => name.into_string(),
            Err(e) => panic!("{input:?} was rejected: {e}"),
        }
    }

    fn rejected_as_disallowed(input: &str) -> bool {
        matches!(DisplayName::parse(input), Err(NameError::Disallowed { .. }))
    }

    #[test]
    fn spaces_are_mapped_trimmed_and_collapsed() {
        assert_eq!(ok("\u{3000}Hello\u{00A0}\u{00A0}World "), "Hello World");
        assert_eq!(ok("  Guybrush     Threepwood  "), "Guybrush Threepwood");
        assert_eq!(ok("a\u{2003}b\u{205F}\u{1680}c"), "a b c");
    }

    #[test]
    fn nfkc_folds_fullwidth_and_compatibility_forms() {
        assert_eq!(ok("Ａｌｉｃｅ"), "Alice");
        assert_eq!(ok("\u{FB01}sh"), "fish");
        assert_eq!(ok("Richard \u{2163}"), "Richard IV");
        assert_eq!(ok("e\u{0301}"), "\u{00E9}");
    }

    #[test]
    fn case_is_preserved_but_not_compared() {
        let name = DisplayName::parse("McGuffin ΟΔΟΣ").unwrap();
        assert_eq!(name.as_str(), "McGuffin ΟΔΟΣ");
        // Unicode toLowerCase, with the final sigma a per-character mapping would miss.
        assert_eq!(name.comparison_key(), "mcguffin οδος");
        assert_eq!(
            DisplayName::parse("MCGUFFIN οδος")
                .unwrap()
                .comparison_key(),
            name.comparison_key()
        );
    }

    #[test]
    fn empty_and_blank_names_are_empty() {
        for input in ["", " ", "   ", "\u{3000}\u{00A0} \u{2009}"] {
            assert_eq!(
                DisplayName::parse(input),
                Err(NameError::Empty),
                "{input:?}"
            );
        }
    }

    #[test]
    fn length_is_counted_in_characters_after_enforcement() {
        assert_eq!(ok(&"é".repeat(32)).chars().count(), 32);
        assert_eq!(
            DisplayName::parse(&"a".repeat(33)),
            Err(NameError::TooLong { max: 32 })
        );
        // 32 decomposed é are 64 code points in, 32 characters out.
        assert_eq!(ok(&"e\u{0301}".repeat(32)).chars().count(), 32);
        // Padding is trimmed before counting.
        assert_eq!(ok(&format!("   {}   ", "x".repeat(32))).len(), 32);
    }

    #[test]
    fn oversized_input_is_refused_before_enforcement() {
        let huge = " ".repeat(10 * 1024 * 1024);
        assert_eq!(
            DisplayName::parse(&huge),
            Err(NameError::TooLong { max: 32 })
        );
        assert!(DisplayName::parse(&" ".repeat(MAX_INPUT_BYTES)).is_err());
    }

    #[test]
    fn invisible_and_control_characters_are_rejected() {
        for input in [
            "ab\u{200B}cd",  // zero-width space
            "ab\u{202E}cd",  // right-to-left override
            "ab\u{2066}cd",  // left-to-right isolate
            "ab\u{FEFF}cd",  // byte order mark
            "ab\u{00AD}cd",  // soft hyphen
            "ab\u{0007}cd",  // bell
            "ab\ncd",        // newline
            "ab\u{0085}cd",  // next line (C1 control)
            "ab\u{E0041}cd", // tag letter
        ] {
            assert!(rejected_as_disallowed(input), "{input:?}");
        }
    }

    #[test]
    fn joiners_that_precis_allows_are_still_rejected() {
        // ZWNJ after a virama satisfies PRECIS's CONTEXTJ rule, so enforcement keeps it...
        let input = "\u{0915}\u{094D}\u{200C}\u{0937}";
        assert_eq!(precis::enforce_nickname(input).as_deref(), Ok(input));
        // ...and only Guildhall's Cf rule stops it.
        let err = DisplayName::parse(input).unwrap_err();
        assert!(err.to_string().contains("U+200C"), "{err}");
    }

    #[test]
    fn messages_name_the_offending_character() {
        let err = DisplayName::parse("a\u{0001}b").unwrap_err();
        assert!(err.to_string().contains("U+0001"), "{err}");
        assert_eq!(
            NameError::TooLong { max: 32 }.to_string(),
            "the name is too long: it can have at most 32 characters"
        );
    }

    #[test]
    fn ordinary_names_are_accepted() {
        for input in [
            "Alice",
            "Guybrush Threepwood",
            "Zoë",
            "José María",
            "Ἀλέξανδρος",
            "Дмитрий",
            "山田太郎",
            "김민준",
            "محمد",
            "שרה",
            "x_X-9000 (AFK)",
            "😀 Smiley",
        ] {
            assert_eq!(ok(input), input);
        }
    }

    #[test]
    fn characters_newer_than_the_precis_tables_are_rejected() {
        // U+1F970 (smiling face with hearts) is Unicode 11; precis-core knows 6.3.
        assert!(rejected_as_disallowed("hi \u{1F970}"));
        // Cherokee capitals existed in 6.3 but their lowercase forms did not, so the
        // comparison key cannot be made and the name is refused.
        assert_eq!(
            precis::enforce_nickname("\u{13A0}\u{13A1}").as_deref(),
            Ok("\u{13A0}\u{13A1}")
        );
        assert!(rejected_as_disallowed("\u{13A0}\u{13A1}"));
    }

    #[test]
    fn serializes_as_a_string_and_validates_when_deserialized() {
        let name = DisplayName::parse(" Ａｌｉｃｅ ").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"Alice\"");
        let back: DisplayName = serde_json::from_str("\"  Alice \"").unwrap();
        assert_eq!(back, name);
        assert!(serde_json::from_str::<DisplayName>("\"a\\u200bb\"").is_err());
    }
}
