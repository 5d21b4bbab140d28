//! End-to-end tests: real PostgreSQL, the tansu broker, Thoth's own Python library and the
//! `investigator` binary. Run them with `scripts/test.sh`.

mod api;
mod api_cache;
mod api_contract;
mod api_thamos;
mod archive;
mod dashboards;
mod deploy_manifests;
mod emit;
mod event_log;
mod fake_kube;
mod harness;
mod kafka_security;
mod knowledge_graph;
mod learning;
mod lease;
mod migrations;
mod pipeline;
mod pooler;
mod private_postgres;
mod replay;
mod replicas;
mod security;
mod settings;
mod standby;
mod statements;
mod sync;
mod telemetry;
mod thoth_interop;
mod topics;
mod workflows;
