//! The nine SRD races, with the traits the derived stats need.
//!
//! Source: SRD 5.1, "Races", each race's "Size" and "Speed" traits. Only traits that
//! change a derived stat are here: speed, size (Small creatures have disadvantage with
//! heavy weapons) and the dwarf's "Your speed is not reduced by wearing heavy armor".
//! Ability score increases, darkvision, resistances and the subrace traits are not
//! modelled yet; see the crate documentation.

use serde::{Deserialize, Serialize};

/// A playable race. JSON ids are snake_case: `"half_elf"`, `"half_orc"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Race {
    /// Dragonborn: Medium, 30 ft.
    Dragonborn,
    /// Dwarf: Medium, 25 ft, not slowed by heavy armor.
    Dwarf,
    /// Elf: Medium, 30 ft.
    Elf,
    /// Gnome: Small, 25 ft.
    Gnome,
    /// Half-elf: Medium, 30 ft.
    HalfElf,
    /// Half-orc: Medium, 30 ft.
    HalfOrc,
    /// Halfling: Small, 25 ft.
    Halfling,
    /// Human: Medium, 30 ft.
    Human,
    /// Tiefling: Medium, 30 ft.
    Tiefling,
}

/// A creature's size category, as far as playable races go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Gnomes and halflings.
    Small,
    /// Everyone else.
    Medium,
}

impl Race {
    /// All nine, in JSON-id order.
    pub const ALL: [Race; 9] = [
        Race::Dragonborn,
        Race::Dwarf,
        Race::Elf,
        Race::Gnome,
        Race::HalfElf,
        Race::HalfOrc,
        Race::Halfling,
        Race::Human,
        Race::Tiefling,
    ];

    /// The JSON id, e.g. `"half_orc"`.
    pub fn id(self) -> &'static str {
        match self {
            Race::Dragonborn => "dragonborn",
            Race::Dwarf => "dwarf",
            Race::Elf => "elf",
            Race::Gnome => "gnome",
            Race::HalfElf => "half_elf",
            Race::HalfOrc => "half_orc",
            Race::Halfling => "halfling",
            Race::Human => "human",
            Race::Tiefling => "tiefling",
        }
    }

    /// Base walking speed in feet.
    pub fn base_speed(self) -> i32 {
        match self {
            Race::Dwarf | Race::Gnome | Race::Halfling => 25,
            _ => 30,
        }
    }

    /// Size category.
    pub fn size(self) -> Size {
        match self {
            Race::Gnome | Race::Halfling => Size::Small,
            _ => Size::Medium,
        }
    }

    /// Whether heavy armor worn without its Strength requirement slows this race. Dwarves
    /// are the exception (SRD 5.1 Dwarf, "Speed").
    pub fn slowed_by_heavy_armor(self) -> bool {
        self != Race::Dwarf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serde_names() {
        for race in Race::ALL {
            let json = serde_json::to_value(race).unwrap();
            assert_eq!(json, race.id());
            let back: Race = serde_json::from_value(json).unwrap();
            assert_eq!(back, race);
        }
    }

    #[test]
    fn unknown_race_is_a_serde_error() {
        let err = serde_json::from_str::<Race>("\"orc\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant `orc`"), "{err}");
    }
}
