//! The store contract against the core's in-memory store: the reference the SQL stores are held
//! to.

mod contract;

use endpoint_auth::MemoryStore;

async fn open(_test: &str) -> Option<(MemoryStore, ())> {
    Some((MemoryStore::new(), ()))
}

contract::contract_tests!(open);
