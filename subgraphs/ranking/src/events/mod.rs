//! What `ranking` hears: JetStream consumers of other subgraphs' events.
