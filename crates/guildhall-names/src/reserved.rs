//! Names nobody may take, nor anything that looks like them.

use std::collections::HashSet;

use crate::DisplayName;

/// Names that would let a player pass as staff or as the service itself.
pub const DEFAULT_RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "moderator",
    "mod",
    "system",
    "support",
    "staff",
    "guildhall",
    "root",
    "server",
];

/// A set of reserved names, held as confusable skeletons so that look-alikes of a
/// reserved name (other case, fullwidth, homoglyphs from other scripts) are reserved too.
#[derive(Debug, Clone, Default)]
pub struct ReservedNames {
    skeletons: HashSet<String>,
}

impl ReservedNames {
    /// [`DEFAULT_RESERVED`] plus the configured `extra` names.
    pub fn with_defaults(extra: &[String]) -> ReservedNames {
        Self::new(
            DEFAULT_RESERVED
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str)),
        )
    }

    /// Exactly the given names. Names that are blank once normalized are ignored (an
    /// empty skeleton would match nothing a display name can be anyway).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> ReservedNames {
        let skeletons = names
            .into_iter()
            .map(crate::skeleton_key)
            .filter(|s| !s.is_empty())
            .collect();
        ReservedNames { skeletons }
    }

    /// Whether `name` is, or looks like, a reserved name.
    pub fn is_reserved(&self, name: &DisplayName) -> bool {
        self.skeletons.contains(&name.skeleton_key())
    }

    /// Whether a skeleton made by [`crate::skeleton_key`] is reserved, for callers that
    /// already hold one.
    pub fn contains_skeleton(&self, skeleton: &str) -> bool {
        self.skeletons.contains(skeleton)
    }

    /// How many distinct skeletons are reserved.
    pub fn len(&self) -> usize {
        self.skeletons.len()
    }

    /// Whether nothing is reserved.
    pub fn is_empty(&self) -> bool {
        self.skeletons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserved(names: &ReservedNames, input: &str) -> bool {
        match DisplayName::parse(input) {
            Ok(name) => names.is_reserved(&name),
            Err(e) => panic!("{input:?} is not a valid display name: {e}"),
        }
    }

    #[test]
    fn defaults_and_their_look_alikes_are_reserved() {
        let names = ReservedNames::with_defaults(&[]);
        for input in [
            "admin",
            "ADMIN",
            "Admin",
            "\u{0410}dmin",         // Cyrillic capital А
            "\u{0430}dmin",         // Cyrillic small а
            "adm\u{0456}n",         // Cyrillic і
            "Ａｄｍｉｎ",           // fullwidth
            "  admin  ",            // padding is trimmed
            "adrnin",               // "rn" reads as "m"
            "M\u{041E}D",           // Cyrillic О
            "\u{0455}\u{0443}stem", // Cyrillic ѕ and у
            "r\u{03BF}\u{03BF}t",   // Greek ο
            "SUPP\u{041E}RT",       // Cyrillic О among Latin capitals
            "\u{0455}taff",         // Cyrillic ѕ
            "\u{FF53}erver",        // fullwidth s
        ] {
            assert!(reserved(&names, input), "{input:?} should be reserved");
        }
    }

    #[test]
    fn skeletons_fold_digits_only_as_uts39_says() {
        let names = ReservedNames::with_defaults(&[]);
        // confusables.txt maps the digit 1 to "l", not to "i", so "adm1n" is a
        // different skeleton from "admin"; "r00t" maps 0 to "O", which is not "o".
        assert_eq!(skeleton("1"), skeleton("l"));
        assert!(!reserved(&names, "adm1n"));
        assert_ne!(skeleton("0"), skeleton("o"));
    }

    fn skeleton(s: &str) -> String {
        crate::skeleton_key(s)
    }

    #[test]
    fn ordinary_names_are_not_reserved() {
        let names = ReservedNames::with_defaults(&[]);
        for input in [
            "Alice",
            "administrators",
            "admin2",
            "Moderation",
            "systems",
            "mods",
        ] {
            assert!(!reserved(&names, input), "{input:?} should be free");
        }
    }

    #[test]
    fn extra_names_are_reserved_with_their_look_alikes() {
        let names = ReservedNames::with_defaults(&["Game Master".to_owned(), "  ".to_owned()]);
        assert_eq!(names.len(), DEFAULT_RESERVED.len() + 1);
        assert!(reserved(&names, "game  master"));
        assert!(reserved(&names, "G\u{0430}me\u{00A0}Master"));
        assert!(!reserved(&names, "Game Masters"));
        assert!(
            !ReservedNames::with_defaults(&[])
                .is_reserved(&DisplayName::parse("Game Master").unwrap())
        );
    }

    #[test]
    fn an_empty_set_reserves_nothing() {
        let names = ReservedNames::new([]);
        assert!(names.is_empty());
        assert!(!reserved(&names, "admin"));
    }
}
