//! Bearer tokens on head's routes: the shared extractor, fed with head's [`Trust`].

use std::sync::Arc;

use axum::extract::FromRef;
use guildhall_tokens::sync::Trust;

pub use guildhall_http::{Bearer, MaybeBearer};

use crate::Head;

impl FromRef<Head> for Arc<Trust> {
    fn from_ref(head: &Head) -> Self {
        head.trust.clone()
    }
}
