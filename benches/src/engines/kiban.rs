//! kiban's own decision: `decide(view, request, now)` on the world's view. Nothing is
//! prepared beyond the view itself; the view is the deployed form (the platform and the
//! national model hold exactly this), so there is no separate per-request variant.

use kiban_core::decide::decide;

use super::{Engine, EngineError};
use crate::corpus::{Corpus, World};

/// `kiban_core::decide::decide` over the world's view.
#[derive(Debug, Clone, Copy)]
pub struct Kiban<'a> {
    world: &'a World,
    corpus: &'a Corpus,
}

impl<'a> Kiban<'a> {
    /// The engine for `corpus` on `world`.
    pub fn new(world: &'a World, corpus: &'a Corpus) -> Kiban<'a> {
        Kiban { world, corpus }
    }
}

impl Engine for Kiban<'_> {
    fn name(&self) -> &'static str {
        "kiban"
    }

    #[inline]
    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let entry = self.corpus.entries.get(index).ok_or(EngineError::NoEntry {
            engine: "kiban",
            index,
        })?;
        Ok(decide(self.world.view(), &entry.request, entry.now).is_permit())
    }
}
