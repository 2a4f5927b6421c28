//! The table's random stream: [`SplitMix64`] with its Fisher–Yates shuffle, shared with
//! every Guildhall game. Only deals draw from it, 39 values per deal, so its position is
//! part of the game state and is persisted with it.

pub use guildhall_rng::SplitMix64;
