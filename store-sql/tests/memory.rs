//! The store contract against the core's in-memory store: the reference the SQL stores are held
//! to.

mod contract;

use endpoint_auth::MemoryStore;

async fn open(_test: &str) -> Option<(MemoryStore, ())> {
    Some((MemoryStore::new(), ()))
}

contract::contract_tests!(open);

/// The reference for the SQL stores' freshness tests: a change is seen by the next lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_another_handle_are_seen_by_the_next_find() {
    let store = MemoryStore::new();
    contract::changes_elsewhere_are_seen_by_the_next_find(store.clone(), store).await;
}
