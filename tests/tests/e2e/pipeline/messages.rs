//! Thoth messages for the pipeline tests, built from JSON the way producers write them.

use investigator_events::thoth::{MessageKind, ThothMessage};
use serde_json::{Value, json};

/// A message of `kind` with `fields` (plus the header fields every message has).
pub fn message(kind: MessageKind, fields: Value) -> ThothMessage {
    let mut object = json!({"component_name": "investigator-tests", "service_version": "0.1.0"});
    if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
        object.extend(fields);
    }
    let bytes = serde_json::to_vec(&object).expect("JSON");
    ThothMessage::decode(kind, &bytes).unwrap_or_else(|error| panic!("test message {kind} is invalid: {error}"))
}

pub const PYPI: &str = "https://pypi.org/simple";

pub fn unresolved(name: &str, version: &str, index: &str) -> ThothMessage {
    message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": name, "package_version": version, "index_url": index, "solver": null}),
    )
}

pub fn released(name: &str, version: &str) -> ThothMessage {
    message(MessageKind::PackageReleased, json!({"package_name": name, "package_version": version, "index_url": PYPI}))
}

pub fn unrevsolved(name: &str, version: &str) -> ThothMessage {
    message(MessageKind::UnrevsolvedPackage, json!({"package_name": name, "package_version": version}))
}

pub fn missing_version(name: &str, version: &str) -> ThothMessage {
    message(MessageKind::MissingVersion, json!({"package_name": name, "package_version": version, "index_url": PYPI}))
}

pub fn solved(name: &str, version: &str, solver: &str) -> ThothMessage {
    message(
        MessageKind::SolvedPackage,
        json!({"package_name": name, "package_version": version, "index_url": PYPI, "solver": solver}),
    )
}

pub fn adviser_trigger(job_id: &str) -> ThothMessage {
    message(
        MessageKind::AdviserTrigger,
        json!({
            "recommendation_type": "stable", "dev": false, "debug": false, "authenticated": true,
            "count": 1, "limit": null, "origin": "https://github.com/thoth-station/example", "job_id": job_id,
            "limit_latest_versions": null, "re_run_adviser_id": null, "source_type": "KEBECHET",
            "kebechet_metadata": null, "justification": null, "stack_info": null
        }),
    )
}

pub fn kebechet_run_url(job_id: &str) -> ThothMessage {
    message(
        MessageKind::KebechetRunUrlTrigger,
        json!({
            "url": "https://github.com/thoth-station/example", "service_name": "github", "installation_id": null,
            "job_id": job_id,
            "metadata": {"message_justification": 5, "package_name": "numpy", "package_version": "1.26.0",
                         "package_index": PYPI}
        }),
    )
}

pub fn source_distro(name: &str, version: &str, value: bool) -> ThothMessage {
    message(
        MessageKind::UpdateProvidesSourceDistro,
        json!({"package_name": name, "package_version": version, "index_url": PYPI, "value": value}),
    )
}

/// An unresolved package with `package_version: null`: every version on the index.
pub fn unresolved_every_version(name: &str, index: &str) -> ThothMessage {
    message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": name, "package_version": null, "index_url": index, "solver": null}),
    )
}
