//! The SRD armor table and the shield.
//!
//! Source: SRD 5.1, "Equipment → Armor and Shields" and its Armor table: light armor adds
//! the full Dexterity modifier, medium armor at most +2, heavy armor none; chain mail
//! needs Strength 13, splint and plate 15, or the wearer's speed drops by 10 feet; the
//! "Stealth: Disadvantage" column; a shield adds 2. Cost and weight are not needed by any
//! derived stat and are left out.

use serde::{Deserialize, Serialize};

/// A suit of armor. JSON ids are snake_case: `"studded_leather"`, `"chain_mail"`,
/// `"half_plate"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Armor {
    /// Light: 11 + Dex, stealth disadvantage.
    Padded,
    /// Light: 11 + Dex.
    Leather,
    /// Light: 12 + Dex.
    StuddedLeather,
    /// Medium: 12 + Dex (max 2).
    Hide,
    /// Medium: 13 + Dex (max 2).
    ChainShirt,
    /// Medium: 14 + Dex (max 2), stealth disadvantage.
    ScaleMail,
    /// Medium: 14 + Dex (max 2).
    Breastplate,
    /// Medium: 15 + Dex (max 2), stealth disadvantage.
    HalfPlate,
    /// Heavy: 14, stealth disadvantage.
    RingMail,
    /// Heavy: 16, Str 13, stealth disadvantage.
    ChainMail,
    /// Heavy: 17, Str 15, stealth disadvantage.
    Splint,
    /// Heavy: 18, Str 15, stealth disadvantage.
    Plate,
}

/// Light, medium or heavy; decides how much Dexterity counts and who is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmorCategory {
    /// Full Dexterity modifier.
    Light,
    /// Dexterity modifier up to +2.
    Medium,
    /// No Dexterity modifier.
    Heavy,
}

/// One row of the armor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ArmorStats {
    /// Light, medium or heavy.
    pub category: ArmorCategory,
    /// The armor class before Dexterity.
    pub base_ac: i32,
    /// The Strength score below which the wearer is slowed by 10 feet, if any.
    pub strength: Option<u8>,
    /// Whether the armor imposes disadvantage on Dexterity (Stealth) checks.
    pub stealth_disadvantage: bool,
}

impl ArmorStats {
    /// How much of a Dexterity modifier this armor lets count: all of it, at most +2, or
    /// none. A negative modifier counts in full for light and medium armor.
    pub fn dex_contribution(&self, dex_modifier: i32) -> i32 {
        match self.category {
            ArmorCategory::Light => dex_modifier,
            ArmorCategory::Medium => dex_modifier.min(MEDIUM_ARMOR_DEX_CAP),
            ArmorCategory::Heavy => 0,
        }
    }
}

/// The largest Dexterity modifier medium armor adds.
pub const MEDIUM_ARMOR_DEX_CAP: i32 = 2;
/// What a shield adds to armor class.
pub const SHIELD_AC_BONUS: i32 = 2;
/// Feet of speed lost in heavy armor without its Strength requirement.
pub const HEAVY_ARMOR_SPEED_PENALTY: i32 = 10;

const fn row(
    category: ArmorCategory,
    base_ac: i32,
    strength: Option<u8>,
    stealth_disadvantage: bool,
) -> ArmorStats {
    ArmorStats {
        category,
        base_ac,
        strength,
        stealth_disadvantage,
    }
}

impl Armor {
    /// All twelve, in the table's order (light to heavy).
    pub const ALL: [Armor; 12] = [
        Armor::Padded,
        Armor::Leather,
        Armor::StuddedLeather,
        Armor::Hide,
        Armor::ChainShirt,
        Armor::ScaleMail,
        Armor::Breastplate,
        Armor::HalfPlate,
        Armor::RingMail,
        Armor::ChainMail,
        Armor::Splint,
        Armor::Plate,
    ];

    /// The JSON id, e.g. `"chain_mail"`.
    pub fn id(self) -> &'static str {
        match self {
            Armor::Padded => "padded",
            Armor::Leather => "leather",
            Armor::StuddedLeather => "studded_leather",
            Armor::Hide => "hide",
            Armor::ChainShirt => "chain_shirt",
            Armor::ScaleMail => "scale_mail",
            Armor::Breastplate => "breastplate",
            Armor::HalfPlate => "half_plate",
            Armor::RingMail => "ring_mail",
            Armor::ChainMail => "chain_mail",
            Armor::Splint => "splint",
            Armor::Plate => "plate",
        }
    }

    /// This armor's row of the table.
    pub fn stats(self) -> ArmorStats {
        use ArmorCategory::*;
        match self {
            Armor::Padded => row(Light, 11, None, true),
            Armor::Leather => row(Light, 11, None, false),
            Armor::StuddedLeather => row(Light, 12, None, false),
            Armor::Hide => row(Medium, 12, None, false),
            Armor::ChainShirt => row(Medium, 13, None, false),
            Armor::ScaleMail => row(Medium, 14, None, true),
            Armor::Breastplate => row(Medium, 14, None, false),
            Armor::HalfPlate => row(Medium, 15, None, true),
            Armor::RingMail => row(Heavy, 14, None, true),
            Armor::ChainMail => row(Heavy, 16, Some(13), true),
            Armor::Splint => row(Heavy, 17, Some(15), true),
            Armor::Plate => row(Heavy, 18, Some(15), true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serde_names() {
        for armor in Armor::ALL {
            assert_eq!(serde_json::to_value(armor).unwrap(), armor.id());
        }
    }

    #[test]
    fn dex_contribution_by_category() {
        let leather = Armor::Leather.stats();
        let hide = Armor::Hide.stats();
        let plate = Armor::Plate.stats();
        assert_eq!(
            (leather.dex_contribution(4), leather.dex_contribution(-1)),
            (4, -1)
        );
        assert_eq!(
            (hide.dex_contribution(4), hide.dex_contribution(-1)),
            (2, -1)
        );
        assert_eq!(
            (plate.dex_contribution(4), plate.dex_contribution(-1)),
            (0, 0)
        );
    }
}
