//! Shared state every handler gets: store, clock, config. Cheap to clone.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::storage::Store;

/// Handler state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub config: Arc<Config>,
}
